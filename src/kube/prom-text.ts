// Prometheus text exposition (what kube-proxy, the kubelet and the kit's agent serve on
// /metrics) parsed into families, with accessors for the few numbers the kit reads.
//
// Parsing is prom2javascript's (a small TypeScript parser that groups histogram and summary
// series per label set and checks each histogram's +Inf bucket against its _count). The
// better known parse-prometheus-text-format folds every label set of a histogram into one
// (kube-proxy's histograms carry ip_family, so it returned the IPv6 buckets without sum or
// count for a dual-stack proxy); see the unit test on recorded kube-proxy output.
// Its number grammar has no NaN or -Inf (legal sample values: a Go summary with no
// observations exposes NaN quantiles); such samples are left out here, so one NaN gauge
// makes that gauge absent instead of failing the whole scrape.
// This module only reshapes the parser's output into PromHistogram (src/sli/prometheus.ts)
// and numbers; the histogram math lives there.
import { getMetricsFromIterator, type PromData, type PromHistogramData, type PromMetric, type PromSummaryData } from 'prom2javascript';
import type { PromBucket, PromHistogram } from '../sli/prometheus.js';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
  timestampMs?: number;
}

export interface HistogramSeries {
  /** the series' labels without `le` */
  labels: Labels;
  histogram: PromHistogram;
}

export interface SummarySeries {
  /** the series' labels without `quantile` */
  labels: Labels;
  quantiles: { q: number; value: number }[];
  sum?: number;
  count?: number;
}

export interface Family {
  name: string;
  /** TYPE as exposed (counter, gauge, histogram, summary, untyped); `unknown` without a TYPE line */
  type: string;
  help: string;
  /** counters, gauges, untyped: one sample per label set */
  samples: Sample[];
  histograms: HistogramSeries[];
  summaries: SummarySeries[];
}

export type Families = ReadonlyMap<string, Family>;

export class PromParseError extends Error {
  override name = 'PromParseError';
}

/** Number of a label value or sample as exposed: +Inf, -Inf, NaN, Go float formats. */
function promNumber(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

function toHistogram(d: PromHistogramData): PromHistogram {
  const buckets: PromBucket[] = Object.entries(d.buckets)
    .map(([le, count]) => ({ le: promNumber(le), count }))
    .sort((a, b) => a.le - b.le);
  return { buckets, sum: d.sum ?? 0, count: d.count };
}

function toFamily(name: string, m: PromMetric): Family {
  const f: Family = { name, type: m.type, help: m.help, samples: [], histograms: [], summaries: [] };
  if (m.type === 'histogram') {
    for (const d of m.data as PromHistogramData[]) f.histograms.push({ labels: d.labels, histogram: toHistogram(d) });
  } else if (m.type === 'summary') {
    for (const d of m.data as PromSummaryData[]) {
      f.summaries.push({
        labels: d.labels,
        quantiles: Object.entries(d.quantiles).map(([q, value]) => ({ q: promNumber(q), value })).sort((a, b) => a.q - b.q),
        ...(d.sum !== undefined ? { sum: d.sum } : {}),
        ...(d.count !== undefined ? { count: d.count } : {}),
      });
    }
  } else {
    for (const d of m.data as PromData[]) {
      f.samples.push({ labels: d.labels, value: d.value, ...(d.timestamp !== undefined ? { timestampMs: d.timestamp } : {}) });
    }
  }
  return f;
}

/** A sample line whose value (the last token, or the one before a timestamp) is NaN or -Inf. */
const UNPARSEABLE_VALUE = /\s(?:NaN|-Inf)(?:\s+-?\d+)?\s*$/;

/**
 * Parses a text exposition. Async only because the parser's API is (it works in one go).
 * Samples valued NaN or -Inf are left out (see above). Throws PromParseError naming the
 * offending line or histogram.
 */
export async function parseMetrics(text: string): Promise<Families> {
  const lines = text.split(/\r?\n/).filter((l) => l.trimStart().startsWith('#') || !UNPARSEABLE_VALUE.test(l));
  let parsed: Record<string, PromMetric>;
  try {
    parsed = await getMetricsFromIterator(lines[Symbol.iterator]());
  } catch (e) {
    throw new PromParseError(`not Prometheus text format: ${(e as Error).message}`);
  }
  const families = new Map<string, Family>();
  for (const [name, m] of Object.entries(parsed)) families.set(name, toFamily(name, m));
  return families;
}

/** Every pair of `want` is in `have` (no `want`: everything matches). */
export function labelsMatch(have: Labels, want: Labels | undefined): boolean {
  if (!want) return true;
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** A label set as a stable key (sorted), e.g. for pairing series of two scrapes. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The samples of a counter/gauge/untyped family whose labels include `labels`. */
export function samples(families: Families, name: string, labels?: Labels): Sample[] {
  return (families.get(name)?.samples ?? []).filter((s) => labelsMatch(s.labels, labels));
}

function sumOf(families: Families, name: string, labels: Labels | undefined): number | undefined {
  const ss = samples(families, name, labels);
  return ss.length === 0 ? undefined : ss.reduce((acc, s) => acc + s.value, 0);
}

/** A counter's value, summed over the matching label sets; undefined when none is exposed. */
export function counterValue(families: Families, name: string, labels?: Labels): number | undefined {
  return sumOf(families, name, labels);
}

/** A gauge's value, summed over the matching label sets; undefined when none is exposed.
 * (For per-series gauges such as timestamps, read `samples` and take what fits.) */
export function gaugeValue(families: Families, name: string, labels?: Labels): number | undefined {
  return sumOf(families, name, labels);
}

/** The histogram series of a family whose labels include `labels`. */
export function histogramSeries(families: Families, name: string, labels?: Labels): HistogramSeries[] {
  return (families.get(name)?.histograms ?? []).filter((h) => labelsMatch(h.labels, labels));
}

/** A histogram, summed over the matching label sets; undefined when none is exposed. */
export function histogram(families: Families, name: string, labels?: Labels): PromHistogram | undefined {
  const hs = histogramSeries(families, name, labels);
  return hs.length === 0 ? undefined : mergeHistograms(hs.map((h) => h.histogram));
}

/**
 * Sum of histograms with the same bucket bounds (series of one family, or one family
 * across nodes). Histograms without buckets (nothing observed) add nothing. Throws when
 * two have different bounds: their cumulative counts cannot be added.
 */
export function mergeHistograms(hs: readonly PromHistogram[]): PromHistogram {
  const withBuckets = hs.filter((h) => h.buckets.length > 0);
  const first = withBuckets[0];
  const sum = hs.reduce((acc, h) => acc + h.sum, 0);
  const count = hs.reduce((acc, h) => acc + h.count, 0);
  if (!first) return { buckets: [], sum, count };
  const les = first.buckets.map((b) => b.le).sort((a, b) => a - b);
  const counts = les.map(() => 0);
  for (const h of withBuckets) {
    const sorted = [...h.buckets].sort((a, b) => a.le - b.le);
    if (sorted.length !== les.length || sorted.some((b, i) => b.le !== les[i])) {
      throw new Error(`mergeHistograms: bucket bounds differ: [${les.join(',')}] vs [${sorted.map((b) => b.le).join(',')}]`);
    }
    sorted.forEach((b, i) => (counts[i] = (counts[i] as number) + b.count));
  }
  return { buckets: les.map((le, i) => ({ le, count: counts[i] as number })), sum, count };
}
