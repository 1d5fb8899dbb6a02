import { mean, quantileSorted, sortedCopy } from './quantile.js';
import { beta, mulberry32 } from './random.js';
import type { ResampleStatistic } from './types.js';

// Percentile-bootstrap confidence intervals for a quantile or mean, for the ratio of a
// statistic over two independent sample sets, and for their difference (A/B comparison).
// Resampling uses a seeded PRNG, so the same data always gives the same interval.
//
// Speed. A naive bootstrap of a quantile costs O(n) per replicate (draw n indices, select);
// 100k samples × 1000 replicates would be 1e8 draws. We draw the replicate's quantile
// directly instead, exactly and in O(1): resampling with replacement picks indices
// I = ⌊n·U⌋ of the sorted samples with U uniform, and ⌊n·U⌋ is monotone in U, so the r-th
// smallest resampled value is sorted[⌊n·U₍ᵣ₎⌋] where U₍ᵣ₎ ~ Beta(r, n−r+1) is the r-th
// uniform order statistic. The next order statistic, needed to interpolate the type-7
// quantile, is U₍ᵣ₊₁₎ = U₍ᵣ₎ + (1−U₍ᵣ₎)·(1 − V^(1/(n−r))), the minimum of the n−r uniforms
// above U₍ᵣ₎. Same distribution as the naive bootstrap, at two Beta draws per replicate.
//
// The mean has no such shortcut. Above `meanResampleCap` samples (default 20,000) each
// replicate averages `cap` draws instead of n and shrinks its deviation from the sample
// mean by √(cap/n) — the m-out-of-n bootstrap, valid for the mean because its spread
// scales as 1/√n. At or below the cap it is the ordinary bootstrap.

export interface BootstrapOptions {
  /** Number of bootstrap replicates; default 1000. */
  iterations?: number;
  /** Two-sided confidence level in (0, 1); default 0.95. */
  confidence?: number;
  /** PRNG seed; default DEFAULT_SEED, so results are reproducible without one. */
  seed?: number;
  /** Largest resample drawn for a mean replicate; default 20,000. */
  meanResampleCap?: number;
}

export interface ConfidenceInterval {
  /** The statistic over the original samples. */
  estimate: number;
  lo: number;
  hi: number;
  confidence: number;
  iterations: number;
  /** Replicates left out because they were undefined (0/0 in a ratio). */
  dropped: number;
}

export const DEFAULT_SEED = 0x6b736c69; // "ksli"
const DEFAULT_ITERATIONS = 1000;
const DEFAULT_CONFIDENCE = 0.95;
const DEFAULT_MEAN_CAP = 20_000;

interface Resolved {
  iterations: number;
  confidence: number;
  rng: () => number;
  meanCap: number;
}

function resolve(opts: BootstrapOptions): Resolved {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const meanCap = opts.meanResampleCap ?? DEFAULT_MEAN_CAP;
  if (!(Number.isInteger(iterations) && iterations >= 1)) {
    throw new RangeError(`bootstrap iterations must be a positive integer, got ${iterations}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`bootstrap confidence must be in (0, 1), got ${confidence}`);
  }
  if (!(Number.isInteger(meanCap) && meanCap >= 1)) {
    throw new RangeError(`meanResampleCap must be a positive integer, got ${meanCap}`);
  }
  return { iterations, confidence, meanCap, rng: mulberry32(opts.seed ?? DEFAULT_SEED) };
}

/** Draws bootstrap replicates of one statistic over one sample set. */
interface Replicator {
  estimate: number;
  draw(rng: () => number): number;
}

function quantileReplicator(samples: ArrayLike<number>, q: number): Replicator {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be a number in [0, 1], got ${q}`);
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  const estimate = quantileSorted(sorted, q);
  if (n === 0) return { estimate, draw: () => NaN };
  const h = (n - 1) * q;
  const r = Math.floor(h) + 1; // 1-based rank of the lower neighbour
  const frac = h - (r - 1);
  const above = n - r; // order statistics above rank r
  const at = (u: number): number => sorted[Math.min(n - 1, Math.floor(n * u))] as number;
  return {
    estimate,
    draw(rng) {
      const u = beta(rng, r, n - r + 1);
      const a = at(u);
      if (frac === 0 || above === 0) return a;
      const u2 = u + (1 - u) * -Math.expm1(Math.log(rng()) / above);
      const b = at(u2);
      return a === b ? a : a + frac * (b - a);
    },
  };
}

function meanReplicator(samples: ArrayLike<number>, cap: number): Replicator {
  const xs = Float64Array.from(samples);
  const n = xs.length;
  const estimate = mean(xs);
  if (n === 0) return { estimate, draw: () => NaN };
  const m = Math.min(n, cap);
  const shrink = Math.sqrt(m / n);
  return {
    estimate,
    draw(rng) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += xs[Math.floor(rng() * n)] as number;
      return estimate + (sum / m - estimate) * shrink;
    },
  };
}

function replicator(samples: ArrayLike<number>, statistic: ResampleStatistic, cap: number): Replicator {
  return statistic.kind === 'quantile'
    ? quantileReplicator(samples, statistic.q)
    : meanReplicator(samples, cap);
}

function interval(estimate: number, replicates: Float64Array, dropped: number, o: Resolved): ConfidenceInterval {
  const kept = dropped === 0 ? replicates : replicates.filter((x) => !Number.isNaN(x));
  kept.sort();
  const alpha = (1 - o.confidence) / 2;
  return {
    estimate,
    lo: quantileSorted(kept, alpha),
    hi: quantileSorted(kept, 1 - alpha),
    confidence: o.confidence,
    iterations: o.iterations,
    dropped,
  };
}

function run(
  estimate: number,
  o: Resolved,
  next: (rng: () => number) => number,
): ConfidenceInterval {
  const reps = new Float64Array(o.iterations);
  let dropped = 0;
  for (let i = 0; i < o.iterations; i++) {
    const x = next(o.rng);
    if (Number.isNaN(x)) dropped++;
    reps[i] = x;
  }
  return interval(estimate, reps, dropped, o);
}

/**
 * The raw bootstrap distribution: `iterations` replicates of the statistic, in draw order.
 * For plots and diagnostics; the CI functions below summarize exactly these.
 */
export function bootstrapReplicates(
  samples: ArrayLike<number>,
  statistic: ResampleStatistic,
  opts: BootstrapOptions = {},
): Float64Array {
  const o = resolve(opts);
  const rep = replicator(samples, statistic, o.meanCap);
  const reps = new Float64Array(o.iterations);
  for (let i = 0; i < o.iterations; i++) reps[i] = rep.draw(o.rng);
  return reps;
}

/** Bootstrap CI of a quantile or mean of one sample set. All NaN for no samples. */
export function bootstrapCI(
  samples: ArrayLike<number>,
  statistic: ResampleStatistic,
  opts: BootstrapOptions = {},
): ConfidenceInterval {
  const o = resolve(opts);
  const rep = replicator(samples, statistic, o.meanCap);
  return run(rep.estimate, o, (rng) => rep.draw(rng));
}

/** Bootstrap CI of the type-7 quantile q of samples. */
export function bootstrapQuantileCI(
  samples: ArrayLike<number>,
  q: number,
  opts: BootstrapOptions = {},
): ConfidenceInterval {
  return bootstrapCI(samples, { kind: 'quantile', q }, opts);
}

/**
 * CI of statistic(numerator) / statistic(denominator), resampling the two sets
 * independently (e.g. p50 at 10,000 Services over p50 at 100 Services).
 * Replicates of 0/0 are dropped and counted; x/0 gives Infinity and is kept.
 */
export function bootstrapRatioCI(
  numerator: ArrayLike<number>,
  denominator: ArrayLike<number>,
  statistic: ResampleStatistic,
  opts: BootstrapOptions = {},
): ConfidenceInterval {
  const o = resolve(opts);
  const num = replicator(numerator, statistic, o.meanCap);
  const den = replicator(denominator, statistic, o.meanCap);
  return run(num.estimate / den.estimate, o, (rng) => num.draw(rng) / den.draw(rng));
}

/** CI of statistic(candidate) − statistic(base), resampling the two sets independently. */
export function bootstrapDifferenceCI(
  candidate: ArrayLike<number>,
  base: ArrayLike<number>,
  statistic: ResampleStatistic,
  opts: BootstrapOptions = {},
): ConfidenceInterval {
  const o = resolve(opts);
  const cand = replicator(candidate, statistic, o.meanCap);
  const b = replicator(base, statistic, o.meanCap);
  return run(cand.estimate - b.estimate, o, (rng) => cand.draw(rng) - b.draw(rng));
}
