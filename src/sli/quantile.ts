import type { Summary } from './types.js';

// Exact sample quantiles, Hyndman & Fan (1996) type 7 — the default of R's quantile()
// and numpy.quantile: with the n samples sorted ascending as x[0..n-1],
//   h = (n - 1)·q,  Q(q) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])
// i.e. linear interpolation between the two closest ranks. Q(0) = min, Q(1) = max,
// and the median of an even-sized set is the mean of the middle two.
//
// Empty input yields NaN rather than throwing: "no data" flows into verdicts, which turn
// it into an inconclusive result with a reason. NaN samples throw — they are upstream bugs
// that would otherwise sort to an arbitrary place and silently shift every quantile.

function checkQ(q: number): void {
  if (!(q >= 0 && q <= 1)) {
    throw new RangeError(`quantile q must be a number in [0, 1], got ${q}`);
  }
}

/** Sorted copy as a Float64Array (numeric sort, much faster than Array#sort with a comparator). */
export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(samples);
  for (let i = 0; i < sorted.length; i++) {
    if (Number.isNaN(sorted[i])) throw new RangeError(`sample ${i} is NaN`);
  }
  return sorted.sort();
}

/** Type-7 quantile of samples already sorted ascending (not checked). NaN if empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  checkQ(q);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const frac = h - lo;
  if (frac === 0 || lo + 1 >= n) return a;
  const b = sorted[lo + 1] as number;
  // Equal neighbours (including ±Infinity) need no interpolation; avoids Inf − Inf = NaN.
  return a === b ? a : a + frac * (b - a);
}

/** Type-7 quantile, q in [0, 1]. NaN for no samples. */
export function quantile(samples: ArrayLike<number>, q: number): number {
  checkQ(q);
  return quantileSorted(sortedCopy(samples), q);
}

/** Several quantiles with a single sort. */
export function quantiles(samples: ArrayLike<number>, qs: readonly number[]): number[] {
  qs.forEach(checkQ);
  const sorted = sortedCopy(samples);
  return qs.map((q) => quantileSorted(sorted, q));
}

export function mean(samples: ArrayLike<number>): number {
  const n = samples.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i] as number;
  return sum / n;
}

/** count/min/max/mean and the tail quantiles reporters show. All NaN (count 0) when empty. */
export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  return {
    count: n,
    min: n === 0 ? NaN : (sorted[0] as number),
    max: n === 0 ? NaN : (sorted[n - 1] as number),
    mean: mean(sorted),
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
  };
}
