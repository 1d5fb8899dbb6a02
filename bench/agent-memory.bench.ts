// The agent's histogram mode keeps no per-flow state once a flow is finished: memory must
// stay flat as flows pile up. Replays conntrack events through parser → tracker → the
// agent's own FlowSink (histogram mode) in growing stages and reports RSS after each.
//
//   npx tsx bench/agent-memory.bench.ts
import { pathToFileURL } from 'node:url';
import { AgentMetrics } from '../src/agent/metrics.js';
import { FlowSink } from '../src/agent/sink.js';
import { replayConntrack } from './conntrack.bench.js';

export interface MemoryStage {
  flows: number;
  rssMiB: number;
  heapUsedMiB: number;
}

const EVENTS_PER_FLOW = 3;
const mib = (b: number): number => Math.round((b / 1048576) * 10) / 10;

export async function benchAgentMemory(stages = [250_000, 500_000, 1_000_000, 2_000_000]): Promise<MemoryStage[]> {
  const sink = new FlowSink(new AgentMetrics(), 'histogram');
  const out: MemoryStage[] = [];
  let done = 0;
  for (const target of stages) {
    await replayConntrack('text', (target - done) * EVENTS_PER_FLOW, (r) => sink.conntrack(r));
    done = sink.counts.conntrack;
    globalThis.gc?.();
    const m = process.memoryUsage();
    out.push({ flows: done, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) });
  }
  if (sink.histograms.conntrack_first_packet_latency_seconds.count !== done) {
    throw new Error('bench self-check failed: histogram count differs from flows');
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchAgentMemory());
}
