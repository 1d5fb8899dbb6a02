// SLO: the last of N Services is no slower to reach than the first (seed 002: with
// iptables, rules are searched in order). Both point at the same backend pods; latency
// from boundary capture (client connect() when the VIP is not on the wire), throughput of
// long connections recorded beside it.
import { caveat, definition } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureConnections, measureStreams, values } from '../fixtures/measure.js';

test('first vs last of N Services', async ({ run, services, loadgens, agent, backend, record }) => {
  const n = Math.max(...run.config.workload.services);
  await services.scaleTo(n);
  const ips = await services.clusterIps();
  const port = 80;
  const first = { host: ips[0]!, port };
  const last = { host: ips.at(-1)!, port };
  const spec = { connections: run.config.workload.connPerClient, concurrency: run.config.workload.clientConcurrency };
  const a = await measureConnections(loadgens, agent, { ...spec, targets: [first] });
  const b = await measureConnections(loadgens, agent, { ...spec, targets: [last] });
  const onWire = a.collected.vipSeenOnWire && b.collected.vipSeenOnWire;
  const lat = (m: typeof a): number[] => (onWire ? values(m.capture, (f) => f.firstPacketSeconds) : values(m.client, (c) => c.connectSeconds));
  record.observe(SLI.firstPacket, { source: onWire ? 'capture' : 'client', labels: { service: 'first', services: String(n) }, samples: lat(a) });
  record.observe(SLI.firstPacket, { source: onWire ? 'capture' : 'client', labels: { service: 'last', services: String(n) }, samples: lat(b) });
  const streams = { streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 500, intervalMs: 1000 };
  const ta = await measureStreams(loadgens, agent, { ...streams, targets: [first] });
  const tb = await measureStreams(loadgens, agent, { ...streams, targets: [last] });
  record.observe(SLI.throughput, { source: 'conntrack', labels: { service: 'first', services: String(n) }, samples: values(ta.conntrack, (f) => f.throughputBytesPerSecond) });
  record.observe(SLI.throughput, { source: 'conntrack', labels: { service: 'last', services: String(n) }, samples: values(tb.conntrack, (f) => f.throughputBytesPerSecond) });
  expectPass(
    record.judgeRatio(run.config.slos[SLI.lastServiceLatency], {
      source: onWire ? 'capture' : 'client',
      labels: { services: String(n) },
      numerator: lat(b),
      denominator: lat(a),
      statistic: { kind: 'quantile', q: 0.5 },
      notes: [definition(`p50 to the last-created of ${n} Services over p50 to the first-created; ${backend.podIps.length} backend pods behind both`), caveat('kube-proxy iptables orders its Service rules by its own map iteration, not creation order: "first/last" is by creation')],
    }),
  );
});
