// SLI clusterip_throughput_ratio: throughput through the ClusterIP over throughput to the
// pod IPs, from the same clients, A B B A so drift in a shared machine's capacity (CPU
// frequency, neighbours) hits both paths alike. The path's capacity per interval is all
// streams summed (each run on its own grid), without the first interval (ramp-up) and the
// last (cut short); the ratio is of the means (client side: conntrack sees no VIP on the
// direct path). Failed stream connections are judged as failed_connections_ratio.
import { definition } from '../src/report/notes.js';
import { SLI, type Backend, type Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { addCounts, countConnections, measureStreams, waitTargetsProgrammed, type StreamsMeasurement } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

const INTERVAL_MS = 250;

/** Bytes per second of the whole path per interval, ramp-up and cut-short intervals left out. */
export function pathTotals(m: Pick<StreamsMeasurement, 'streams'>, intervalMs: number): number[] {
  const sum: number[] = [];
  for (const st of m.streams) st.intervals.forEach((b, i) => (sum[i] = (sum[i] ?? 0) + b));
  return sum.slice(1, -1).map((b) => b / (intervalMs / 1000));
}

export async function measureThroughputOverhead(scene: { run: Run; backend: Backend; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder): Promise<Judged[]> {
  const { run, backend, loadgens, agent } = scene;
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, [backend.vip], loadgens.length);
  const spec = { streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 500, intervalMs: INTERVAL_MS };
  const d1 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
  const v1 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
  const v2 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
  const d2 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
  const d = [...pathTotals(d1, INTERVAL_MS), ...pathTotals(d2, INTERVAL_MS)];
  const v = [...pathTotals(v1, INTERVAL_MS), ...pathTotals(v2, INTERVAL_MS)];
  record.observe('path_throughput_bytes_per_second', { source: 'client', labels: { path: 'pod-ip' }, samples: d });
  record.observe('path_throughput_bytes_per_second', { source: 'client', labels: { path: 'cluster-ip' }, samples: v });
  return [
    record.judgeRatio(run.config.slos[SLI.clusterIpThroughputOverhead], { source: 'client', numerator: v, denominator: d, statistic: { kind: 'mean' }, notes: [definition('mean throughput of all streams per interval through the ClusterIP over the same to the pod IPs, A B B A'), ...programmed] }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], addCounts(...[d1, v1, v2, d2].map(countConnections)), { measurement: 'clusterip-throughput' }),
  ];
}
