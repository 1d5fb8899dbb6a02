// SLI clusterip_connect_latency_ratio: what a ClusterIP costs over talking to the pod
// directly. The same clients connect to the backend's pod IPs and to its ClusterIP in the
// order A B B A (half the connections each time), so a drift of the machine during the
// measurement falls on both paths alike (back to back, the lab's real nodes on 2 vCPUs gave
// ratios from 0.5 to 2.5 for the same dataplane); p50 client connect() through the
// ClusterIP over p50 to the pod IPs (client side on both paths: the direct path has no VIP
// for capture to see). Failed connections of all runs are judged as failed_connections_ratio.
import { definition } from '../src/report/notes.js';
import { SLI, type Backend, type Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { addCounts, countConnections, measureConnections, values, waitTargetsProgrammed } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

export async function measureConnectOverhead(scene: { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder): Promise<Judged[]> {
  const { run, backend, loadgens, agent } = scene;
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, [backend.vip], loadgens.length);
  const spec = { connections: Math.ceil(run.config.workload.connPerClient / 2), concurrency: run.config.workload.clientConcurrency };
  const direct1 = await measureConnections(loadgens, agent, { ...spec, targets: backend.direct });
  const vip1 = await measureConnections(loadgens, agent, { ...spec, targets: [backend.vip] });
  const vip2 = await measureConnections(loadgens, agent, { ...spec, targets: [backend.vip] });
  const direct2 = await measureConnections(loadgens, agent, { ...spec, targets: backend.direct });
  const d = [...values(direct1.client, (c) => c.connectSeconds), ...values(direct2.client, (c) => c.connectSeconds)];
  const v = [...values(vip1.client, (c) => c.connectSeconds), ...values(vip2.client, (c) => c.connectSeconds)];
  record.observe('connect_latency_seconds', { source: 'client', labels: { path: 'pod-ip' }, samples: d });
  record.observe('connect_latency_seconds', { source: 'client', labels: { path: 'cluster-ip' }, samples: v });
  return [
    record.judgeRatio(run.config.slos[SLI.clusterIpConnectOverhead], { source: 'client', numerator: v, denominator: d, statistic: { kind: 'quantile', q: 0.5 }, notes: [definition('p50 client connect() through the ClusterIP over p50 to the pod IPs, measured A B B A'), ...programmed] }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], addCounts(...[direct1, vip1, vip2, direct2].map((m) => countConnections(m))), { measurement: 'clusterip-connect' }),
  ];
}
