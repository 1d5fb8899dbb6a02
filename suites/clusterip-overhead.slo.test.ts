// SLO: what a ClusterIP costs over talking to the pod directly (seed 001, the kube-proxy
// acceleration experiment): connect latency and per-connection throughput through the
// Service VIP vs to the backend pod IPs, from the same clients, measured back to back.
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
    expectPass(record.judgeRatio(slo, { source: 'client', numerator: v, denominator: d, statistic: { kind: 'quantile', q: 0.5 }, notes: ['p50 client connect() through the ClusterIP over p50 to the pod IPs'] }));
  });

  test('throughput through the ClusterIP vs the pod IP', async ({ run, backend, loadgens, agent, record }) => {
    const slo = run.config.slos[SLI.clusterIpThroughputOverhead];
    // A B B A: drift in a shared machine's capacity (CPU frequency, neighbours) hits both paths alike
    const spec = { streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 500, intervalMs: 1000 };
    const d1 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
    const v1 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
    const v2 = await measureStreams(loadgens, agent, { ...spec, targets: [backend.vip] });
    const d2 = await measureStreams(loadgens, agent, { ...spec, targets: backend.direct });
    const direct = { streams: [...d1.streams, ...d2.streams] };
    const vip = { streams: [...v1.streams, ...v2.streams] };
    const rate = (s: { bytesReceived: number; seconds?: number }): number | undefined => (s.seconds ? s.bytesReceived / s.seconds : undefined);
    const d = values(direct.streams, rate);
    const v = values(vip.streams, rate);
    record.observe(SLI.throughput, { source: 'client', labels: { path: 'pod-ip' }, samples: d });
    record.observe(SLI.throughput, { source: 'client', labels: { path: 'cluster-ip' }, samples: v });
    expectPass(record.judgeRatio(slo, { source: 'client', numerator: v, denominator: d, statistic: { kind: 'mean' }, notes: ['mean per-connection throughput through the ClusterIP over the same to the pod IPs (client side: conntrack sees no VIP on the direct path)'] }));
  });
});
