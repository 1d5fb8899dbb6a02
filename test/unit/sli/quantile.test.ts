import { describe, expect, test } from 'vitest';
import { mean, quantile, quantiles, quantileSorted, summarize } from '../../../src/sli/index.js';

describe('quantile (Hyndman–Fan type 7)', () => {
  test('hand-computed values on [1,2,3,4]', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5); // h = 1.5
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12); // h = 2.7
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12); // h = 0.75
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  });

  test('matches R/numpy on 1..10 at 0.99 (= 9.91)', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(quantile(xs, 0.99)).toBeCloseTo(9.91, 12);
    expect(quantile(xs, 0.1)).toBeCloseTo(1.9, 12);
  });

  test('sorts its input without modifying it', () => {
    const xs = [4, 1, 3, 2];
    expect(quantile(xs, 0.5)).toBe(2.5);
    expect(xs).toEqual([4, 1, 3, 2]);
  });

  test('single sample and ties', () => {
    expect(quantile([7], 0.3)).toBe(7);
    expect(quantile([5, 5, 5], 0.42)).toBe(5);
  });

  test('infinite samples do not produce Inf − Inf = NaN', () => {
    expect(quantile([1, Infinity, Infinity], 0.75)).toBe(Infinity);
    expect(quantile([1, Infinity, Infinity], 1)).toBe(Infinity);
  });

  test('empty input gives NaN', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantileSorted(new Float64Array(0), 0.99)).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  test('q outside [0,1] is a RangeError naming the value', () => {
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
    expect(() => quantile([1], -0.01)).toThrow(/\[0, 1\], got -0.01/);
    expect(() => quantile([1], NaN)).toThrow(RangeError);
    expect(() => quantileSorted([1], 99)).toThrow(/got 99/);
  });

  test('NaN samples are rejected, not silently sorted somewhere', () => {
    expect(() => quantile([1, NaN, 3], 0.5)).toThrow(/sample 1 is NaN/);
  });

  test('quantiles() evaluates several q with one sort', () => {
    expect(quantiles([4, 3, 2, 1], [0, 0.5, 0.9, 1])).toEqual([1, 2.5, 3.7000000000000002, 4]);
  });
});

describe('summarize', () => {
  test('1..1000', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    const s = summarize(xs);
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.mean).toBe(500.5);
    expect(s.p50).toBe(500.5); // h = 499.5
    expect(s.p90).toBeCloseTo(900.1, 9); // h = 899.1
    expect(s.p99).toBeCloseTo(990.01, 9); // h = 989.01
    expect(s.p999).toBeCloseTo(999.001, 9); // h = 998.001
  });

  test('empty input: count 0 and NaN elsewhere', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    for (const k of ['min', 'max', 'mean', 'p50', 'p90', 'p99', 'p999'] as const) expect(s[k]).toBeNaN();
  });
});
