import { quantileSorted, sortedCopy } from './quantile.js';

// Fairness of concurrent flows, computed over per-connection throughputs.
//
// Both statistics describe the set of flows that actually shared the path in a run (a
// population), so verdicts judge them by their observed value, without a bootstrap CI.
//
// Undefined cases return NaN rather than a flattering number: with no flows, or with
// every flow at zero throughput, "fair" would be vacuous, and an SLO must not pass on a
// dataplane that moved no bytes. Verdicts report NaN as inconclusive.

function checkNonNegative(xs: ArrayLike<number>, what: string): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    if (!(x >= 0) || x === Infinity) {
      throw new RangeError(`${what}: value ${i} must be a finite number >= 0, got ${x}`);
    }
  }
}

/**
 * Jain's fairness index (Σx)² / (n·Σx²): 1 when all flows get the same share, 1/n when
 * one flow gets everything. NaN for no flows or all-zero throughputs.
 */
export function jainIndex(xs: ArrayLike<number>): number {
  checkNonNegative(xs, 'jainIndex');
  const n = xs.length;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i] as number;
    sum += x;
    sumSq += x * x;
  }
  if (n === 0 || sumSq === 0) return NaN;
  // Rounding can push a perfectly fair set a hair above 1.
  return Math.min(1, (sum * sum) / (n * sumSq));
}

/**
 * p10/p50 of the throughputs (type-7 quantiles): how far the slow tail lags the typical
 * flow. Jain's index hides one starved flow among many (sorted [0.2, 2, 2, 2, 2] has Jain
 * 0.84 but p10/p50 0.46). NaN for no flows or a zero median.
 */
export function p10p50Ratio(xs: ArrayLike<number>): number {
  checkNonNegative(xs, 'p10p50Ratio');
  const sorted = sortedCopy(xs);
  const p50 = quantileSorted(sorted, 0.5);
  if (!(p50 > 0)) return NaN;
  return quantileSorted(sorted, 0.1) / p50;
}
