import { describe, expect, test } from 'vitest';
import { histogramDelta, histogramQuantile, type PromHistogram } from '../../../src/sli/index.js';

const hist = (pairs: [number, number][], sum = 0): PromHistogram => ({
  buckets: pairs.map(([le, count]) => ({ le, count })),
  sum,
  count: pairs.find(([le]) => le === Infinity)?.[1] ?? 0,
});

// Cumulative: 10 ≤ 0.1, 20 in (0.1,0.2], 60 in (0.2,0.5], 10 in (0.5,1], none above.
const h = hist([
  [0.1, 10],
  [0.2, 30],
  [0.5, 90],
  [1, 100],
  [Infinity, 100],
]);

describe('histogramQuantile (PromQL histogram_quantile)', () => {
  test('interpolates linearly inside the bucket holding the rank', () => {
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.2 + 0.3 * (20 / 60), 12); // rank 50 → 0.3
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.95, 12); // rank 99: 0.5 + 0.5·9/10
    expect(histogramQuantile(1, h)).toBe(1);
  });

  test('the lowest bucket starts at 0 when its upper bound is positive', () => {
    expect(histogramQuantile(0.05, h)).toBeCloseTo(0.05, 12); // rank 5 of 10 in [0, 0.1]
  });

  test('a rank in the +Inf bucket returns the highest finite upper bound', () => {
    const tail = hist([
      [0.1, 10],
      [0.2, 20],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, tail)).toBe(0.2);
    expect(histogramQuantile(0.99, tail)).toBe(0.2);
  });

  test('lowest bucket with upper bound <= 0 returns that bound', () => {
    const neg = hist([
      [-1, 10],
      [0, 20],
      [1, 30],
      [Infinity, 30],
    ]);
    expect(histogramQuantile(0.1, neg)).toBe(-1);
    expect(histogramQuantile(0.5, neg)).toBeCloseTo(-0.5, 12); // rank 15: -1 + 1·5/10
  });

  test('q out of range and NaN', () => {
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.1, h)).toBe(Infinity);
    expect(histogramQuantile(NaN, h)).toBeNaN();
  });

  test('NaN for zero observations, no +Inf bucket, or fewer than two buckets', () => {
    expect(histogramQuantile(0.5, hist([[0.1, 0], [Infinity, 0]]))).toBeNaN();
    expect(histogramQuantile(0.5, hist([[0.1, 5], [1, 10]]))).toBeNaN();
    expect(histogramQuantile(0.5, hist([[Infinity, 10]]))).toBeNaN();
    expect(histogramQuantile(0.5, { buckets: [], sum: 0, count: 0 })).toBeNaN();
  });

  test('buckets in any order; does not mutate the input', () => {
    const shuffled: PromHistogram = { ...h, buckets: [...h.buckets].reverse() };
    const copy = structuredClone(shuffled);
    expect(histogramQuantile(0.5, shuffled)).toBeCloseTo(0.3, 12);
    expect(shuffled).toEqual(copy);
  });

  test('buckets with the same le are merged', () => {
    const dup = hist([
      [0.1, 5],
      [0.1, 5],
      [Infinity, 20],
    ]);
    expect(histogramQuantile(0.25, dup)).toBeCloseTo(0.05, 12); // 0.1: 10 after merge; rank 5
  });

  test('monotonicity is forced like Prometheus (decreases flattened to the running max)', () => {
    const broken = hist([
      [0.1, 10],
      [0.2, 8],
      [0.5, 20],
      [Infinity, 20],
    ]);
    // Fixed counts [10,10,20]: rank 10 lands in the first bucket → 0.1. Unfixed it would be 0.25.
    expect(histogramQuantile(0.5, broken)).toBeCloseTo(0.1, 12);
  });

  test('relative count differences <= 1e-12 are float noise, not observations', () => {
    const noisy = hist([
      [1, 1e6],
      [2, 1e6 + 1e-7],
      [3, 2e6],
      [Infinity, 2e6],
    ]);
    // Without the fix the rank just above 1e6 would land in the (1,2] bucket → 1.5.
    expect(histogramQuantile((1e6 + 5e-8) / 2e6, noisy)).toBeCloseTo(2, 9);
  });
});

describe('histogramDelta', () => {
  const before = hist(
    [
      [0.1, 5],
      [0.5, 10],
      [Infinity, 12],
    ],
    3,
  );
  const after = hist(
    [
      [Infinity, 25],
      [0.1, 8],
      [0.5, 20],
    ],
    7.5,
  );

  test('subtracts bucket counts, sum and count', () => {
    const d = histogramDelta(before, after);
    expect(d.reset).toBe(false);
    expect(d.histogram.buckets).toEqual([
      { le: 0.1, count: 3 },
      { le: 0.5, count: 10 },
      { le: Infinity, count: 13 },
    ]);
    expect(d.histogram.sum).toBeCloseTo(4.5, 12);
    expect(d.histogram.count).toBe(13);
    // 13 new observations: rank 6.5 falls in (0.1, 0.5] → 0.1 + 0.4·3.5/7.
    expect(histogramQuantile(0.5, d.histogram)).toBeCloseTo(0.3, 12);
  });

  test('a decreased count means a counter reset: the delta is `after`', () => {
    const restarted = hist(
      [
        [0.1, 1],
        [0.5, 2],
        [Infinity, 2],
      ],
      0.4,
    );
    const d = histogramDelta(after, restarted);
    expect(d.reset).toBe(true);
    expect(d.histogram.count).toBe(2);
    expect(d.histogram.sum).toBe(0.4);
    expect(d.histogram.buckets.map((b) => b.count)).toEqual([1, 2, 2]);
  });

  test('a reset is detected from one bucket alone', () => {
    const weird = hist(
      [
        [0.1, 4],
        [0.5, 30],
        [Infinity, 30],
      ],
      9,
    );
    expect(histogramDelta(before, weird).reset).toBe(true);
  });

  test('different bucket layouts are an error', () => {
    expect(() => histogramDelta(before, hist([[1, 3], [Infinity, 3]]))).toThrow(/bucket bounds differ/);
  });
});
