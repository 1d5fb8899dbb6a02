// Prometheus classic histograms: deltas over a measurement window and histogram_quantile.
// Used for cross-checks against kube-proxy's own histograms (e.g.
// kubeproxy_network_programming_duration_seconds), read as two scrapes around a window.

export interface PromBucket {
  /** Inclusive upper bound; Infinity for the +Inf bucket. */
  le: number;
  /** Cumulative count of observations <= le, as exposed. */
  count: number;
}

export interface PromHistogram {
  buckets: PromBucket[];
  sum: number;
  count: number;
}

export interface HistogramDelta {
  histogram: PromHistogram;
  /** A counter went backwards (process restart): `histogram` is `after` as-is. */
  reset: boolean;
}

function byLe(h: PromHistogram): PromBucket[] {
  return [...h.buckets].sort((a, b) => a.le - b.le);
}

/**
 * Observations between two scrapes of the same histogram. Like Prometheus's increase()
 * on each series, a decrease of any count means the counters were reset in between;
 * the counts since the reset are then `after` itself, and `reset` says so.
 * Throws when the two scrapes have different bucket layouts.
 */
export function histogramDelta(before: PromHistogram, after: PromHistogram): HistogramDelta {
  const b = byLe(before);
  const a = byLe(after);
  const sameLayout = a.length === b.length && a.every((bucket, i) => bucket.le === b[i]?.le);
  if (!sameLayout) {
    const les = (h: PromBucket[]) => h.map((x) => x.le).join(',');
    throw new Error(`histogramDelta: bucket bounds differ between scrapes: [${les(b)}] vs [${les(a)}]`);
  }
  const reset = after.count < before.count || a.some((bucket, i) => bucket.count < (b[i] as PromBucket).count);
  if (reset) return { histogram: { buckets: a, sum: after.sum, count: after.count }, reset: true };
  return {
    histogram: {
      buckets: a.map((bucket, i) => ({ le: bucket.le, count: bucket.count - (b[i] as PromBucket).count })),
      sum: after.sum - before.sum,
      count: after.count - before.count,
    },
    reset: false,
  };
}

/** Relative tolerance below which bucket count differences are float noise (as Prometheus). */
const SMALL_DELTA_TOLERANCE = 1e-12;

/**
 * The q-quantile of a classic histogram with PromQL histogram_quantile semantics:
 * - q < 0 → -Inf, q > 1 → +Inf, q NaN → NaN;
 * - buckets are sorted by le, buckets with equal le merged; NaN without a +Inf bucket or
 *   with fewer than two buckets; NaN for zero observations (the +Inf bucket's count);
 * - counts that differ from their predecessor by a relative 1e-12 are treated as equal,
 *   then any decrease is flattened to the running maximum (the monotonicity fix);
 * - the quantile's rank q·total is located in the first bucket whose cumulative count
 *   reaches it, and interpolated linearly inside that bucket; the lowest bucket starts at 0
 *   if its upper bound is > 0, otherwise its upper bound is returned;
 * - a rank in the +Inf bucket returns the upper bound of the highest finite bucket.
 * `hist.count` is not consulted: like PromQL, the +Inf bucket is the total.
 */
export function histogramQuantile(q: number, hist: PromHistogram): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = byLe(hist);
  const last = sorted[sorted.length - 1];
  if (last === undefined || last.le !== Infinity) return NaN;

  const buckets: PromBucket[] = [];
  for (const bucket of sorted) {
    const prev = buckets[buckets.length - 1];
    if (prev !== undefined && prev.le === bucket.le) prev.count += bucket.count;
    else buckets.push({ le: bucket.le, count: bucket.count });
  }
  fixPrecision(buckets);
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;

  const total = (buckets[buckets.length - 1] as PromBucket).count;
  if (total === 0) return NaN;
  let rank = q * total;
  // First bucket (excluding +Inf) whose cumulative count reaches the rank.
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((buckets[mid] as PromBucket).count >= rank) hi = mid;
    else lo = mid + 1;
  }
  const i = lo;
  if (i === buckets.length - 1) return (buckets[buckets.length - 2] as PromBucket).le;
  const bucket = buckets[i] as PromBucket;
  if (i === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  if (i > 0) {
    const prev = buckets[i - 1] as PromBucket;
    start = prev.le;
    count -= prev.count;
    rank -= prev.count;
  }
  return start + (bucket.le - start) * (rank / count);
}

function fixPrecision(buckets: PromBucket[]): void {
  let prev = (buckets[0] as PromBucket).count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i] as PromBucket;
    const delta = Math.abs(b.count - prev);
    if (delta === 0) continue;
    if (delta / b.count <= SMALL_DELTA_TOLERANCE) b.count = prev;
    else prev = b.count;
  }
}

function ensureMonotonic(buckets: PromBucket[]): void {
  let max = (buckets[0] as PromBucket).count;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
}
