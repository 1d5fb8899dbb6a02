import { describe, expect, test } from 'vitest';
import { LatencyHistogram, mulberry32, quantileSorted } from '../../../src/sli/index.js';

// Log-normal latencies around 100 µs with a long tail, deterministic.
function latencies(n: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
    xs[i] = 100e-6 * Math.exp(0.8 * z);
  }
  return xs;
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('LatencyHistogram', () => {
  test('2,000,000 samples: quantiles within 0.1% of exact; encode/decode/merge round-trip', { timeout: 60_000 }, () => {
    const n = 2_000_000;
    const xs = latencies(n, 42);
    const whole = new LatencyHistogram();
    const left = new LatencyHistogram();
    const right = new LatencyHistogram();
    for (let i = 0; i < n; i++) {
      const x = xs[i] as number;
      whole.record(x);
      (i % 2 === 0 ? left : right).record(x);
    }
    const sorted = Float64Array.from(xs).sort();
    let exactSum = 0;
    for (const x of xs) exactSum += x;

    expect(whole.count).toBe(n);
    for (const q of [0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999]) {
      expect(relErr(whole.quantile(q), quantileSorted(sorted, q)), `q=${q}`).toBeLessThan(0.001);
    }
    // min/max/mean are tracked exactly (to the ns) beside the buckets.
    expect(whole.min).toBeCloseTo(sorted[0] as number, 9);
    expect(whole.max).toBeCloseTo(sorted[n - 1] as number, 9);
    expect(whole.quantile(0)).toBe(whole.min);
    expect(whole.quantile(1)).toBe(whole.max);
    expect(relErr(whole.mean, exactSum / n)).toBeLessThan(1e-6);

    // Agents ship encoded halves; the collector decodes and merges them.
    const encodedLeft = left.encode();
    expect(encodedLeft.length).toBeLessThan(64 * 1024);
    const merged = LatencyHistogram.decode(encodedLeft).merge(LatencyHistogram.decode(right.encode()));
    expect(merged.count).toBe(n);
    for (const q of [0.01, 0.5, 0.99, 0.999]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect(merged.min).toBe(whole.min);
    expect(merged.max).toBe(whole.max);
    expect(relErr(merged.mean, whole.mean)).toBeLessThan(1e-12);

    // Decoding an encoding gives back the same histogram.
    const again = LatencyHistogram.decode(whole.encode());
    expect(again.encode()).toBe(whole.encode());
  });

  test('memory is bounded: the encoding does not grow with the sample count', () => {
    const h = new LatencyHistogram();
    const xs = latencies(200_000, 1);
    for (let i = 0; i < 100_000; i++) h.record(xs[i] as number);
    const size1 = h.encode().length;
    for (let i = 100_000; i < 200_000; i++) h.record(xs[i] as number);
    expect(h.encode().length).toBeLessThan(size1 * 1.5);
  });

  test('out-of-range values are clamped and counted, never thrown', () => {
    const h = new LatencyHistogram();
    h.record(0.001);
    h.record(-0.5); // clock step: clamped to 0
    h.record(7200); // above 1 h: clamped to 1 h
    h.record(Infinity);
    h.record(NaN); // not recordable: rejected
    expect(h.count).toBe(4);
    expect(h.underflow).toBe(1);
    expect(h.overflow).toBe(2);
    expect(h.rejected).toBe(1);
    expect(h.min).toBe(0);
    expect(h.max).toBe(3600);
    expect(h.mean).toBeCloseTo((0.001 + 0 + 3600 + 3600) / 4, 9);
    expect(LatencyHistogram.highestSeconds).toBe(3600);
  });

  test('counters survive encode/decode', () => {
    const h = new LatencyHistogram();
    h.record(-1);
    h.record(1e5);
    h.record(NaN);
    h.record(2e-6, 3);
    const d = LatencyHistogram.decode(h.encode());
    expect([d.count, d.underflow, d.overflow, d.rejected]).toEqual([5, 1, 1, 1]);
    expect(d.quantile(0.5)).toBeCloseTo(2e-6, 8);
  });

  test('record with a count', () => {
    const h = new LatencyHistogram();
    h.record(1e-3, 9);
    h.record(2e-3);
    expect(h.count).toBe(10);
    expect(h.quantile(0.5)).toBeCloseTo(1e-3, 5);
    expect(h.mean).toBeCloseTo(1.1e-3, 12);
    expect(() => h.record(1, 0)).toThrow(RangeError);
    expect(() => h.record(1, 1.5)).toThrow(RangeError);
  });

  test('small values keep 3 significant digits (16 µs, 1 ns)', () => {
    const h = new LatencyHistogram();
    h.record(16.37e-6);
    h.record(16.37e-6);
    expect(relErr(h.quantile(0.5), 16.37e-6)).toBeLessThan(0.001);
    const tiny = new LatencyHistogram();
    tiny.record(1e-9);
    expect(tiny.quantile(0.5)).toBe(1e-9);
  });

  test('empty histogram: NaN statistics; reset empties', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNaN();
    expect(h.min).toBeNaN();
    expect(h.max).toBeNaN();
    expect(h.mean).toBeNaN();
    h.record(1);
    h.record(-1);
    h.reset();
    expect([h.count, h.underflow, h.overflow, h.rejected]).toEqual([0, 0, 0, 0]);
    expect(h.quantile(0.9)).toBeNaN();
    expect(LatencyHistogram.decode(h.encode()).count).toBe(0);
  });

  test('merging an empty histogram changes nothing', () => {
    const h = new LatencyHistogram();
    h.record(0.002);
    h.merge(new LatencyHistogram());
    expect(h.min).toBe(0.002);
    expect(h.max).toBe(0.002);
    expect(h.count).toBe(1);
  });

  test('invalid quantile and corrupt encodings are errors', () => {
    const h = new LatencyHistogram();
    expect(() => h.quantile(1.5)).toThrow(RangeError);
    expect(() => LatencyHistogram.decode('hello')).toThrow(/not an encoded LatencyHistogram/);
    expect(() => LatencyHistogram.decode('h1:x:0:0:0:0:0:AAAA')).toThrow(/corrupt/);
  });
});
