// Where the agent's finished flows go: Prometheus histograms and counters, mergeable
// LatencyHistograms for exact cross-node aggregation, and (in records mode) the bounded
// flow buffer. In histogram mode nothing per flow is kept, so memory is flat however many
// flows pass.
import type { CaptureConnection } from '../capture/types.js';
import type { CaptureUdpExchange } from '../capture/udp-tracker.js';
import type { FlowRecord } from '../conntrack/types.js';
import { LatencyHistogram } from '../sli/histogram.js';
import { FlowBuffer } from './flow-buffer.js';
import type { AgentMetrics } from './metrics.js';
import { captureFlowJson, captureUdpFlowJson, conntrackFlowJson, type FlowJson } from './records.js';

export type SinkMode = 'records' | 'histogram';

export const HISTOGRAM_NAMES = [
  'capture_first_packet_latency_seconds',
  'capture_connection_total_latency_seconds',
  'conntrack_first_packet_latency_seconds',
  'conntrack_connection_total_latency_seconds',
  'conntrack_connection_throughput_bytes_per_second',
] as const;
export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

export class FlowSink {
  readonly buffer: FlowBuffer<FlowJson>;
  readonly counts = { capture: 0, conntrack: 0, captureUdp: 0 };
  readonly histograms = Object.fromEntries(HISTOGRAM_NAMES.map((n) => [n, new LatencyHistogram()])) as Record<
    HistogramName,
    LatencyHistogram
  >;

  constructor(
    private readonly metrics: AgentMetrics,
    readonly mode: SinkMode,
    bufferCapacity = 500_000,
  ) {
    this.buffer = new FlowBuffer<FlowJson>(mode === 'records' ? bufferCapacity : 1);
  }

  capture(c: CaptureConnection): void {
    this.counts.capture++;
    this.metrics.flows.inc({ source: 'capture' });
    const rec = captureFlowJson(c);
    if (rec.firstPacketSeconds !== undefined) {
      this.metrics.firstPacket.observe({ source: 'capture' }, rec.firstPacketSeconds);
      this.histograms.capture_first_packet_latency_seconds.record(rec.firstPacketSeconds);
    }
    if (rec.totalSeconds !== undefined) {
      this.metrics.totalLatency.observe({ source: 'capture' }, rec.totalSeconds);
      this.histograms.capture_connection_total_latency_seconds.record(rec.totalSeconds);
    }
    if (this.mode === 'records') this.buffer.push(rec);
  }

  /** UDP exchanges go to the flow records only (the histograms above are TCP's) */
  captureUdp(e: CaptureUdpExchange): void {
    this.counts.captureUdp++;
    if (this.mode === 'records') this.buffer.push(captureUdpFlowJson(e));
  }

  conntrack(r: FlowRecord): void {
    this.counts.conntrack++;
    this.metrics.flows.inc({ source: 'conntrack' });
    const rec = conntrackFlowJson(r);
    // the histograms hold TCP connections; UDP exchanges are in the flow records
    if (rec.proto !== 'tcp') {
      if (this.mode === 'records') this.buffer.push(rec);
      return;
    }
    if (rec.firstPacketSeconds !== undefined) {
      this.metrics.firstPacket.observe({ source: 'conntrack' }, rec.firstPacketSeconds);
      this.histograms.conntrack_first_packet_latency_seconds.record(rec.firstPacketSeconds);
    }
    if (rec.totalSeconds !== undefined) {
      this.metrics.totalLatency.observe({ source: 'conntrack' }, rec.totalSeconds);
      this.histograms.conntrack_connection_total_latency_seconds.record(rec.totalSeconds);
    }
    if (rec.throughputBytesPerSecond !== undefined) {
      this.metrics.throughput.observe(rec.throughputBytesPerSecond);
      // LatencyHistogram is unit-agnostic: bytes/s go in and come out as the same numbers
      this.histograms.conntrack_connection_throughput_bytes_per_second.record(rec.throughputBytesPerSecond);
    }
    if (this.mode === 'records') this.buffer.push(rec);
  }

  encodedHistograms(): Record<HistogramName, string> {
    return Object.fromEntries(HISTOGRAM_NAMES.map((n) => [n, this.histograms[n].encode()])) as Record<HistogramName, string>;
  }
}
