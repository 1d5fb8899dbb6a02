// SLI connection_throughput_bytes_per_second (kubernetes/community sig-scalability/slos
// throughput.md; the fairness view of the KubeCon NA 2024 talk "From Observability to
// Performance"): CLIENTS concurrent long connections through one Service. Per-connection
// throughput from conntrack byte counters (nf_conntrack_acct) over the connection's
// lifetime; the profile judges Jain's index and p10/p50 over the connections. The
// clients' bytes/time are recorded beside it; stream connections that failed are judged
// as failed_connections_ratio.
import { SLI, type Backend, type Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { countConnections, measureStreams, values, waitTargetsProgrammed } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

const INTERVAL_MS = 1000;

export async function measureThroughputFairness(scene: { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder): Promise<Judged[]> {
  const { run, backend, loadgens, agent } = scene;
  const targets = [backend.vip];
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, targets, loadgens.length);
  const m = await measureStreams(loadgens, agent, { targets, streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 1000, intervalMs: INTERVAL_MS });
  record.observe(SLI.throughput, { source: 'client', samples: values(m.streams, (s) => (s.seconds ? s.bytesReceived / s.seconds : undefined)) });
  return [
    record.judge(run.config.slos[SLI.throughput], { source: 'conntrack', samples: values(m.conntrack, (f) => f.throughputBytesPerSecond), notes: [...programmed, ...m.notes] }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], countConnections(m), { measurement: 'throughput' }),
  ];
}
