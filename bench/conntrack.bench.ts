// Throughput of the conntrack pipeline on one core: line splitting → parser → FlowTracker.
// Input: NEW / UPDATE(FIN_WAIT) / DESTROY triples derived from recorded lines
// (test/fixtures/conntrack/events.txt, events.xml) with varying ids, ports and times,
// ~2,000 flows live at any moment. A block of 10,000 flows is built once and replayed in
// 64 KiB chunks (as a pipe delivers them) until >= 1,000,000 events have gone through; ids
// are reused across replays only after their DESTROY, as the kernel does.
//
//   npx tsx bench/conntrack.bench.ts
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineSplitter } from '../src/conntrack/lines.js';
import { ParseError } from '../src/conntrack/parse-error.js';
import { parseTextLine } from '../src/conntrack/parse-text.js';
import { parseXmlLine } from '../src/conntrack/parse-xml.js';
import { FlowTracker } from '../src/conntrack/tracker.js';
import type { ConntrackEvent, FlowRecord } from '../src/conntrack/types.js';

export interface ConntrackBenchResult {
  events: number;
  /**
   * CPU seconds (user + system) this process spent on the replay. The lab VM is shared, so
   * wall time measures the neighbours too; CPU time is the one-core cost we care about.
   */
  seconds: number;
  eventsPerSecond: number;
  peakRssMiB: number;
  /** wall-clock seconds of the same replay */
  wallSeconds: number;
}

const FIXTURES = fileURLToPath(new URL('../test/fixtures/conntrack/', import.meta.url));
const FLOWS_PER_BLOCK = 10_000;
const LIVE_WINDOW = 1_000;
const CHUNK = 64 * 1024;

export type Format = 'text' | 'xml';

/** The recorded NEW, FIN_WAIT and DESTROY lines of the first DNAT'd TCP flow (a DESTROY in
 * TIME_WAIT without an earlier closing UPDATE would count as a gap). */
function templates(format: Format): [string, string, string] {
  const file = format === 'text' ? 'events.txt' : 'events.xml';
  const lines = readFileSync(FIXTURES + file, 'utf8').split('\n');
  const id = format === 'text' ? 'id=1128957441' : '<id>1128957441</id>';
  const mine = lines.filter((l) => l.includes(id));
  const pick = (re: RegExp): string => {
    const l = mine.find((x) => re.test(x));
    if (l === undefined) throw new Error(`fixture ${file}: no line matching ${re}`);
    return l;
  };
  return format === 'text'
    ? [pick(/\[NEW\]/), pick(/ FIN_WAIT /), pick(/\[DESTROY\]/)]
    : [pick(/type="new"/), pick(/<state>FIN_WAIT</), pick(/type="destroy"/)];
}

function render(format: Format, tpl: string, flow: number, t: number): string {
  const port = 10_000 + (flow % 50_000);
  const id = 100_000_000 + flow * 7;
  const client = `10.0.${1 + (flow >> 16)}.${2 + (flow & 0xff) % 250}`;
  if (format === 'text') {
    const us = String(t % 1_000_000).padStart(6, '0');
    return tpl
      .replace(/^\[\d+\.\d+\]/, `[${1_795_259_978 + Math.floor(t / 1_000_000)}.${us}]`)
      .replaceAll('sport=39044', `sport=${port}`)
      .replaceAll('dport=39044', `dport=${port}`)
      .replaceAll('10.0.1.2', client)
      .replace('id=1128957441', `id=${id}`);
  }
  return tpl
    .replaceAll('<sport>39044</sport>', `<sport>${port}</sport>`)
    .replaceAll('<dport>39044</dport>', `<dport>${port}</dport>`)
    .replaceAll('10.0.1.2', client)
    .replace('<id>1128957441</id>', `<id>${id}</id>`)
    .replace(/<start>\d+<\/start>/, `<start>${1_795_259_978_000_000_000n + BigInt(t) * 1000n}</start>`)
    .replace(/<stop>\d+<\/stop>/, `<stop>${1_795_259_978_000_000_000n + BigInt(t + 900) * 1000n}</stop>`);
}

/** One self-contained block: every flow's NEW, UPDATE and DESTROY, interleaved. */
function buildBlock(format: Format): { buf: Buffer; events: number } {
  const [tNew, tUpd, tDel] = templates(format);
  const out: string[] = [];
  let t = 0;
  for (let s = 0; s < FLOWS_PER_BLOCK + 2 * LIVE_WINDOW; s++) {
    if (s < FLOWS_PER_BLOCK) out.push(render(format, tNew, s, t++));
    const u = s - LIVE_WINDOW;
    if (u >= 0 && u < FLOWS_PER_BLOCK) out.push(render(format, tUpd, u, t++));
    const d = s - 2 * LIVE_WINDOW;
    if (d >= 0 && d < FLOWS_PER_BLOCK) out.push(render(format, tDel, d, t++));
  }
  return { buf: Buffer.from(out.join('\n') + '\n'), events: out.length };
}

/**
 * Replays >= minEvents recorded-shape events through splitter → parser → FlowTracker;
 * `onRecord` sees every finished flow (the agent-memory bench feeds its FlowSink).
 */
export async function replayConntrack(
  format: Format,
  minEvents: number,
  onRecord?: (r: FlowRecord) => void,
): Promise<ConntrackBenchResult> {
  const block = buildBlock(format);
  const replays = Math.ceil(minEvents / block.events);
  let records = 0;
  let bytes = 0;
  const tracker = new FlowTracker({
    serviceCidrs: ['10.96.0.0/12'],
    onRecord: (r) => {
      records++;
      bytes += r.replyDir?.bytes ?? 0;
      onRecord?.(r);
    },
  });
  const parse: (l: string) => ConntrackEvent | ParseError | null = format === 'text' ? parseTextLine : parseXmlLine;
  let events = 0;
  const splitter = new LineSplitter((line) => {
    const r = parse(line);
    if (r === null) return;
    events++;
    if (r instanceof ParseError) tracker.pushParseError(r);
    else tracker.push(r);
  });
  let peak = process.memoryUsage.rss();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < replays; i++) {
    for (let off = 0; off < block.buf.length; off += CHUNK) {
      splitter.push(block.buf.subarray(off, Math.min(off + CHUNK, block.buf.length)));
    }
    if ((i & 7) === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  splitter.end();
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const seconds = (cpu.user + cpu.system) / 1e6;
  peak = Math.max(peak, process.memoryUsage.rss());
  const loss = tracker.loss();
  if (loss.malformed + loss.orphanEvents + loss.gaps > 0 || records !== replays * FLOWS_PER_BLOCK || bytes === 0) {
    throw new Error(`bench self-check failed: ${JSON.stringify(loss)} records=${records}`);
  }
  return {
    events,
    seconds,
    eventsPerSecond: Math.round(events / seconds),
    peakRssMiB: Math.round((peak / 1048576) * 10) / 10,
    wallSeconds,
  };
}

/** Text output (`-o timestamp,id,extended`), >= 1,000,000 events. */
export async function benchConntrack(): Promise<ConntrackBenchResult> {
  await replayConntrack('text', 100_000); // warm-up (JIT)
  return replayConntrack('text', 1_000_000);
}

/** XML output (`-o xml,timestamp,id,ktimestamp`), >= 1,000,000 events. */
export async function benchConntrackXml(): Promise<ConntrackBenchResult> {
  await replayConntrack('xml', 100_000);
  return replayConntrack('xml', 1_000_000);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('text', await benchConntrack());
  console.log('xml ', await benchConntrackXml());
}
