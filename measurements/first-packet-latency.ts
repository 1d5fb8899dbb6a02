// SLI first_packet_latency_seconds (kubernetes/community sig-scalability/slos
// first_packet_latency.md): the client's SYN toward a Service VIP entering the node → the
// SYN-ACK from the VIP leaving toward the client, from packet capture at the node
// boundary. When no SYN toward a VIP crosses the wire (the dataplane translates at the
// socket), the client's connect() time is the only view: the source is declared with
// every result, never swapped silently. Client connect() and conntrack NEW→SEEN_REPLY are
// recorded beside it.
//
// SLI first_packet_latency_scaling_ratio (the KubeCon NA 2024 talk "From Observability to
// Performance"): p50 at the largest scale point over p50 at the smallest. A dataplane
// whose rule search is linear in the number of Services (iptables) grows here. Taken only
// between samples of the same source.
//
// Per address family: a run over IPv6 (SLI_IP_FAMILY=ipv6) measures the IPv6 ClusterIPs,
// a dual-stack run (dual) measures each family at every scale point, each its own series
// (label `family`) with its own ratio: the two families are programmed by separate
// kube-proxy rule sets (the `ip` and `ip6` tables), so one must not hide the other.
import { caveat, definition } from '../src/report/notes.js';
import type { NoteInput } from '../src/report/types.js';
import type { Labels } from '../src/report/index.js';
import type { SloSpec } from '../src/sli/index.js';
import type { SliName } from '../src/config/profiles.js';
import { familyLabel, SLI, type Backend, type IpFamilyName, type Run, type ServiceScaler } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { countConnections, firstPacketSamples, measureConnections, values, waitTargetsProgrammed, type ConnectionCount, type LatencySource } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';
import { placementNote, splitByPath } from '../fixtures/placement.js';

export interface FirstPacketScene {
  run: Run;
  backend: Backend;
  services: ServiceScaler;
  loadgens: Loadgen[];
  agent: AgentFleet;
}

/** One scale point: the judged samples and where they came from. */
export interface FirstPacketPoint {
  services: number;
  /** the address family measured (absent: the run's only, IPv4) */
  family?: IpFamilyName;
  source: LatencySource;
  samples: number[];
  count: ConnectionCount;
  notes: NoteInput[];
}

/**
 * Grows the cluster to n Services (the backend's own + n-1 fillers), waits until every
 * node's dataplane has each Service a client will use, then runs CONN_PER_CLIENT short
 * connections from every client, spread over the backend's Service and the reachable
 * fillers (the talk's workload: no single rule position decides). Cross-checks are
 * recorded on `record`.
 */
export async function measureFirstPacket(scene: FirstPacketScene, record: Recorder, n: number): Promise<FirstPacketPoint[]> {
  await scene.services.scaleTo(Math.max(0, n - 1));
  const points: FirstPacketPoint[] = [];
  // one family after the other: the same clients, never both at once
  for (const family of scene.backend.families) points.push(await measureFamily(scene, record, n, family));
  return points;
}

async function measureFamily(scene: FirstPacketScene, record: Recorder, n: number, family: IpFamilyName): Promise<FirstPacketPoint> {
  const { run, services, loadgens, agent } = scene;
  const backend = scene.backend.of(family);
  const fill = await services.reachable(family);
  const targets = [backend.vip, ...fill.targets];
  const notes = [...(fill.note ? [fill.note] : []), ...(await waitTargetsProgrammed(run.target.facts.proxyMode, agent, targets, loadgens.length))];
  const m = await measureConnections(loadgens, agent, {
    targets,
    connections: run.config.workload.connPerClient,
    concurrency: run.config.workload.clientConcurrency,
  });
  const labels = { services: String(n), ...familyLabel(run, family) };
  record.observe(SLI.firstPacket, { source: 'client', labels, samples: values(m.client, (c) => c.connectSeconds) });
  record.observe(SLI.firstPacket, { source: 'conntrack', labels, samples: values(m.conntrack, (f) => f.firstPacketSeconds), notes: [caveat('conntrack stamps NEW at confirmation, after the DNAT rule search: it hides the search cost')] });
  const { source, samples } = firstPacketSamples(m);
  // the backend's own Service and the fillers lead to two sets of pods
  const fillerPods = services.backend.podIps(family);
  const podNode = new Map([...backend.podIps.map((ip, i) => [ip, backend.podNodes[i] ?? ''] as const), ...fillerPods.map((ip, i) => [ip, services.backend.podNodes[i] ?? ''] as const)]);
  const split = splitByPath(m.capture, m.conntrack, new Map(loadgens.map((l) => [l.podIp, l.node])), podNode);
  const placement = placementNote(loadgens.map((l) => l.node), [...backend.podNodes, ...(fill.targets.length ? services.backend.podNodes : [])], split);
  run.log(`first-packet at ${n} Services: ${placement.text}`);
  if (run.config.workload.byClientNode && source === 'capture') observeByClientNode(record, labels, split.sameNodeByClient);
  return { services: n, family, source, samples, count: countConnections(m), notes: [...notes, ...m.notes, definition(`${targets.length} Services targeted (${family} ClusterIPs)`), ...(source === 'capture' ? [placement] : [])] };
}

/**
 * SLI_BY_CLIENT_NODE=1 (kube-sli ab --paired): each client node's same-node connections as
 * their own series. Such a connection never leaves its node, so it measures that node's
 * kube-proxy rules alone; one across nodes also crosses the other node's rules and is left out.
 */
function observeByClientNode(record: Recorder, labels: Labels, byNode: ReadonlyMap<string, number[]>): void {
  for (const [node, samples] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
    record.observe(SLI.firstPacket, {
      source: 'capture',
      labels: { ...labels, path: 'same-node', clientNode: node },
      samples,
      notes: [definition(`connections whose client and backend pod both ran on ${node}: wholly inside ${node}'s dataplane (across-node connections cross a second node's rules and are not in this series)`)],
    });
  }
}

/** The p99 bound at one scale point, and the point's failed connections. */
export function judgeFirstPacket(record: Recorder, slos: Record<SliName, SloSpec>, p: FirstPacketPoint, familyLabels: Labels = {}): Judged[] {
  const labels: Labels = { services: String(p.services), ...familyLabels };
  return [
    record.judge(slos[SLI.firstPacket], { source: p.source, labels, samples: p.samples, notes: p.notes }),
    judgeFailedConnections(record, slos[SLI.failedConnections], p.count, { ...labels, measurement: 'first-packet' }),
  ];
}

/** The ratio's inputs, or why there is no honest ratio. */
export function scalingInputs(lo: FirstPacketPoint | undefined, hi: FirstPacketPoint | undefined, points: { lo: number; hi: number }): { source: LatencySource | 'none'; numerator: number[]; denominator: number[]; invalid?: string } {
  if (!lo || !hi) {
    const missing = [!lo ? points.lo : undefined, !hi ? points.hi : undefined].filter((x) => x !== undefined).join(' and ');
    return { source: lo?.source ?? hi?.source ?? 'none', numerator: hi?.samples ?? [], denominator: lo?.samples ?? [], invalid: `no first-packet samples at ${missing} Services in this run` };
  }
  if (lo.source !== hi.source) {
    return {
      source: hi.source,
      numerator: hi.samples,
      denominator: lo.samples,
      invalid: `samples at ${lo.services} Services come from ${lo.source}, at ${hi.services} Services from ${hi.source}: a ratio across sources compares two different clocks`,
    };
  }
  return { source: lo.source, numerator: hi.samples, denominator: lo.samples };
}

export function judgeScaling(record: Recorder, slo: SloSpec, lo: FirstPacketPoint | undefined, hi: FirstPacketPoint | undefined, points: { lo: number; hi: number }, familyLabels: Labels = {}): Judged {
  const r = scalingInputs(lo, hi, points);
  return record.judgeRatio(slo, {
    source: r.source,
    labels: { from: String(points.lo), to: String(points.hi), ...familyLabels },
    numerator: r.numerator,
    denominator: r.denominator,
    statistic: { kind: 'quantile', q: 0.5 },
    notes: [definition(`p50 first-packet latency at ${points.hi} Services over p50 at ${points.lo}, both from ${r.source}; a dataplane whose rule search is linear in the number of Services (iptables) grows here`)],
    ...(r.invalid ? { invalid: r.invalid } : {}),
  });
}

/**
 * The sweep of one suite file: each scale point measured once, in ascending order (the
 * Service set only grows). A fixture owns it, so tests share it through the fixture, not
 * through module state; a point asked for after a larger one was measured is missing,
 * and the ratio says so.
 */
export class FirstPacketSweep {
  private readonly points = new Map<number, FirstPacketPoint[]>();
  constructor(private readonly scene: FirstPacketScene) {}

  /** The families measured, primary first. */
  get families(): IpFamilyName[] {
    return this.scene.backend.families;
  }

  /** The series labels of a family's results. */
  labels(family: IpFamilyName): Labels {
    return familyLabel(this.scene.run, family);
  }

  /** The point at n Services, one per family. */
  async at(n: number, record: Recorder): Promise<FirstPacketPoint[] | undefined> {
    const done = this.points.get(n);
    if (done) return done;
    if (this.scene.services.count > Math.max(0, n - 1)) return undefined;
    const p = await measureFirstPacket(this.scene, record, n);
    this.points.set(n, p);
    return p;
  }
}
