import { describe, expect, test } from 'vitest';
import { jainIndex, p10p50Ratio } from '../../../src/sli/index.js';

describe('jainIndex', () => {
  test('equal shares → 1, one flow takes all → 1/n', () => {
    expect(jainIndex([1, 1, 1, 1])).toBe(1);
    expect(jainIndex([5, 5, 5])).toBe(1);
    expect(jainIndex([1, 0, 0, 0])).toBe(0.25);
  });

  test('hand-computed: [1,2,3,4] → 10²/(4·30) = 5/6', () => {
    expect(jainIndex([1, 2, 3, 4])).toBeCloseTo(5 / 6, 12);
  });

  test('scale invariant', () => {
    expect(jainIndex([1e9, 2e9, 3e9, 4e9])).toBeCloseTo(5 / 6, 12);
  });

  test('never exceeds 1 through rounding', () => {
    expect(jainIndex(Array.from({ length: 1000 }, () => 0.1))).toBeLessThanOrEqual(1);
  });

  test('no flows or no throughput is undefined (NaN), not fair', () => {
    expect(jainIndex([])).toBeNaN();
    expect(jainIndex([0, 0, 0])).toBeNaN();
  });

  test('negative or non-finite throughput is an error', () => {
    expect(() => jainIndex([1, -1])).toThrow(/value 1 must be a finite number >= 0, got -1/);
    expect(() => jainIndex([1, NaN])).toThrow(RangeError);
    expect(() => jainIndex([Infinity])).toThrow(RangeError);
  });
});

describe('p10p50Ratio', () => {
  test('one starved flow: [0.2,2,2,2,2] → p10 0.92 / p50 2 = 0.46, while Jain says 0.84', () => {
    const xs = [2, 2, 0.2, 2, 2];
    expect(p10p50Ratio(xs)).toBeCloseTo(0.46, 12);
    expect(jainIndex(xs)).toBeCloseTo(0.8384, 4);
  });

  test('1..10: p10 1.9 / p50 5.5', () => {
    expect(p10p50Ratio(Array.from({ length: 10 }, (_, i) => i + 1))).toBeCloseTo(1.9 / 5.5, 12);
  });

  test('equal flows → 1', () => {
    expect(p10p50Ratio([3, 3, 3])).toBe(1);
  });

  test('empty or zero median → NaN', () => {
    expect(p10p50Ratio([])).toBeNaN();
    expect(p10p50Ratio([0, 0, 0, 5])).toBeNaN();
  });

  test('negative input is an error', () => {
    expect(() => p10p50Ratio([-1, 2])).toThrow(RangeError);
  });
});
