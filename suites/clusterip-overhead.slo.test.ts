// SLO: what a ClusterIP costs over talking to the pod directly (seed 001, the kube-proxy
// acceleration experiment): connect latency and per-connection throughput through the
// Service VIP vs to the backend pod IPs, from the same clients, measured back to back.
import { definition } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureConnections, measureStreams, values } from '../fixtures/measure.js';

test.describe('ClusterIP overhead', () => {
  test('connect latency through the ClusterIP vs the pod IP', async ({ run, backend, loadgens, agent, record }) => {
    const slo = run.config.slos[SLI.clusterIpConnectOverhead];
    const spec = { connections: run.config.workload.connPerClient, concurrency: run.config.workload.clientConcurrency };
    const direct = await measureConnections(loadgens, agent, { ...spec, targets: backend.direct });
    const vip = await measureConnections(loadgens, agent, { ...spec, targets: [backend.vip] });
    const d = values(direct.client, (c) => c.connectSeconds);
    const v = values(vip.client, (c) => c.connectSeconds);
    record.observe('connect_latency_seconds', { source: 'client', labels: { path: 'pod-ip' }, samples: d });
    record.observe('connect_latency_seconds', { source: 'client', labels: { path: 'cluster-ip' }, samples: v });
    expectPass(record.judgeRatio(slo, { source: 'client', numerator: v, denominator: d, statistic: { kind: 'quantile', q: 0.5 }, notes: [definition('p50 client connect() through the ClusterIP over p50 to the pod IPs')] }));
  });

  test('throughput through the ClusterIP vs the pod IP', async ({ run, backend, loadgens, agent, record }) => {
    const slo = run.config.slos[SLI.clusterIpThroughputOverhead];
    // A B B A: drift in a shared machine's capacity (CPU frequency, neighbours) hits both paths alike
    const spec = { streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 500, intervalMs: 250 };
    const d1 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
    const v1 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
    const v2 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
    const d2 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
    // the path's capacity per interval: all streams summed (each run on its own grid),
    // the first interval (ramp-up) and the last (cut short) left out
    const totals = (m: typeof d1): number[] => {
      const sum: number[] = [];
      for (const st of m.streams) st.intervals.forEach((b, i) => (sum[i] = (sum[i] ?? 0) + b));
      return sum.slice(1, -1).map((b) => b / (spec.intervalMs / 1000));
    };
    const d = [...totals(d1), ...totals(d2)];
    const v = [...totals(v1), ...totals(v2)];
    record.observe('path_throughput_bytes_per_second', { source: 'client', labels: { path: 'pod-ip' }, samples: d });
    record.observe('path_throughput_bytes_per_second', { source: 'client', labels: { path: 'cluster-ip' }, samples: v });
    expectPass(record.judgeRatio(slo, { source: 'client', numerator: v, denominator: d, statistic: { kind: 'mean' }, notes: [definition('mean throughput of all streams per interval through the ClusterIP over the same to the pod IPs, A B B A (client side: conntrack sees no VIP on the direct path)')] }));
  });
});
