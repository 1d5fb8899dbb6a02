// SLI network_programming_latency_seconds (kubernetes/community sig-scalability/slos
// network_programming_latency.md): from a change written to the API until the dataplane
// forwards accordingly, seen by an in-cluster prober that connects to the ClusterIP every
// 10 ms (fixtures/programming.ts takes one sample). kube-proxy's own
// network_programming_duration histogram is recorded beside it, and its sync durations
// (kubeproxy_sync_proxy_rules_duration_seconds) as a series of their own: how long each
// rewrite of the rules took, which is what a change such as KEP-3453 "Minimize iptables-restore
// input size" (https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/3453-minimize-iptables-restore)
// shortens, and what a one-more-Service change waits for.
//
// Cases, each judged against the profile's SLO as written, with the profile's minSamples
// samples each:
// - new-service: a new Service gets its EndpointSlice; from the slice's write.
// - one-more-service: the same with the largest scale point's Services present (a
//   partial sync next to many rules).
// - many-endpoints: a Service with BIG_SERVICE_ENDPOINTS endpoints (198.18.0.0/15, never
//   connected to). Measured from the acknowledged write of its LAST EndpointSlice until a
//   canary Service, whose slice is written right after, is reachable: kube-proxy applies
//   pending changes in order and in whole syncs, so the canary forwards only once the big
//   Service's slices are in the dataplane. The time the API took to write the big slices
//   is reported on its own (api_write_seconds), never added to the latency.
// A sample whose prober success precedes its write is a clock error: kept as measured,
// and the verdict is inconclusive.
import { caveat, definition, warning } from '../src/report/notes.js';
import { isUnavailable, SYNC_DURATION, type HistogramWindow, type WindowResult } from '../src/kube/metrics-window.js';
import type { NoteInput } from '../src/report/types.js';
import type { SloSpec } from '../src/sli/index.js';
import type { Labels } from '../src/report/index.js';
import { SLI, type Backend, type Run, type ServiceScaler } from '../fixtures/index.js';
import { bigServiceSlices } from '../fixtures/big-service.js';
import { histogramSamples, openKubeProxyWindow, recordKubeProxy, settleKubeProxy, syncKindsText } from '../fixtures/kube-proxy-window.js';
import type { SettleResult } from '../src/kube/kube-proxy-quiet.js';
import { TIMEOUTS } from '../src/timeouts.js';
import type { ClockOffset, Loadgen } from '../fixtures/loadgen.js';
import { measureProgramming, type ProgrammingSample } from '../fixtures/programming.js';
import type { Judged, Recorder } from '../fixtures/results.js';

export interface ProgrammingScene {
  run: Run;
  namespace: string;
  prober: { loadgen: Loadgen; offset: ClockOffset };
  backend: Backend;
}

export type ProgrammingCase = 'new-service' | 'one-more-service' | 'many-endpoints';

/** Why samples cannot decide the SLO: any clock error. */
export function clockErrors(samples: readonly Pick<ProgrammingSample, 'clockError'>[]): string | undefined {
  const errors = samples.filter((s) => s.clockError);
  return errors.length ? `${errors.length} of ${samples.length} samples have a clock error (${errors[0]!.clockError})` : undefined;
}

export function judgeProgramming(record: Recorder, slo: SloSpec, samples: readonly ProgrammingSample[], labels: Labels, notes: NoteInput[] = []): Judged {
  const uncertainty = Math.max(0, ...samples.map((s) => s.clockUncertaintySeconds));
  const invalid = clockErrors(samples);
  return record.judge(slo, {
    source: 'prober',
    labels,
    samples: samples.map((s) => s.seconds),
    notes: [...notes, caveat(`runner/prober clock offset uncertainty ±${(uncertainty * 1000).toFixed(1)} ms`)],
    ...(invalid ? { invalid } : {}),
  });
}

function probe(scene: ProgrammingScene, beforeWrite?: () => Promise<void>): Promise<ProgrammingSample> {
  const { run, namespace, prober, backend } = scene;
  return measureProgramming(run.clients, { namespace, session: run.target.session, prober: prober.loadgen, offset: prober.offset, endpointIps: backend.podIps, targetPort: backend.targetPort, ...(beforeWrite ? { beforeWrite } : {}) });
}

/**
 * What the kube-proxy waits around the probes found, as notes: how long they took, and any
 * kube-proxy that did not go quiet (its leftover syncs are in the window) or could not tell.
 */
export function settleNotes(settles: readonly { what: string; r: SettleResult }[], o: { window?: boolean } = {}): NoteInput[] {
  if (settles.length === 0) return [];
  const notes: NoteInput[] = [];
  const waited = settles.reduce((a, s) => a + s.r.seconds, 0);
  const first = settles[0]!;
  notes.push(
    definition(
      `each probe started with every kube-proxy quiet (no change queued after its last sync, sync count still for ${TIMEOUTS.kubeProxyQuietMs / 1000} s plus its longest sync)${o.window === false ? '' : ", and the window closed once the last probe's syncs were done on every node"}: ${settles.length} waits, ${waited.toFixed(1)} s in all, the first (${first.what}) ${first.r.seconds.toFixed(1)} s with ${first.r.nodes.map((n) => `${n.node} ${n.syncs ?? '?'} syncs`).join(', ')}`,
    ),
  );
  for (const s of settles) {
    if (!s.r.quiet) notes.push(warning(`kube-proxy was not quiet ${s.what} after ${s.r.seconds.toFixed(1)} s (${s.r.nodes.map((n) => n.state ?? n.node).join('; ')}): syncs the probes did not cause are in the window and may have delayed them`));
  }
  const unread = new Map<string, string>();
  for (const s of settles) for (const n of s.r.nodes) if (n.unavailable !== undefined && !unread.has(n.node)) unread.set(n.node, n.unavailable);
  for (const [node, why] of unread) notes.push(caveat(`kube-proxy on ${node} could not tell whether it was quiet (${why}): the probes did not wait for it`));
  return notes;
}

/**
 * Where a sample starts. The kit stamps each probe's EndpointSlice with the instant it is
 * written (endpoints.kubernetes.io/last-change-trigger-time), so the prober and kube-proxy's
 * own histogram start at the same instant. Upstream's EndpointSlice controller stamps a new
 * Service's first slice with the Service's creationTimestamp (TriggerTimeTracker, 1 s
 * resolution): measured that way a sample would also hold the time from the Service's
 * create to the slice's write, which the note gives.
 */
export function startInstantNotes(samples: readonly Pick<ProgrammingSample, 'serviceLeadSeconds'>[]): NoteInput[] {
  const leads = samples.flatMap((s) => (s.serviceLeadSeconds === undefined ? [] : [s.serviceLeadSeconds])).sort((a, b) => a - b);
  if (leads.length === 0) return [];
  const median = leads[Math.floor((leads.length - 1) / 2)]!;
  const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
  return [
    caveat(
      `measured from each EndpointSlice's write (its last-change-trigger-time, kube-proxy's start too); the probe Service was created ${ms(median)} (median; at most ${ms(leads.at(-1)!)}) before it: upstream's EndpointSlice controller would start a new Service's clock at the Service's creation`,
    ),
  ];
}

/**
 * Waits for quiet kube-proxies before each probe, and keeps what each wait found (notes). A
 * node whose kube-proxy cannot tell is not asked again.
 */
function settler(run: Run, what: string): { settle: (when: string) => Promise<void>; settles: { what: string; r: SettleResult }[] } {
  const settles: { what: string; r: SettleResult }[] = [];
  const unread = new Set<string>();
  return {
    settles,
    settle: async (when) => {
      const r = await settleKubeProxy(run, `${when} (${what})`, unread);
      for (const n of r.nodes) if (n.unavailable !== undefined) unread.add(n.node);
      settles.push({ what: when, r });
    },
  };
}

/** new-service and one-more-service: the profile's minSamples probes, judged. */
export async function measureNewService(scene: ProgrammingScene, record: Recorder, o: { services?: { scaler: ServiceScaler; n: number } } = {}): Promise<Judged> {
  const { run } = scene;
  const slo = run.config.slos[SLI.programming];
  if (o.services) await o.services.scaler.scaleTo(o.services.n);
  const labels: Labels = o.services ? { case: 'one-more-service', services: String(o.services.n) } : { case: 'new-service' };
  const what = `${labels.case}${o.services ? ` at ${o.services.n} Services` : ''}`;
  // Every probe is one change on idle kube-proxies: otherwise the window counts the syncs
  // of what came before (thousands of bulk-created Services, whose trigger times are
  // minutes old; the previous probe's deletion) and the probe queues behind them.
  const { settle, settles } = settler(run, what);
  await settle('before the first probe');
  const window = await openKubeProxyWindow(run);
  const samples: ProgrammingSample[] = [];
  for (let i = 0; i < slo.minSamples; i++) {
    if (i > 0) await settle(`before probe ${i + 1}`);
    samples.push(await probe(scene));
  }
  // the last probe's syncs on every node (not only the prober's) belong in the window
  await settle('after the last probe');
  const w = await window.close();
  const notes = [...settleNotes(settles), ...startInstantNotes(samples)];
  recordKubeProxy(record, SLI.programming, w, labels, notes);
  recordSyncDuration(record, w, labels, notes);
  return judgeProgramming(record, slo, samples, labels, notes);
}

/** Syncs slower than the histogram's highest finite bucket: their samples say that bound, less than they took. */
function overflowNote(h: HistogramWindow): NoteInput[] {
  const finite = h.histogram.buckets.filter((b) => Number.isFinite(b.le)).sort((a, b) => a.le - b.le);
  const top = finite[finite.length - 1];
  const over = top ? h.count - top.count : 0;
  return top && over > 0 ? [warning(`${over} of ${h.count} syncs took longer than the highest finite bucket (${top.le} s): their samples are that bound, an understatement`)] : [];
}

/**
 * kube-proxy's syncs in the window, every node's histogram merged, as a series beside the
 * prober's (source kube-proxy-metric). The samples are the histogram's quantiles (bucket
 * interpolation, as histogram_quantile does); no syncs, or no histogram, records nothing
 * (recordKubeProxy's notes say which).
 */
export function recordSyncDuration(record: Pick<Recorder, 'observe'>, w: WindowResult, labels: Labels, extra: readonly NoteInput[] = []): void {
  const sync = w.merged.syncDuration;
  if (isUnavailable(sync) || sync.count === 0) return;
  const perNode = w.sources.flatMap((s) => (s.ok ? [`${s.node} ${syncKindsText(s)}`] : []));
  record.observe(SYNC_DURATION, {
    source: 'kube-proxy-metric',
    labels,
    samples: histogramSamples(sync),
    notes: [
      definition(
        `${SYNC_DURATION} (each sync of the proxy rules, full or partial) over ${w.merged.nodes.join(', ')} from ${w.startedAt} to ${w.endedAt}: ${sync.count} syncs (${perNode.join('; ')}), ${sync.sum.toFixed(3)} s in all; samples interpolated from its buckets`,
      ),
      ...extra,
      ...(sync.reset ? [warning('a kube-proxy restarted or its counters went backwards inside the window: its syncs count from the restart')] : []),
      ...overflowNote(sync),
    ],
  });
}

/** many-endpoints: the profile's minSamples big Services, each measured from its last slice write. */
export async function measureManyEndpoints(scene: ProgrammingScene, record: Recorder): Promise<Judged> {
  const { run, namespace } = scene;
  const slo = run.config.slos[SLI.programming];
  const endpoints = run.config.workload.bigServiceEndpoints;
  const labels: Labels = { case: 'many-endpoints', endpoints: String(endpoints) };
  const samples: ProgrammingSample[] = [];
  const writes: number[] = [];
  let slices = 0;
  // each big Service meets idle kube-proxies: not the previous one's removal, nor syncs left over from before
  const { settle, settles } = settler(run, `many-endpoints, ${endpoints} endpoints`);
  for (let i = 0; i < slo.minSamples; i++) {
    let big: Awaited<ReturnType<typeof bigServiceSlices>> | undefined;
    await settle(i === 0 ? 'before the first big Service' : `before big Service ${i + 1}`);
    try {
      const canary = await probe(scene, async () => {
        big = await bigServiceSlices(run.clients, { namespace, session: run.target.session, endpoints, name: `sli-big-${i}`, family: scene.backend.families[0], onProgress: run.log });
      });
      const b = big!;
      slices = b.slices;
      writes.push(b.writtenSeconds);
      // from the big Service's last acknowledged write to the canary's first handshake
      const seconds = canary.seconds + Number(canary.writtenNs - b.lastWriteNs) / 1e9;
      samples.push({ ...canary, seconds, ...(seconds < 0 && !canary.clockError ? { clockError: `canary reachable ${(-seconds * 1000).toFixed(3)} ms before the big Service's last write` } : {}) });
    } finally {
      await (big as { remove(): Promise<void> } | undefined)?.remove();
    }
  }
  record.observe('api_write_seconds', { source: 'client', labels, samples: writes, notes: [definition(`time the API took to write ${endpoints} endpoints in ${slices} EndpointSlices (first request to last acknowledgement); not part of the latency`)] });
  return judgeProgramming(record, slo, samples, labels, [`from the acknowledged write of the big Service's last EndpointSlice until a canary Service written right after it was reachable`, ...settleNotes(settles, { window: false })]);
}
