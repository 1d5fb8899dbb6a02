// SLI connection_throughput_bytes_per_second (kubernetes/community sig-scalability/slos
// throughput.md; the fairness view of the KubeCon NA 2024 talk "From Observability to
// Performance"): CLIENTS concurrent long connections through one Service. Per-connection
// throughput from conntrack byte counters (nf_conntrack_acct) over the connection's
// lifetime; the profile judges Jain's index and p10/p50 over the connections. The
// clients' bytes/time are recorded beside it; stream connections that failed are judged
// as failed_connections_ratio. Each address family of the run is measured in turn, its
// own series (label `family` unless the run is the default IPv4).
import { familyLabel, SLI, type Backend, type IpFamilyName, type Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { countConnections, measureStreams, values, waitTargetsProgrammed } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

const INTERVAL_MS = 1000;

type Scene = { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet };

export async function measureThroughputFairness(scene: Scene, record: Recorder): Promise<Judged[]> {
  const judged: Judged[] = [];
  for (const family of scene.backend.families) judged.push(...(await measureFamily(scene, record, family)));
  return judged;
}

async function measureFamily(scene: Scene, record: Recorder, family: IpFamilyName): Promise<Judged[]> {
  const { run, loadgens, agent } = scene;
  const backend = scene.backend.of(family);
  const labels = familyLabel(run, family);
  const targets = [backend.vip];
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, targets, loadgens.length);
  const m = await measureStreams(loadgens, agent, { targets, streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 1000, intervalMs: INTERVAL_MS });
  record.observe(SLI.throughput, { source: 'client', labels, samples: values(m.streams, (s) => (s.seconds ? s.bytesReceived / s.seconds : undefined)) });
  return [
    record.judge(run.config.slos[SLI.throughput], { source: 'conntrack', labels, samples: values(m.conntrack, (f) => f.throughputBytesPerSecond), notes: [...programmed, ...m.notes] }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], countConnections(m), { measurement: 'throughput', ...labels }),
  ];
}
