// Waiting until every node's kube-proxy has nothing left to sync, read from its own
// metrics. A measurement window opened while kube-proxy still works through earlier
// changes (e.g. thousands of Services just bulk-created) counts those syncs and their
// network_programming_duration observations as if the probes had caused them, and the
// probes queue behind them.
//
// kube-proxy (pkg/proxy/nftables and iptables proxier.go, v1.26+) stamps
// kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds when a change asks for a sync
// and kubeproxy_sync_proxy_rules_last_timestamp_seconds when a sync succeeded. A change is
// pending while the queued stamp is newer. A change queued while a sync runs is stamped
// before that sync ends, yet its BoundedFrequencyRunner (pkg/proxy/runner) runs one more
// sync minSyncPeriod after that sync's completion: so a node also counts as quiet only once
// its sync count stood still for the quiet interval (above minSyncPeriod) plus the longest
// sync seen while waiting, by when such a follow-up sync would have completed.
//
// The pure part (syncState, quietStep) is tested on recorded kube-proxy scrapes.
import { TIMEOUTS } from '../timeouts.js';
import { waitFor, WaitTimeoutError } from '../wait-for.js';
import { histogramDelta, type PromHistogram } from '../sli/prometheus.js';
import { histogramSeries, mergeHistograms, parseMetrics, samples, type Families } from './prom-text.js';
import { isUnavailable, LAST_QUEUED_TIMESTAMP, LAST_SYNC_TIMESTAMP, SYNC_DURATION, type MetricsSource, type Unavailable } from './metrics-window.js';

/** Where one kube-proxy stands, from one scrape. */
export interface SyncState {
  /** completed syncs so far, every ip_family summed */
  syncs: number;
  /** seconds spent in them (the histogram's _sum) */
  syncSeconds: number;
  /** the sync duration histogram, ip families merged */
  histogram: PromHistogram;
  /** ip families with a change queued after their last successful sync (or never synced) */
  pending: string[];
}

const familyOf = (labels: Record<string, string>): string => labels.ip_family ?? '';

/** One scrape's sync state; unavailable when kube-proxy does not expose the stamps. */
export function syncState(f: Families): SyncState | Unavailable {
  const queued = samples(f, LAST_QUEUED_TIMESTAMP).filter((s) => Number.isFinite(s.value));
  if (queued.length === 0) return { unavailable: `${LAST_QUEUED_TIMESTAMP} is not exposed (kube-proxy older than v1.26, or not kube-proxy)` };
  const synced = new Map(samples(f, LAST_SYNC_TIMESTAMP).map((s) => [familyOf(s.labels), s.value]));
  const pending = queued.filter((q) => !(q.value <= (synced.get(familyOf(q.labels)) ?? -Infinity))).map((q) => familyOf(q.labels) || 'all');
  let histogram: PromHistogram;
  try {
    histogram = mergeHistograms(histogramSeries(f, SYNC_DURATION).map((h) => h.histogram));
  } catch (e) {
    return { unavailable: `${SYNC_DURATION}: ${(e as Error).message}` };
  }
  return { syncs: histogram.count, syncSeconds: histogram.sum, histogram, pending };
}

/**
 * An upper bound of the longest sync completed between two scrapes, seconds: the smaller of
 * the _sum's increase and the upper bound of the highest bucket the increase reaches.
 */
export function longestSyncBound(before: SyncState, after: SyncState): number {
  const sum = Math.max(0, after.syncSeconds - before.syncSeconds);
  try {
    const d = histogramDelta(before.histogram, after.histogram);
    if (d.reset) return sum;
    const total = d.histogram.count;
    const top = [...d.histogram.buckets].sort((a, b) => a.le - b.le).find((b) => b.count >= total);
    return top && Number.isFinite(top.le) ? Math.min(sum, top.le) : sum;
  } catch {
    return sum;
  }
}

/** What the wait knows about one kube-proxy between scrapes. */
export interface QuietTrack {
  /** the scrape since which nothing moved (runner ms, state) */
  since: { atMs: number; state: SyncState };
  /** the newest scrape */
  last: { atMs: number; state: SyncState };
  /** the first scrape of the wait */
  first: { atMs: number; state: SyncState };
  /** upper bound of the longest sync completed during the wait, seconds (longestSyncBound
   * of each scrape interval) */
  longestSyncSeconds: number;
}

export function startTrack(state: SyncState, atMs: number): QuietTrack {
  const s = { atMs, state };
  return { since: s, last: s, first: s, longestSyncSeconds: 0 };
}

/** The track after one more scrape. A node whose counters went backwards (restart) starts over. */
export function quietStep(t: QuietTrack, state: SyncState, atMs: number): QuietTrack {
  const now = { atMs, state };
  if (state.syncs < t.last.state.syncs) return startTrack(state, atMs);
  const moved = state.syncs !== t.last.state.syncs || state.pending.length > 0;
  const longest = state.syncs > t.last.state.syncs ? Math.max(t.longestSyncSeconds, longestSyncBound(t.last.state, state)) : t.longestSyncSeconds;
  return { first: t.first, since: moved ? now : t.since, last: now, longestSyncSeconds: longest };
}

/** The span (ms) a node must stand still to count as quiet. */
export function requiredQuietMs(t: QuietTrack, quietMs: number): number {
  return quietMs + Math.ceil(t.longestSyncSeconds * 1000);
}

export function isQuiet(t: QuietTrack, quietMs: number): boolean {
  return t.last.state.pending.length === 0 && t.last.atMs - t.since.atMs >= requiredQuietMs(t, quietMs);
}

function describe(node: string, t: QuietTrack, quietMs: number): string {
  const s = t.last.state;
  if (s.pending.length > 0) return `${node}: change pending (${s.pending.join(', ')}), ${s.syncs - t.first.state.syncs} syncs while waiting`;
  return `${node}: still ${((t.last.atMs - t.since.atMs) / 1000).toFixed(1)} of ${(requiredQuietMs(t, quietMs) / 1000).toFixed(1)} s, ${s.syncs - t.first.state.syncs} syncs while waiting`;
}

/** What the wait found per node. */
export interface NodeSettle {
  node: string;
  /** the node's kube-proxy could not tell (unreachable, no stamps): not waited for */
  unavailable?: string;
  /** syncs completed while waiting */
  syncs?: number;
  quiet?: boolean;
  /** the last state, for the report */
  state?: string;
}

export interface SettleResult {
  /** every node that could tell was quiet */
  quiet: boolean;
  seconds: number;
  nodes: NodeSettle[];
  /** set when the deadline passed first */
  timedOut?: string;
}

export interface SettleOptions {
  /** default TIMEOUTS.kubeProxySettleMs */
  timeoutMs?: number;
  /** default TIMEOUTS.kubeProxyQuietMs */
  quietMs?: number;
  /** default TIMEOUTS.kubeProxyQuietPollMs */
  pollMs?: number;
  /** progress lines (at most every TIMEOUTS.progressEveryMs) */
  log?: (msg: string) => void;
  /** for messages: why the wait runs */
  what?: string;
}

class NotKubeProxyStamps extends Error {}

async function scrapeState(s: MetricsSource): Promise<SyncState> {
  const st = syncState(await parseMetrics(await s.read()));
  if (isUnavailable(st)) throw new NotKubeProxyStamps(st.unavailable);
  return st;
}

/**
 * Polls every source until each kube-proxy is quiet (see the top). Never throws for the
 * cluster's sake: a kube-proxy without the stamps or unreadable at the first scrape is left
 * out with its reason, a later failed read is retried until the deadline, and a deadline that passes returns
 * `quiet: false` with the last state per node, for the caller to report beside its numbers.
 */
export async function settleKubeProxies(sources: readonly MetricsSource[], o: SettleOptions = {}): Promise<SettleResult> {
  const quietMs = o.quietMs ?? TIMEOUTS.kubeProxyQuietMs;
  const timeout = o.timeoutMs ?? TIMEOUTS.kubeProxySettleMs;
  const t0 = performance.now();
  const tracks = new Map<string, QuietTrack>();
  const unavailable = new Map<string, string>();
  const readErrors = new Map<string, string>();
  let lastLog = t0;
  const progress = (): string =>
    sources
      .map((s) => {
        const t = tracks.get(s.node);
        const err = unavailable.get(s.node) ?? readErrors.get(s.node);
        if (err !== undefined || !t) return `${s.node}: ${err ?? 'not read yet'}`;
        return describe(s.node, t, quietMs);
      })
      .join('; ');
  const poll = async (): Promise<true | { pending: string }> => {
    const waiting = sources.filter((s) => !unavailable.has(s.node));
    const states = await Promise.all(waiting.map((s) => scrapeState(s).then((st) => ({ st }), (e: unknown) => ({ e: e as Error }))));
    const at = performance.now();
    waiting.forEach((s, i) => {
      const r = states[i]!;
      if ('e' in r) {
        // no stamps, or unreadable from the start (as the metrics window treats it): left out
        if (r.e instanceof NotKubeProxyStamps || !tracks.has(s.node)) unavailable.set(s.node, r.e instanceof NotKubeProxyStamps ? r.e.message : `${s.name}: ${r.e.message}`);
        else readErrors.set(s.node, `${s.name}: ${r.e.message}`);
        return;
      }
      readErrors.delete(s.node);
      const t = tracks.get(s.node);
      tracks.set(s.node, t ? quietStep(t, r.st, at) : startTrack(r.st, at));
    });
    const done = sources.every((s) => unavailable.has(s.node) || (tracks.has(s.node) && !readErrors.has(s.node) && isQuiet(tracks.get(s.node)!, quietMs)));
    if (done) return true;
    if (o.log && at - lastLog >= TIMEOUTS.progressEveryMs) {
      lastLog = at;
      o.log(`waiting for kube-proxy to go quiet${o.what ? ` ${o.what}` : ''}: ${progress()}`);
    }
    return { pending: progress() };
  };
  let timedOut: string | undefined;
  try {
    await waitFor(poll, { timeout, interval: o.pollMs ?? TIMEOUTS.kubeProxyQuietPollMs, what: `every kube-proxy quiet${o.what ? ` ${o.what}` : ''}` });
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    timedOut = e.message;
  }
  const nodes: NodeSettle[] = sources.map((s) => {
    const t = tracks.get(s.node);
    const why = unavailable.get(s.node);
    if (why !== undefined) return { node: s.node, unavailable: why };
    if (!t) return { node: s.node, unavailable: readErrors.get(s.node) ?? 'never read' };
    return { node: s.node, syncs: t.last.state.syncs - t.first.state.syncs, quiet: !readErrors.has(s.node) && isQuiet(t, quietMs), state: describe(s.node, t, quietMs) };
  });
  return { quiet: timedOut === undefined, seconds: (performance.now() - t0) / 1000, nodes, ...(timedOut ? { timedOut } : {}) };
}
