// pcap bytes → records → TCP headers → BoundaryTracker, as one object, plus a one-shot
// helper for files and buffers.
import { type Cidr, parseCidr } from '../net/cidr.js';
import { type PcapFormatError, type PcapHeader, PcapReader, type PcapReaderOptions } from './pcap.js';
import { BoundaryTracker, type BoundaryTrackerOptions } from './tracker.js';
import type { BoundaryCaptureStats, CaptureConnection } from './types.js';

export interface CapturePipelineOptions extends BoundaryTrackerOptions, PcapReaderOptions {}

export class CapturePipeline {
  readonly reader: PcapReader;
  readonly tracker: BoundaryTracker;

  constructor(serviceCidrs: readonly (Cidr | string)[], options: CapturePipelineOptions = {}) {
    const cidrs = serviceCidrs.map((c) => (typeof c === 'string' ? parseCidr(c) : c));
    this.tracker = new BoundaryTracker(cidrs, options);
    const tracker = this.tracker;
    this.reader = new PcapReader((rec) => tracker.observeRecord(rec), options);
  }

  /** Feed bytes; false once the stream failed fatally (see `error`). Never throws on bad input. */
  push(chunk: Uint8Array): boolean {
    return this.reader.push(chunk);
  }

  /** End of input: counts a truncated last record and flushes still-open connections. */
  end(): void {
    this.reader.end();
    this.tracker.flush();
  }

  get error(): PcapFormatError | undefined {
    return this.reader.error;
  }

  get header(): PcapHeader | undefined {
    return this.reader.header;
  }

  /** a snapshot of reader + tracker counters */
  get stats(): BoundaryCaptureStats {
    const r = this.reader.stats;
    const t = this.tracker.stats;
    return {
      ...t,
      malformed: t.malformed + r.malformed,
      skippedBytes: r.skippedBytes,
      truncatedAtEnd: r.truncatedAtEnd,
    };
  }
}

export interface AnalyzeResult {
  connections: CaptureConnection[];
  stats: BoundaryCaptureStats;
  header?: PcapHeader;
  /** set when the stream was unusable (bad magic, unsupported link type, …) */
  error?: PcapFormatError;
}

/**
 * Run a whole pcap (buffer, chunk iterable or Readable) through the pipeline. Bad input
 * is reported in `error`/`stats`, never thrown; errors of the source itself propagate.
 */
export async function analyzePcap(
  source: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  serviceCidrs: readonly (Cidr | string)[],
  options: CapturePipelineOptions = {},
): Promise<AnalyzeResult> {
  const connections: CaptureConnection[] = [];
  const userCallback = options.onConnection;
  const pipeline = new CapturePipeline(serviceCidrs, {
    ...options,
    onConnection: (c) => {
      connections.push(c);
      userCallback?.(c);
    },
  });
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = source instanceof Uint8Array ? [source] : source;
  for await (const chunk of chunks) {
    if (!pipeline.push(chunk)) break;
  }
  pipeline.end();
  const result: AnalyzeResult = { connections, stats: pipeline.stats };
  if (pipeline.header) result.header = pipeline.header;
  if (pipeline.error) result.error = pipeline.error;
  return result;
}
