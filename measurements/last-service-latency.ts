// SLI last_service_latency_ratio: the Service the dataplane reaches last is no slower
// than the one it reaches first. iptables searches the KUBE-SERVICES chain rule by rule,
// in an order of kube-proxy's choosing (not creation order), so the first and last
// Services are read from a node's rules through the agent (src/agent/dataplane.ts), before
// and after (a reordering voids the result), and measured: p50 first-packet latency to the last over p50 to the first, both from the same
// source (boundary capture, or the client's connect() when no SYN toward a VIP crosses
// the wire). nftables looks Services up in a map, where position costs nothing: there the
// two ends of the map's listing are measured and the note says so. Both Services point at
// the same backend pods; failed connections are judged as failed_connections_ratio, and
// long-connection throughput to each is recorded beside it.
import type { Labels } from '../src/report/index.js';
import type { DataplaneServices } from '../src/agent/dataplane.js';
import { SLI, type Backend, type Run, type ServiceScaler } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen, Target } from '../fixtures/loadgen.js';
import { addCounts, countConnections, firstPacketSamples, measureConnections, measureStreams, values } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

/** The first and last Services of the dataplane's listing that a client may connect to. */
export function dataplaneEnds(d: DataplaneServices, reachable: readonly Target[]): { first: Target; last: Target; firstIndex: number; lastIndex: number } | undefined {
  const ok = new Set(reachable.map((t) => `${t.host}:${t.port}`));
  const idx = d.services.flatMap((s, i) => (s.protocol === 'tcp' && ok.has(`${s.ip}:${s.port}`) ? [i] : []));
  if (idx.length < 2) return undefined;
  const at = (i: number): Target => ({ host: d.services[i]!.ip, port: d.services[i]!.port });
  return { first: at(idx[0]!), last: at(idx.at(-1)!), firstIndex: idx[0]!, lastIndex: idx.at(-1)! };
}

export async function measureLastService(scene: { run: Run; backend: Backend; services: ServiceScaler; loadgens: Loadgen[]; agent: AgentFleet }, record: Recorder): Promise<Judged[]> {
  const { run, backend, services, loadgens, agent } = scene;
  const slo = run.config.slos[SLI.lastServiceLatency];
  const n = Math.max(...run.config.workload.services);
  await services.scaleTo(n);
  const labels: Labels = { services: String(n) };
  const mode = run.target.facts.proxyMode;
  if (mode !== 'nftables' && mode !== 'iptables') {
    return [record.judgeRatio(slo, { source: 'none', labels, numerator: [], denominator: [], statistic: { kind: 'quantile', q: 0.5 }, invalid: `kube-proxy mode ${mode ?? 'unknown'}: the kit cannot read the dataplane's Service order` })];
  }
  const fill = await services.reachable();
  const reachable = [backend.vip, ...fill.targets];
  // every reachable Service in every node's rules, so the listing's ends are final
  await agent.waitProgrammed(reachable, mode);
  const node = agent.agents[0]!;
  const listing = await agent.dataplane(node, mode);
  const ends = dataplaneEnds(listing, reachable);
  if (!ends) {
    return [record.judgeRatio(slo, { source: 'none', labels, numerator: [], denominator: [], statistic: { kind: 'quantile', q: 0.5 }, invalid: `fewer than two Services a client may reach are in ${node.node}'s ${mode} rules${fill.note ? ` (${fill.note})` : ''}` })];
  }
  const where = `${mode} on ${node.node}: ${listing.ordered ? 'KUBE-SERVICES rule' : 'service-ips map element'} ${ends.firstIndex + 1} (${ends.first.host}) and ${ends.lastIndex + 1} (${ends.last.host}) of ${listing.services.length}`;
  const spec = { connections: run.config.workload.connPerClient, concurrency: run.config.workload.clientConcurrency };
  const a = await measureConnections(loadgens, agent, { ...spec, targets: [ends.first] });
  const b = await measureConnections(loadgens, agent, { ...spec, targets: [ends.last] });
  const fa = firstPacketSamples(a);
  const fb = firstPacketSamples(b);
  record.observe(SLI.firstPacket, { source: fa.source, labels: { ...labels, service: 'first' }, samples: fa.samples });
  record.observe(SLI.firstPacket, { source: fb.source, labels: { ...labels, service: 'last' }, samples: fb.samples });
  const streams = { streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 500, intervalMs: 1000 };
  const ta = await measureStreams(loadgens, agent, { ...streams, targets: [ends.first] });
  const tb = await measureStreams(loadgens, agent, { ...streams, targets: [ends.last] });
  record.observe(SLI.throughput, { source: 'conntrack', labels: { ...labels, service: 'first' }, samples: values(ta.conntrack, (f) => f.throughputBytesPerSecond) });
  record.observe(SLI.throughput, { source: 'conntrack', labels: { ...labels, service: 'last' }, samples: values(tb.conntrack, (f) => f.throughputBytesPerSecond) });
  // iptables rewrites KUBE-SERVICES in its own map order at each sync: the order must
  // still hold after the measurement, or the ends measured were not the ends
  const after = dataplaneEnds(await agent.dataplane(node, mode), reachable);
  const moved = after && (after.first.host !== ends.first.host || after.last.host !== ends.last.host) ? `the dataplane reordered its rules during the measurement (now ${after.first.host} first, ${after.last.host} last)` : undefined;
  const mixed = fa.source !== fb.source ? `the first Service's samples come from ${fa.source}, the last's from ${fb.source}: a ratio across sources compares two different clocks` : moved;
  return [
    record.judgeRatio(slo, {
      source: fb.source,
      labels,
      numerator: fb.samples,
      denominator: fa.samples,
      statistic: { kind: 'quantile', q: 0.5 },
      notes: [
        `p50 to the last over p50 to the first Service in the dataplane (${where}); ${services.backend.podNodes.length} scale backend pods behind both`,
        ...(listing.ordered ? [] : ['nftables looks Services up in a map: position costs nothing, these are the ends of the listing']),
        ...new Set([...a.notes, ...b.notes]),
      ],
      ...(mixed ? { invalid: mixed } : {}),
    }),
    judgeFailedConnections(record, run.config.slos[SLI.failedConnections], addCounts(...[a, b].map(countConnections), ...[ta, tb].map(countConnections)), { ...labels, measurement: 'first-vs-last' }),
  ];
}
