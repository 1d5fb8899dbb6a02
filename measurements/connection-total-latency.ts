// SLI connection_total_latency_seconds: SYN → the first FIN or RST of a short
// request/response connection through a ClusterIP, from boundary capture (the client's
// own total time when no SYN toward the VIP crosses the wire; the source is declared).
// The clients' total time and conntrack are recorded beside it, and the connections'
// failures are judged as failed_connections_ratio. Each address family of the run is
// measured in turn, its own series (label `family` unless the run is the default IPv4).
import { familyLabel, SLI, type Backend, type IpFamilyName, type Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { countConnections, measureConnections, values, waitTargetsProgrammed } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

export async function measureTotalLatency(scene: { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder): Promise<Judged[]> {
  const judged: Judged[] = [];
  for (const family of scene.backend.families) judged.push(...(await measureFamily(scene, record, family)));
  return judged;
}

async function measureFamily(scene: { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder, family: IpFamilyName): Promise<Judged[]> {
  const { run, loadgens, agent } = scene;
  const backend = scene.backend.of(family);
  const labels = familyLabel(run, family);
  const targets = [backend.vip];
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, targets, loadgens.length);
  const m = await measureConnections(loadgens, agent, { targets, connections: run.config.workload.connPerClient, concurrency: run.config.workload.clientConcurrency });
  const client = values(m.client, (c) => c.totalSeconds);
  record.observe(SLI.totalLatency, { source: 'client', labels, samples: client });
  record.observe(SLI.totalLatency, { source: 'conntrack', labels, samples: values(m.conntrack, (f) => f.totalSeconds) });
  const onWire = m.collected.vipSeenOnWire;
  return [
    record.judge(run.config.slos[SLI.totalLatency], { source: onWire ? 'capture' : 'client', labels, samples: onWire ? values(m.capture, (f) => f.totalSeconds) : client, notes: [...programmed, ...m.notes] }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], countConnections(m), { measurement: 'total-latency', ...labels }),
  ];
}
