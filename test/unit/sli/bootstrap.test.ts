import { describe, expect, test } from 'vitest';
import {
  bootstrapCI,
  bootstrapDifferenceCI,
  bootstrapQuantileCI,
  bootstrapRatioCI,
  bootstrapReplicates,
  mean,
  mulberry32,
  quantile,
  quantileSorted,
} from '../../../src/sli/index.js';

function exponential(n: number, rng: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => -Math.log(rng()) * scale);
}

function meanSd(xs: ArrayLike<number>): [number, number] {
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += ((xs[i] as number) - m) ** 2;
  return [m, Math.sqrt(ss / (xs.length - 1))];
}

/** Textbook bootstrap: resample n with replacement, sort, take the type-7 quantile. */
function naiveReplicates(xs: readonly number[], q: number, B: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const n = xs.length;
  const out = new Float64Array(B);
  const buf = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) buf[i] = xs[Math.floor(rng() * n)] as number;
    buf.sort();
    out[b] = quantileSorted(buf, q);
  }
  return out;
}

describe('mulberry32', () => {
  test('deterministic, in (0, 1), roughly uniform', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 100_000 }, () => a());
    expect(Array.from({ length: 100_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 2);
    expect(mulberry32(124)()).not.toBe(mulberry32(123)());
  });
});

describe('bootstrap of a quantile', () => {
  test('O(1) order-statistic draws have the same distribution as textbook resampling', () => {
    // Spacing 10 between samples: an off-by-one rank would move the mean by ~10.
    const xs = Array.from({ length: 100 }, (_, i) => 10 * (i + 1));
    for (const q of [0.5, 0.9, 0.25, 0.99]) {
      const fast = bootstrapReplicates(xs, { kind: 'quantile', q }, { iterations: 20_000, seed: 1 });
      const slow = naiveReplicates(xs, q, 20_000, 2);
      const [mf, sf] = meanSd(fast);
      const [ms, ss] = meanSd(slow);
      expect(Math.abs(mf - ms), `mean at q=${q}`).toBeLessThan(0.5);
      expect(Math.abs(sf - ss) / ss, `sd at q=${q}`).toBeLessThan(0.04);
    }
  });

  test('deterministic for a seed, different for another seed', () => {
    const xs = exponential(5000, mulberry32(5));
    const a = bootstrapQuantileCI(xs, 0.99, { seed: 7 });
    const b = bootstrapQuantileCI(xs, 0.99, { seed: 7 });
    const c = bootstrapQuantileCI(xs, 0.99, { seed: 8 });
    expect(a).toEqual(b);
    expect([c.lo, c.hi]).not.toEqual([a.lo, a.hi]);
    expect(bootstrapQuantileCI(xs, 0.99)).toEqual(bootstrapQuantileCI(xs, 0.99)); // default seed
  });

  test('estimate is the type-7 quantile and lies inside the interval', () => {
    const xs = exponential(2000, mulberry32(11));
    const ci = bootstrapQuantileCI(xs, 0.9);
    expect(ci.estimate).toBe(quantile(xs, 0.9));
    expect(ci.lo).toBeLessThan(ci.estimate);
    expect(ci.hi).toBeGreaterThan(ci.estimate);
    expect(ci).toMatchObject({ confidence: 0.95, iterations: 1000, dropped: 0 });
  });

  test('higher confidence → wider interval; more samples → narrower', () => {
    const rng = mulberry32(3);
    const small = exponential(500, rng);
    const large = exponential(50_000, rng);
    const w = (c: { lo: number; hi: number }) => c.hi - c.lo;
    expect(w(bootstrapQuantileCI(small, 0.5, { confidence: 0.99 }))).toBeGreaterThan(
      w(bootstrapQuantileCI(small, 0.5, { confidence: 0.8 })),
    );
    expect(w(bootstrapQuantileCI(large, 0.5))).toBeLessThan(w(bootstrapQuantileCI(small, 0.5)) / 4);
  });

  test('coverage: 95% intervals contain the true quantile about 95% of the time', () => {
    const rng = mulberry32(2024);
    const trials = 400;
    let hitsMedian = 0;
    let hitsP90 = 0;
    for (let t = 0; t < trials; t++) {
      const xs = exponential(300, rng);
      const m = bootstrapQuantileCI(xs, 0.5, { iterations: 500, seed: t });
      const p = bootstrapQuantileCI(xs, 0.9, { iterations: 500, seed: t });
      if (m.lo <= Math.LN2 && Math.LN2 <= m.hi) hitsMedian++;
      if (p.lo <= Math.LN10 && Math.LN10 <= p.hi) hitsP90++;
    }
    expect(hitsMedian / trials).toBeGreaterThan(0.9);
    expect(hitsMedian / trials).toBeLessThan(0.99);
    expect(hitsP90 / trials).toBeGreaterThan(0.9);
    expect(hitsP90 / trials).toBeLessThan(0.99);
  });

  test('100k samples × 1000 iterations is fast', () => {
    const xs = exponential(100_000, mulberry32(9));
    const t0 = performance.now();
    const ci = bootstrapQuantileCI(xs, 0.99, { iterations: 1000 });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(ci.lo).toBeLessThan(ci.hi);
  });

  test('edge cases: one sample, empty input, bad options', () => {
    expect(bootstrapQuantileCI([3], 0.5)).toMatchObject({ estimate: 3, lo: 3, hi: 3 });
    const empty = bootstrapQuantileCI([], 0.5);
    expect(empty.estimate).toBeNaN();
    expect(empty.lo).toBeNaN();
    expect(empty.hi).toBeNaN();
    expect(() => bootstrapQuantileCI([1], 0.5, { iterations: 0 })).toThrow(/iterations/);
    expect(() => bootstrapQuantileCI([1], 0.5, { confidence: 1 })).toThrow(/confidence/);
    expect(() => bootstrapQuantileCI([1], 2)).toThrow(RangeError);
  });
});

describe('bootstrap of a mean', () => {
  test('matches the normal-theory interval x̄ ± 1.96·s/√n', () => {
    const xs = exponential(4000, mulberry32(17));
    const [m, s] = meanSd(xs);
    const se = s / Math.sqrt(xs.length);
    const ci = bootstrapCI(xs, { kind: 'mean' }, { iterations: 4000 });
    expect(ci.estimate).toBeCloseTo(m, 12);
    expect(Math.abs(ci.hi - ci.lo - 2 * 1.96 * se) / (2 * 1.96 * se)).toBeLessThan(0.1);
  });

  test('above the cap, m-out-of-n resampling keeps the width of the full bootstrap', () => {
    const xs = exponential(50_000, mulberry32(19));
    const capped = bootstrapCI(xs, { kind: 'mean' }, { meanResampleCap: 10_000 });
    const full = bootstrapCI(xs, { kind: 'mean' }, { meanResampleCap: 50_000, seed: 99 });
    const wc = capped.hi - capped.lo;
    const wf = full.hi - full.lo;
    expect(Math.abs(wc - wf) / wf).toBeLessThan(0.15);
    expect(capped.lo).toBeLessThan(capped.estimate);
    expect(capped.hi).toBeGreaterThan(capped.estimate);
  });
});

describe('bootstrap of a ratio and a difference', () => {
  const rng = mulberry32(31);
  const base = exponential(3000, rng, 100e-6);
  const slower = exponential(3000, rng, 150e-6);

  test('ratio of medians: estimate, interval around the true 1.5', () => {
    const ci = bootstrapRatioCI(slower, base, { kind: 'quantile', q: 0.5 });
    expect(ci.estimate).toBeCloseTo(quantile(slower, 0.5) / quantile(base, 0.5), 12);
    expect(ci.lo).toBeLessThan(1.5);
    expect(ci.hi).toBeGreaterThan(1.5);
    expect(ci.lo).toBeGreaterThan(1.2);
    expect(ci.hi).toBeLessThan(1.8);
  });

  test('ratio of means of a set scaled by 2 over itself: estimate exactly 2, inside the interval', () => {
    const ci = bootstrapRatioCI(base.map((x) => 2 * x), base, { kind: 'mean' });
    expect(ci.estimate).toBeCloseTo(2, 12);
    expect(ci.lo).toBeLessThan(2);
    expect(ci.hi).toBeGreaterThan(2);
  });

  test('difference candidate − base of p90 brackets the true 50 µs·ln10', () => {
    const ci = bootstrapDifferenceCI(slower, base, { kind: 'quantile', q: 0.9 });
    const truth = 50e-6 * Math.LN10;
    expect(ci.estimate).toBeCloseTo(quantile(slower, 0.9) - quantile(base, 0.9), 15);
    expect(ci.lo).toBeLessThan(truth);
    expect(ci.hi).toBeGreaterThan(truth);
  });

  test('deterministic with a seed', () => {
    const s = { kind: 'quantile', q: 0.99 } as const;
    expect(bootstrapDifferenceCI(slower, base, s, { seed: 4 })).toEqual(bootstrapDifferenceCI(slower, base, s, { seed: 4 }));
    expect(bootstrapRatioCI(slower, base, s, { seed: 4 })).toEqual(bootstrapRatioCI(slower, base, s, { seed: 4 }));
  });

  test('0/0 replicates are dropped and counted; x/0 is Infinity', () => {
    const zeros = bootstrapRatioCI([0, 0], [0, 0], { kind: 'mean' }, { iterations: 50 });
    expect(zeros.dropped).toBe(50);
    expect(zeros.lo).toBeNaN();
    const inf = bootstrapRatioCI([1, 1], [0, 0], { kind: 'mean' }, { iterations: 50 });
    expect(inf.dropped).toBe(0);
    expect(inf.estimate).toBe(Infinity);
    expect(inf.lo).toBe(Infinity);
  });
});
