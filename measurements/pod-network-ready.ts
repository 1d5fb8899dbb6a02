// SLI pod_network_ready_latency_seconds: from a pod's creation until its network is ready,
// seen three ways, each its own source (the proposal "Kubernetes Network Performance
// Measurement via Kubemark" asks for pod network-ready latency, network-ready throughput
// and behaviour under pod flux):
// - pod-ip:  a prober on another node completes a TCP handshake to the pod's IP;
// - egress:  the pod's own program reaches a Service VIP (the kit server's egress prober,
//            a connect every 10 ms from the container's start, first success in its log);
// - service: the pod answers through a ClusterIP Service that selects only it.
// Creation is the earliest instant the pod can have been created on the runner's clock:
// the runner's create call and the watch ADDED event's arrival bound it, creationTimestamp
// (1 s, API server clock) narrows it when it agrees (src/sli/network-ready.ts). Probe
// instants are mapped onto the runner's clock with the NTP-style offset of a prober on the
// same node, as the programming prober does. Beside them: the kubelets'
// kubelet_pod_start_sli_duration_seconds and run_podsandbox (CNI ADD included) deltas, the
// pod's PodScheduled → PodReadyToStartContainers / Ready condition times, and when the
// pod's server listened.
//
// Phases: steady (NETREADY_PODS pods at NETREADY_RATE per second) and flux
// (NETREADY_FLUX_RATE pods per second for NETREADY_FLUX_SECONDS, each deleted once every
// source saw it, so pods are created and deleted across the nodes at that rate).
import type * as k8s from '@kubernetes/client-node';
import { histogramDelta } from '../src/sli/prometheus.js';
import { failureRatio, networkReadySeconds, podReadySample, READY_SOURCES, readyThroughput, type ClockedInstant, type PodReadySample, type PodTimeline, type ReadySource } from '../src/sli/network-ready.js';
import { quantile } from '../src/sli/index.js';
import { caveat, definition } from '../src/report/notes.js';
import type { NoteInput } from '../src/report/types.js';
import type { Labels } from '../src/report/index.js';
import { netreadyPeakPods } from '../src/config/knobs.js';
import { defaultKitImage } from '../src/kube/images.js';
import { deleteIgnoringMissing } from '../src/kube/workloads.js';
import { NETREADY_PORT, netreadyPod, netreadyService, PodWatch, podJsonLines, scrapeKubelet, type KubeletScrape } from '../src/kube/netready.js';
import { nowEpochNs } from '../src/workload/clock.js';
import type { ProbeView } from '../src/workload/loadgen.js';
import { TIMEOUTS } from '../src/timeouts.js';
import { waitFor, WaitTimeoutError } from '../src/wait-for.js';
import { SLI, type Backend, type Run } from '../fixtures/index.js';
import { histogramSamples } from '../fixtures/kube-proxy-window.js';
import type { ClockOffset, Loadgen } from '../fixtures/loadgen.js';
import type { Probers } from '../fixtures/netready.js';
import type { Judged, Recorder } from '../fixtures/results.js';

export interface NetreadyScene {
  run: Run;
  namespace: string;
  backend: Backend;
  /** real nodes the pods may be scheduled onto */
  nodes: readonly string[];
  probers: Probers;
}

export type Phase = 'steady' | 'flux';

export interface PodConditionRecord {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export interface PodRecord {
  name: string;
  node?: string;
  timeline: PodTimeline;
  sample?: PodReadySample;
  /** runner epoch seconds at which every source had seen it */
  readyAtS?: number;
  /** why it is not network-ready (a source missing, an error) */
  failed?: string;
  /** the pod's conditions as the API last showed them (lastTransitionTime: 1 s resolution) */
  conditions?: PodConditionRecord[];
  /** from them: seconds from PodScheduled */
  toReadyToStart?: number;
  toReady?: number;
  /** seconds from creation until its server listened (pod clock mapped) */
  listenSeconds?: number;
  /** seconds from the create call until the pod IP arrived in a watch event (the pod-ip probe cannot start before) */
  ipSeenSeconds?: number;
  /** the measurement itself broke (an API or proxy error): not the pod's failure, the phase is inconclusive */
  error?: string;
  /** pod-ip probe ran from the pod's own node (single-node cluster) */
  sameNodeProber: boolean;
}

export interface PhaseResult {
  phase: Phase;
  rate: number;
  pods: PodRecord[];
  /** pods per second actually created (the pacing can fall behind) */
  arrivalRate: number;
  wallSeconds: number;
  kubelet: { before: KubeletScrape[]; after: KubeletScrape[] };
}

let counter = 0;

const probeSpec = (host: string, port: number, timeoutMs: number) => ({ host, port, timeoutMs, intervalMs: TIMEOUTS.probeIntervalMs, connectTimeoutMs: TIMEOUTS.probeConnectTimeoutMs });

/** POST a probe, again on a transient proxy error (a POST lost in the API server's proxy leaves at most an orphan probe that times out). */
function startProbe(l: Loadgen, host: string, port: number, timeoutMs: number): Promise<{ id: string }> {
  return waitFor(() => l.startProbe(probeSpec(host, port, timeoutMs)), { timeout: TIMEOUTS.proxyRequestMs, interval: TIMEOUTS.pollMs, what: `${l.name}: probe of ${host}:${port} started` });
}

async function waitProbe(l: Loadgen, id: string, deadlineMs: number): Promise<ProbeView> {
  return waitFor(
    async () => {
      const s = await l.get<ProbeView>(`/probes/${id}`);
      return s.state !== 'running' ? s : { pending: `${s.attempts} attempts, last error ${s.lastError ?? 'none'}` };
    },
    { timeout: deadlineMs, interval: TIMEOUTS.pollMs, what: `${l.name}: probe ${id} finished` },
  );
}

const asInstant = (p: ProbeView, offset: ClockOffset): ClockedInstant | undefined =>
  p.state === 'succeeded' && p.firstSuccessNs !== undefined ? { ns: BigInt(p.firstSuccessNs), offsetNs: offset.offsetNs, uncertaintyNs: offset.uncertaintyNs, attempts: p.attempts } : undefined;

/** Seconds from PodScheduled to condition `to` (both True), from lastTransitionTime. */
export function conditionSeconds(conditions: readonly PodConditionRecord[] | undefined, to: string): number | undefined {
  const at = (type: string): number | undefined => {
    const c = conditions?.find((x) => x.type === type && x.status === 'True');
    return c?.lastTransitionTime ? new Date(c.lastTransitionTime).getTime() / 1000 : undefined;
  };
  const s = at('PodScheduled');
  const t = at(to);
  return s !== undefined && t !== undefined ? t - s : undefined;
}

/** One pod: its Service, its probes, the pod, every source's first success; removes both. */
async function measurePod(scene: NetreadyScene, watch: PodWatch, onDelete: (p: Promise<void>) => void, podSpec: (p: k8s.V1Pod) => k8s.V1Pod): Promise<PodRecord> {
  const { run, namespace, backend, probers } = scene;
  const name = `nr-${process.pid}-${counter++}`;
  const deadlineMs = TIMEOUTS.podNetworkReadyMs;
  const nodes = probers.nodes;
  const schedulable = scene.nodes;
  const svcProber = probers.byNode.get(nodes[counter % nodes.length]!)!;
  const rec: PodRecord = { name, timeline: { pod: name, ready: {}, probeIntervalNs: BigInt(TIMEOUTS.probeIntervalMs) * 1_000_000n }, sameNodeProber: false };
  try {
    // the Service and its prober first, so (c) measures the pod, not the Service's creation
    const svc = await run.clients.core.createNamespacedService({ namespace, body: netreadyService(namespace, run.target.session, name) });
    const svcProbe = await startProbe(svcProber.loadgen, svc.spec!.clusterIP!, 80, deadlineMs + 10_000);
    const sent = nowEpochNs();
    const body = podSpec(netreadyPod({ namespace, session: run.target.session, name, image: run.config.workload.image || defaultKitImage(), egressTarget: `${backend.clusterIp}:${backend.port}`, nodes: schedulable }));
    const created = await run.clients.core.createNamespacedPod({ namespace, body });
    const returned = nowEpochNs();
    rec.timeline.createSentNs = sent;
    rec.timeline.createReturnedNs = returned;
    const cts = created.metadata?.creationTimestamp;
    if (cts) rec.timeline.creationTimestampS = Math.floor(new Date(cts).getTime() / 1000);
    const endMs = Number(sent / 1_000_000n) + deadlineMs;
    const remaining = (): number => Math.max(1, endMs - Date.now());

    // (a): the IP is known once the pod's status carries it; probe from another node
    let ipProbe: { id: string; from: { loadgen: Loadgen; offset: ClockOffset } } | undefined;
    try {
      const seen = await waitFor(
        () => {
          watch.check();
          const s = watch.seen.get(name);
          return s?.pod.status?.podIP && s.pod.spec?.nodeName ? s : { pending: s ? `phase ${s.pod.status?.phase}` : 'no watch event yet' };
        },
        { timeout: remaining(), interval: TIMEOUTS.netreadyWatchPollMs, what: `pod ${name} has an IP` },
      );
      rec.node = seen.pod.spec!.nodeName!;
      const other = nodes.find((n) => n !== rec.node) ?? rec.node;
      rec.sameNodeProber = other === rec.node;
      const from = probers.byNode.get(other)!;
      if (seen.ipSeenNs !== undefined) rec.ipSeenSeconds = Number(seen.ipSeenNs - sent) / 1e9;
      ipProbe = { id: (await startProbe(from.loadgen, seen.pod.status!.podIP!, NETREADY_PORT, remaining())).id, from };
    } catch (e) {
      if (!(e instanceof WaitTimeoutError)) throw e;
    }
    const [svcResult, ipResult] = await Promise.all([waitProbe(svcProber.loadgen, svcProbe.id, remaining() + 10_000), ipProbe ? waitProbe(ipProbe.from.loadgen, ipProbe.id, remaining() + 10_000) : undefined]);
    const s = asInstant(svcResult, svcProber.offset);
    if (s) rec.timeline.ready.service = s;
    const a = ipResult && ipProbe ? asInstant(ipResult, ipProbe.from.offset) : undefined;
    if (a) rec.timeline.ready['pod-ip'] = a;

    // (b): the pod's own egress prober, from its log, on its node's clock
    const seen = watch.seen.get(name);
    if (seen?.addedNs !== undefined) rec.timeline.addedSeenNs = seen.addedNs;
    if (rec.node) {
      const own = probers.byNode.get(rec.node)?.offset;
      try {
        const lines = await waitFor(
          async () => {
            const l = await podJsonLines(run.clients, namespace, name);
            return l.some((x) => x.egress) ? l : { pending: 'no egress line in the pod log yet' };
          },
          { timeout: remaining(), interval: TIMEOUTS.pollMs, what: `pod ${name}: egress prober succeeded` },
        );
        const eg = lines.find((x) => x.egress)!.egress as { firstSuccessNs: string; attempts: number };
        if (own) rec.timeline.ready.egress = { ns: BigInt(eg.firstSuccessNs), offsetNs: own.offsetNs, uncertaintyNs: own.uncertaintyNs, attempts: eg.attempts };
        const listen = lines.find((x) => x.listening && x.epochNs) as { epochNs: string } | undefined;
        if (listen && own) rec.listenSeconds = Number(BigInt(listen.epochNs) - own.offsetNs - sent) / 1e9;
      } catch (e) {
        if (!(e instanceof WaitTimeoutError)) throw e;
      }
      if (!own) rec.failed = `no prober on node ${rec.node} to map the pod's clock`;
    }
    const final = (await run.clients.core.readNamespacedPod({ namespace, name }).catch(() => undefined)) ?? seen?.pod;
    if (final) {
      rec.conditions = (final.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, ...(c.lastTransitionTime ? { lastTransitionTime: new Date(c.lastTransitionTime).toISOString() } : {}) }));
      const r2s = conditionSeconds(rec.conditions, 'PodReadyToStartContainers');
      const r = conditionSeconds(rec.conditions, 'Ready');
      if (r2s !== undefined) rec.toReadyToStart = r2s;
      if (r !== undefined) rec.toReady = r;
    }
    rec.sample = podReadySample(rec.timeline);
    const all = networkReadySeconds(rec.sample);
    if (all !== undefined) rec.readyAtS = Number(rec.sample.window.fromNs) / 1e9 + all;
    else rec.failed ??= `never ${rec.sample.missing.join(', ')} within ${deadlineMs / 1000} s${rec.node ? ` (node ${rec.node})` : ' (never got an IP)'}`;
  } catch (e) {
    rec.error = `${name}: ${(e as Error).message}`;
  } finally {
    onDelete(
      (async () => {
        await deleteIgnoringMissing(() => run.clients.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }));
        await deleteIgnoringMissing(() => run.clients.core.deleteNamespacedService({ namespace, name }));
      })().catch((e: unknown) => run.log(`deleting ${name}: ${(e as Error).message} (the namespace's deletion removes it)`)),
    );
  }
  return rec;
}

/**
 * Pods at `rate` per second (count of them, or for `seconds`), each measured and deleted
 * once measured; at most netreadyPeakPods(rate) in flight (beyond, arrivals wait, and the
 * achieved arrival rate says so).
 */
export async function runPhase(scene: NetreadyScene, o: { phase: Phase; rate: number; count: number; /** changes the measured pod (the fixture recorder's pod that never listens) */ podSpec?: (p: k8s.V1Pod) => k8s.V1Pod }): Promise<PhaseResult> {
  const watch = new PodWatch(scene.run.clients, scene.namespace);
  await watch.start();
  const cap = netreadyPeakPods(o.rate);
  const deletes: Promise<void>[] = [];
  const before = await Promise.all(scene.probers.nodes.map((n) => scrapeKubelet(scene.run.clients, n)));
  const t0 = Date.now();
  const pending: Promise<PodRecord>[] = [];
  let inFlight = 0;
  let lastStart = t0;
  try {
    for (let i = 0; i < o.count; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const paced = { timeout: TIMEOUTS.podNetworkReadyMs * 2, interval: TIMEOUTS.netreadyWatchPollMs, what: `pod ${i} of the ${o.phase} phase due` };
      await waitFor(() => (Date.now() >= due && inFlight < cap ? true : { pending: inFlight >= cap ? `${inFlight} pods in flight (cap ${cap})` : 'not due' }), paced);
      lastStart = Date.now();
      inFlight++;
      pending.push(
        measurePod(scene, watch, (d) => deletes.push(d), o.podSpec ?? ((p) => p)).finally(() => {
          inFlight--;
        }),
      );
      if (i % 10 === 9) scene.run.log(`network-ready ${o.phase}: ${i + 1}/${o.count} pods created`);
    }
    const pods = await Promise.all(pending);
    const wallSeconds = (Date.now() - t0) / 1000;
    const after = await Promise.all(scene.probers.nodes.map((n) => scrapeKubelet(scene.run.clients, n)));
    return { phase: o.phase, rate: o.rate, pods, arrivalRate: o.count > 1 ? (o.count - 1) / ((lastStart - t0) / 1000 || Infinity) : o.rate, wallSeconds, kubelet: { before, after } };
  } finally {
    watch.stop();
    await Promise.all(pending.map((p) => p.catch(() => undefined)));
    await Promise.all(deletes);
  }
}

const sourceSamples = (r: PhaseResult, source: ReadySource): number[] => r.pods.flatMap((p) => (p.sample?.seconds[source] !== undefined ? [p.sample.seconds[source]] : []));

function resolutionNote(r: PhaseResult, source: ReadySource): NoteInput {
  const res = r.pods.flatMap((p) => (p.sample?.resolutionSeconds[source] !== undefined ? [p.sample.resolutionSeconds[source]] : []));
  const bases = [...new Set(r.pods.map((p) => p.sample?.window.basis).filter(Boolean))].join('; ');
  const ms = (x: number): string => `${(x * 1000).toFixed(1)} ms`;
  return caveat(
    `resolution per pod: creation window (${bases || 'none'}) + ${TIMEOUTS.probeIntervalMs} ms probe interval + clock offset uncertainty: p50 ${ms(quantile(res, 0.5))}, max ${ms(Math.max(...res))}; latency measured from the window's start (never understated)`,
  );
}

function phaseNotes(r: PhaseResult, source: ReadySource): NoteInput[] {
  const notes: NoteInput[] = [resolutionNote(r, source)];
  const firstTry = r.pods.filter((p) => p.sample?.firstTry.includes(source)).length;
  if (firstTry) notes.push(caveat(`${firstTry} of ${r.pods.length} pods succeeded at the first ${source} attempt: those are upper bounds${source === 'pod-ip' ? ' (the probe can start only once the pod IP is in the API)' : ''}`));
  if (source === 'pod-ip' && r.pods.some((p) => p.sameNodeProber)) notes.push(caveat('single-node cluster: the pod-ip prober ran on the pod\'s own node'));
  if (source === 'pod-ip' || source === 'service') notes.push(caveat('a handshake needs the pod\'s server listening: its start (Node.js) is inside the latency; pod_container_listen_seconds shows it'));
  const windowNotes = [...new Set(r.pods.flatMap((p) => p.sample?.window.notes ?? []))];
  for (const n of windowNotes) notes.push(caveat(n));
  return notes;
}

/** Why a phase's samples cannot decide: clock errors, or pods whose measurement broke. */
function clockErrors(r: PhaseResult): string | undefined {
  const errs = r.pods.flatMap((p) => (p.sample?.clockError ? [p.sample.clockError] : []));
  if (errs.length) return `${errs.length} of ${r.pods.length} pods have a clock error (${errs[0]})`;
  const broken = r.pods.flatMap((p) => (p.error ? [p.error] : []));
  return broken.length ? `${broken.length} of ${r.pods.length} pods could not be measured (${broken[0]})` : undefined;
}

function behind(r: PhaseResult): string | undefined {
  return r.arrivalRate < 0.9 * r.rate ? `pods arrived at ${r.arrivalRate.toFixed(2)}/s, below the ${r.rate}/s asked for (the cluster or the runner could not keep up)` : undefined;
}

function recordBeside(record: Recorder, r: PhaseResult, labels: Labels): void {
  const num = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
  const kinds = [
    ['podStart', 'kubelet_pod_start_sli_duration_seconds', 'the kubelets\' kubelet_pod_start_sli_duration_seconds over the phase (every pod started on the nodes, image pulls excluded by definition), interpolated from buckets'],
    ['runPodSandbox', 'kubelet_run_podsandbox_duration_seconds', 'kubelet_runtime_operations_duration_seconds{operation_type="run_podsandbox"} over the phase: the CRI RunPodSandbox call, which includes the CNI ADD (the runtime exposes no CNI-only figure through the API), interpolated from buckets'],
  ] as const;
  for (const [key, name, text] of kinds) {
    const samples: number[] = [];
    const problems: string[] = [];
    for (const b of r.kubelet.before) {
      const a = r.kubelet.after.find((x) => x.node === b.node);
      const hb = b[key];
      const ha = a?.[key];
      if (!hb || !ha) {
        problems.push(`${b.node}: ${b.error ?? a?.error ?? 'histogram missing'}`);
        continue;
      }
      const d = histogramDelta(hb, ha);
      if (d.histogram.count > 0) samples.push(...histogramSamples({ histogram: d.histogram, count: d.histogram.count, sum: d.histogram.sum, p50: NaN, p99: NaN, reset: d.reset }));
    }
    record.observe(name, { source: 'kubelet-metric', labels, samples, notes: [definition(text), ...problems.map((p) => caveat(`kubelet metrics unavailable on ${p}`))] });
  }
  record.observe('pod_scheduled_to_ready_to_start_containers_seconds', { source: 'pod-conditions', labels, samples: num(r.pods.map((p) => p.toReadyToStart)), notes: [definition('PodScheduled → PodReadyToStartContainers lastTransitionTime (sandbox and network up); 1 s resolution')] });
  record.observe('pod_scheduled_to_ready_seconds', { source: 'pod-conditions', labels, samples: num(r.pods.map((p) => p.toReady)), notes: [definition('PodScheduled → Ready lastTransitionTime; 1 s resolution')] });
  record.observe('pod_ip_in_api_seconds', { source: 'watch', labels, samples: num(r.pods.map((p) => p.ipSeenSeconds)), notes: [definition('the create call → the first watch event carrying the pod IP: the pod-ip probe cannot start earlier, so a pod-ip latency near it is bounded by the API, not the network')] });
  record.observe('pod_container_listen_seconds', { source: 'pod', labels, samples: num(r.pods.map((p) => p.listenSeconds)), notes: [definition('creation → the pod\'s server listening (its own log, its node\'s clock mapped): the part of pod-ip and service latency that is the program\'s start, not the network')] });
}

/** Judges one phase: latency per source, failures; records the kubelet's and the pod's own figures beside. */
export function judgePhase(record: Recorder, run: Run, r: PhaseResult): Judged[] {
  const labels: Labels = { phase: r.phase, rate: String(r.rate), pods: String(r.pods.length) };
  const invalid = clockErrors(r) ?? (r.phase === 'flux' ? behind(r) : undefined);
  const judged: Judged[] = [];
  for (const source of READY_SOURCES) {
    judged.push(record.judge(run.config.slos[SLI.netreadyLatency], { source, labels, samples: sourceSamples(r, source), notes: phaseNotes(r, source), ...(invalid ? { invalid } : {}) }));
  }
  const failed = r.pods.filter((p) => p.failed && !p.error);
  const measured = r.pods.filter((p) => !p.error).length;
  judged.push(
    record.judge(run.config.slos[SLI.netreadyFailures], {
      source: 'runner',
      labels,
      samples: [failureRatio(measured, failed.length)].filter(Number.isFinite),
      ...(invalid ? { invalid } : {}),
      notes: [definition(`pods not network-ready on every source within ${TIMEOUTS.podNetworkReadyMs / 1000} s, over pods created`), ...failed.slice(0, 3).map((p) => caveat(`failed: ${p.failed}`))],
    }),
  );
  recordBeside(record, r, labels);
  return judged;
}

/** Flux: p99 under flux over p99 at the steady rate, per source; network-ready throughput over the flux rate. */
export function judgeFlux(record: Recorder, run: Run, steady: PhaseResult, flux: PhaseResult): Judged[] {
  const labels: Labels = { phase: 'flux', rate: String(flux.rate), steadyRate: String(steady.rate) };
  const invalid = clockErrors(flux) ?? clockErrors(steady) ?? behind(flux);
  const judged: Judged[] = [];
  for (const source of READY_SOURCES) {
    judged.push(
      record.judgeRatio(run.config.slos[SLI.netreadyFluxRatio], {
        source,
        labels,
        numerator: sourceSamples(flux, source),
        denominator: sourceSamples(steady, source),
        statistic: { kind: 'quantile', q: 0.99 },
        notes: [definition(`p99 network-ready latency (${source}) while ${flux.rate} pods/s were created and deleted, over the p99 at ${steady.rate} pods/s`)],
        ...(invalid ? { invalid } : {}),
      }),
    );
  }
  const readyAt = flux.pods.flatMap((p) => (p.readyAtS !== undefined ? [p.readyAtS] : []));
  const perSecond = readyThroughput(readyAt);
  record.observe('pod_network_ready_throughput_pods_per_second', { source: 'runner', labels, samples: Number.isFinite(perSecond) ? [perSecond] : [], notes: [definition(`pods that became network-ready (every source) per second while the flux ran: (n − 1) / (last − first ready instant), n = ${readyAt.length}; pods arrived at ${flux.arrivalRate.toFixed(2)}/s`)] });
  judged.push(
    record.judge(run.config.slos[SLI.netreadyThroughput], {
      source: 'runner',
      labels,
      samples: Number.isFinite(perSecond) ? [perSecond / flux.rate] : [],
      notes: [definition(`network-ready throughput ${Number.isFinite(perSecond) ? perSecond.toFixed(2) : 'n/a'} pods/s over the flux rate ${flux.rate} pods/s`)],
      ...(invalid ? { invalid } : {}),
    }),
  );
  return judged;
}

/** Figures of a phase for benchmarks: p50/p99 per source and network-ready throughput. */
export function phaseFigures(r: PhaseResult): { p50: Record<ReadySource, number>; p99: Record<ReadySource, number>; throughput: number; failed: number; wallSeconds: number; arrivalRate: number } {
  const p50 = {} as Record<ReadySource, number>;
  const p99 = {} as Record<ReadySource, number>;
  for (const s of READY_SOURCES) {
    const xs = sourceSamples(r, s);
    p50[s] = xs.length ? quantile(xs, 0.5) : NaN;
    p99[s] = xs.length ? quantile(xs, 0.99) : NaN;
  }
  const readyAt = r.pods.flatMap((p) => (p.readyAtS !== undefined ? [p.readyAtS] : []));
  return { p50, p99, throughput: readyThroughput(readyAt), failed: r.pods.filter((p) => p.failed).length, wallSeconds: r.wallSeconds, arrivalRate: r.arrivalRate };
}

/**
 * A phase as JSON (the recorded fixtures of test/fixtures/network-ready/): bigint instants
 * as decimal strings, the +Inf bucket bound as "+Inf"; phaseFromJson reads it back.
 */
export function phaseToJson(r: PhaseResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v: unknown) => (typeof v === 'bigint' ? v.toString() : k === 'le' && v === Infinity ? '+Inf' : v)));
}

export function phaseFromJson(json: unknown): PhaseResult {
  // instants are the keys ending in Ns (createSentNs, ns, offsetNs, fromNs, …)
  return JSON.parse(JSON.stringify(json), (k, v: unknown) => (k.endsWith('Ns') || k === 'ns') && typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : k === 'le' && v === '+Inf' ? Infinity : v) as PhaseResult;
}
