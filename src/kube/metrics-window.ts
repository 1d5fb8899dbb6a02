// kube-proxy's own metrics as deltas over a measurement window: one scrape of every node's
// kube-proxy when the window opens, one when it closes, and per node what happened in
// between (network programming latency, sync durations, CPU) plus where it ended
// (last sync, resident memory). The delta math (windowDelta, mergeDeltas) is pure and
// separate from the scraping, so it is tested on recorded kube-proxy output.
//
// Reading: nodes/<node>:10249/proxy/metrics through the API server. Many clusters bind
// kube-proxy's metrics to 127.0.0.1:10249, which the API server cannot reach; the kit's
// node agent (hostNetwork) relays it on /kube-proxy/metrics, read through pods/proxy
// (agentKubeProxySource, withFallback).
import { TIMEOUTS } from '../timeouts.js';
import { histogramDelta, histogramQuantile, type PromHistogram } from '../sli/prometheus.js';
import type { KubeClients } from './clients.js';
import { counterValue, gaugeValue, histogramSeries, labelsKey, mergeHistograms, parseMetrics, samples, type Families } from './prom-text.js';
import { proxyText } from './proxy.js';

export const PROGRAMMING_DURATION = 'kubeproxy_network_programming_duration_seconds';
export const SYNC_DURATION = 'kubeproxy_sync_proxy_rules_duration_seconds';
export const LAST_SYNC_TIMESTAMP = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
/** stamped when a change asks for a sync (kube-proxy v1.26+) */
export const LAST_QUEUED_TIMESTAMP = 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds';
/** the same syncs split by kind (kube-proxy v1.28+): a full sync rewrites every rule, a partial one only what changed */
export const SYNC_FULL_DURATION = 'kubeproxy_sync_full_proxy_rules_duration_seconds';
export const SYNC_PARTIAL_DURATION = 'kubeproxy_sync_partial_proxy_rules_duration_seconds';
export const CPU_SECONDS = 'process_cpu_seconds_total';
export const RESIDENT_MEMORY = 'process_resident_memory_bytes';
export const PROCESS_START = 'process_start_time_seconds';

/** Where one node's kube-proxy metrics come from. */
export interface MetricsSource {
  /** for reports, e.g. "kube-proxy node0 (nodes/proxy :10249)" */
  name: string;
  node: string;
  /** the text exposition; throws when unreachable */
  read(): Promise<string>;
}

export interface Unavailable {
  unavailable: string;
}

export function isUnavailable(x: unknown): x is Unavailable {
  return typeof x === 'object' && x !== null && 'unavailable' in x;
}

export interface HistogramWindow {
  /** observations in the window, summed over label sets (ip_family) */
  histogram: PromHistogram;
  count: number;
  /** seconds */
  sum: number;
  /** histogram_quantile over the window's buckets; NaN without observations */
  p50: number;
  p99: number;
  /** counters went backwards or the process restarted: `histogram` counts since the restart */
  reset: boolean;
}

export interface CpuWindow {
  /** process_cpu_seconds_total increase */
  seconds: number;
  /** seconds / window seconds */
  cores: number;
  reset: boolean;
}

export interface LastSync {
  /** newest kubeproxy_sync_proxy_rules_last_timestamp_seconds over ip families, Unix seconds */
  start?: number;
  end: number;
  moved: boolean;
}

/** The window's syncs by kind. */
export interface SyncKinds {
  /** rewrote every rule: at start-up, after a failed sync, a topology label change, or hourly */
  full: number;
  /** wrote only the Services that changed */
  partial: number;
}

/** What one kube-proxy did in the window (the pure part's result). */
export interface KubeProxyDelta {
  programming: HistogramWindow | Unavailable;
  syncDuration: HistogramWindow | Unavailable;
  syncKinds: SyncKinds | Unavailable;
  lastSync: LastSync | Unavailable;
  cpu: CpuWindow | Unavailable;
  residentMemoryBytes: number | Unavailable;
  /** process_start_time_seconds changed: kube-proxy restarted inside the window */
  restarted: boolean;
  /** any delta above was reset (restart or counters going backwards) */
  reset: boolean;
}

export type SourceWindow =
  | ({ source: string; node: string; ok: true; seconds: number } & KubeProxyDelta)
  | { source: string; node: string; ok: false; error: string; when: 'start' | 'end' };

export interface MergedWindow {
  /** nodes whose histogram is in the merge */
  nodes: string[];
  programming: HistogramWindow | Unavailable;
  syncDuration: HistogramWindow | Unavailable;
}

export interface WindowResult {
  startedAt: string;
  endedAt: string;
  seconds: number;
  sources: SourceWindow[];
  merged: MergedWindow;
}

export interface MetricsWindow {
  startedAt: string;
  /** sources that could not be scraped at the start (they are left out of the result's deltas) */
  failedAtStart: { source: string; node: string; error: string }[];
  close(): Promise<WindowResult>;
}

// ---------------------------------------------------------------- pure part

function summarize(histogram: PromHistogram, reset: boolean): HistogramWindow {
  return {
    histogram,
    count: histogram.count,
    sum: histogram.sum,
    p50: histogramQuantile(0.5, histogram),
    p99: histogramQuantile(0.99, histogram),
    reset,
  };
}

function exposesKubeProxy(f: Families): boolean {
  return f.has(SYNC_DURATION);
}

/**
 * Histogram increase between two scrapes, per label set then summed. A series new at the
 * end counts whole (kube-proxy exposes a labelled histogram only from its first
 * observation); after a restart every series counts from the restart.
 */
function histogramWindow(name: string, start: Families, end: Families, restarted: boolean): HistogramWindow | Unavailable {
  const after = histogramSeries(end, name);
  const before = new Map(histogramSeries(start, name).map((s) => [labelsKey(s.labels), s.histogram]));
  if (after.length === 0) {
    if (before.size > 0) return { unavailable: `${name} was exposed at the start of the window and not at the end` };
    // kube-proxy registers its labelled histograms lazily: none yet is "nothing observed"
    if (name === PROGRAMMING_DURATION && exposesKubeProxy(end)) return summarize({ buckets: [], sum: 0, count: 0 }, restarted);
    return { unavailable: `${name} is not exposed` };
  }
  let reset = restarted || [...before.keys()].some((k) => !after.some((s) => labelsKey(s.labels) === k));
  const deltas: PromHistogram[] = [];
  try {
    for (const s of after) {
      const b = before.get(labelsKey(s.labels));
      if (restarted || b === undefined) {
        deltas.push(s.histogram);
        continue;
      }
      const d = histogramDelta(b, s.histogram);
      reset ||= d.reset;
      deltas.push(d.histogram);
    }
    return summarize(mergeHistograms(deltas), reset);
  } catch (e) {
    return { unavailable: `${name}: ${(e as Error).message}` };
  }
}

/** Full and partial syncs in the window. kube-proxy registers each of the two histograms
 * at its first observation (a new kube-proxy has done only its full sync): one missing
 * while the other is exposed counts zero; both missing is a kube-proxy without them (< v1.28). */
function syncKindsWindow(start: Families, end: Families, restarted: boolean): SyncKinds | Unavailable {
  const exposed = (n: string) => histogramSeries(end, n).length > 0;
  if (!exposed(SYNC_FULL_DURATION) && !exposed(SYNC_PARTIAL_DURATION)) return { unavailable: `${SYNC_FULL_DURATION} and ${SYNC_PARTIAL_DURATION} are not exposed (kube-proxy older than v1.28)` };
  const count = (n: string): number | Unavailable => {
    if (!exposed(n)) return 0;
    const h = histogramWindow(n, start, end, restarted);
    return isUnavailable(h) ? h : h.count;
  };
  const full = count(SYNC_FULL_DURATION);
  const partial = count(SYNC_PARTIAL_DURATION);
  if (isUnavailable(full)) return full;
  if (isUnavailable(partial)) return partial;
  return { full, partial };
}

function lastSyncOf(f: Families): number | undefined {
  const ss = samples(f, LAST_SYNC_TIMESTAMP).filter((s) => Number.isFinite(s.value));
  return ss.length === 0 ? undefined : Math.max(...ss.map((s) => s.value));
}

/**
 * What a kube-proxy did between two parsed scrapes `seconds` apart. Never throws: what
 * is missing or unusable is `{ unavailable: reason }`.
 */
export function windowDelta(start: Families, end: Families, seconds: number): KubeProxyDelta {
  const startedBefore = gaugeValue(start, PROCESS_START);
  const startedAfter = gaugeValue(end, PROCESS_START);
  const restarted = startedBefore !== undefined && startedAfter !== undefined && startedAfter !== startedBefore;

  const programming = histogramWindow(PROGRAMMING_DURATION, start, end, restarted);
  const syncDuration = histogramWindow(SYNC_DURATION, start, end, restarted);
  const syncKinds = syncKindsWindow(start, end, restarted);

  const s0 = lastSyncOf(start);
  const s1 = lastSyncOf(end);
  const lastSync: LastSync | Unavailable =
    s1 === undefined ? { unavailable: `${LAST_SYNC_TIMESTAMP} is not exposed` } : { ...(s0 !== undefined ? { start: s0 } : {}), end: s1, moved: s0 === undefined || s1 > s0 };

  let cpu: CpuWindow | Unavailable;
  const c0 = counterValue(start, CPU_SECONDS);
  const c1 = counterValue(end, CPU_SECONDS);
  if (c0 === undefined || c1 === undefined) cpu = { unavailable: `${CPU_SECONDS} is not exposed${c1 === undefined ? '' : ' at the start'}` };
  else if (!(seconds > 0)) cpu = { unavailable: `window of ${seconds} s` };
  else {
    const cpuReset = restarted || c1 < c0;
    const used = cpuReset ? c1 : c1 - c0;
    cpu = { seconds: used, cores: used / seconds, reset: cpuReset };
  }

  const rss = gaugeValue(end, RESIDENT_MEMORY);
  const residentMemoryBytes = rss === undefined ? { unavailable: `${RESIDENT_MEMORY} is not exposed` } : rss;

  const reset = restarted || [programming, syncDuration, cpu].some((x) => !isUnavailable(x) && x.reset);
  return { programming, syncDuration, syncKinds, lastSync, cpu, residentMemoryBytes, restarted, reset };
}

function mergeOne(parts: { node: string; h: HistogramWindow | Unavailable }[], name: string): HistogramWindow | Unavailable {
  const ok = parts.filter((p): p is { node: string; h: HistogramWindow } => !isUnavailable(p.h));
  if (ok.length === 0) return { unavailable: `${name}: no node has it` };
  try {
    return summarize(mergeHistograms(ok.map((p) => p.h.histogram)), ok.some((p) => p.h.reset));
  } catch (e) {
    return { unavailable: `${name}: ${(e as Error).message}` };
  }
}

/** All nodes' histograms as one (the cluster-wide distribution of the window). */
export function mergeDeltas(deltas: { node: string; delta: KubeProxyDelta }[]): MergedWindow {
  const usable = (key: 'programming' | 'syncDuration') => deltas.map((d) => ({ node: d.node, h: d.delta[key] }));
  const nodes = deltas.filter((d) => !isUnavailable(d.delta.programming) || !isUnavailable(d.delta.syncDuration)).map((d) => d.node);
  return {
    nodes,
    programming: mergeOne(usable('programming'), PROGRAMMING_DURATION),
    syncDuration: mergeOne(usable('syncDuration'), SYNC_DURATION),
  };
}

// ---------------------------------------------------------------- sources and I/O

/** Every node's kube-proxy through the API server's node proxy (nodes/<node>:<port>/proxy/metrics). */
export function kubeProxySources(clients: KubeClients, nodes: string[], o: { port?: number; timeoutMs?: number } = {}): MetricsSource[] {
  const port = o.port ?? 10249;
  return nodes.map((node) => ({
    name: `kube-proxy ${node} (nodes/proxy :${port})`,
    node,
    read: () => proxyText(clients, { kind: 'node', name: node, port }, '/metrics', { timeoutMs: o.timeoutMs ?? TIMEOUTS.metricsScrapeMs, retry: false }),
  }));
}

/** A node's kube-proxy relayed by the kit's agent pod on that node (GET /kube-proxy/metrics via pods/proxy). */
export function agentKubeProxySource(
  clients: KubeClients,
  agent: { namespace: string; pod: string; node: string; port?: number; timeoutMs?: number },
): MetricsSource {
  const port = agent.port ?? 9464;
  return {
    name: `kube-proxy ${agent.node} (agent ${agent.namespace}/${agent.pod}:${port})`,
    node: agent.node,
    read: () => proxyText(clients, { kind: 'pod', namespace: agent.namespace, name: agent.pod, port }, '/kube-proxy/metrics', { timeoutMs: agent.timeoutMs ?? TIMEOUTS.metricsScrapeMs }),
  };
}

/** `primary`, or `fallback` when primary fails (e.g. metrics bound to 127.0.0.1); the error names both. */
export function withFallback(primary: MetricsSource, fallback: MetricsSource): MetricsSource {
  return {
    name: `${primary.name}, else ${fallback.name}`,
    node: primary.node,
    read: async () => {
      try {
        return await primary.read();
      } catch (e1) {
        try {
          return await fallback.read();
        } catch (e2) {
          throw new Error(`${primary.name}: ${(e1 as Error).message}; ${fallback.name}: ${(e2 as Error).message}`, { cause: e2 });
        }
      }
    },
  };
}

interface Scrape {
  families: Families;
  /** ms, when the answer was in */
  at: number;
}

async function scrape(source: MetricsSource): Promise<Scrape> {
  const text = await source.read();
  const at = Date.now();
  return { families: await parseMetrics(text), at };
}

/**
 * Scrapes every source now; `close()` scrapes again and returns the per-node deltas and
 * the merged histograms. A source that fails at the start is reported in the result with
 * its error and the others still count.
 */
export async function openMetricsWindow(sources: readonly MetricsSource[]): Promise<MetricsWindow> {
  const t0 = Date.now();
  const first = await Promise.all(sources.map((s) => scrape(s).then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, error: (e as Error).message }))));
  const failedAtStart = sources.flatMap((s, i) => {
    const f = first[i]!;
    return f.ok ? [] : [{ source: s.name, node: s.node, error: f.error }];
  });
  let closed: Promise<WindowResult> | undefined;
  return {
    startedAt: new Date(t0).toISOString(),
    failedAtStart,
    close: () =>
      (closed ??= (async () => {
        const results = await Promise.all(
          sources.map(async (s, i): Promise<SourceWindow> => {
            const f = first[i]!;
            if (!f.ok) return { source: s.name, node: s.node, ok: false, error: f.error, when: 'start' };
            try {
              const end = await scrape(s);
              const seconds = (end.at - f.r.at) / 1000;
              return { source: s.name, node: s.node, ok: true, seconds, ...windowDelta(f.r.families, end.families, seconds) };
            } catch (e) {
              return { source: s.name, node: s.node, ok: false, error: (e as Error).message, when: 'end' };
            }
          }),
        );
        const t1 = Date.now();
        const ok = results.filter((r): r is Extract<SourceWindow, { ok: true }> => r.ok);
        return {
          startedAt: new Date(t0).toISOString(),
          endedAt: new Date(t1).toISOString(),
          seconds: (t1 - t0) / 1000,
          sources: results,
          merged: mergeDeltas(ok.map((r) => ({ node: r.node, delta: r }))),
        };
      })()),
  };
}
