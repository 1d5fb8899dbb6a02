import { describe, expect, test } from 'vitest';
import { formatValue, lookupUnit, parseThreshold } from '../../../src/sli/index.js';

describe('lookupUnit', () => {
  test.each([
    ['ns', 'time', 1e-9],
    ['us', 'time', 1e-6],
    ['µs', 'time', 1e-6],
    ['μs', 'time', 1e-6],
    ['ms', 'time', 1e-3],
    ['s', 'time', 1],
    ['m', 'time', 60],
    ['h', 'time', 3600],
    ['B/s', 'throughput', 1],
    ['kB/s', 'throughput', 1e3],
    ['KB/s', 'throughput', 1e3],
    ['MB/s', 'throughput', 1e6],
    ['GB/s', 'throughput', 1e9],
    ['KiB/s', 'throughput', 1024],
    ['MiB/s', 'throughput', 1048576],
    ['GiB/s', 'throughput', 1073741824],
    ['bit/s', 'throughput', 0.125],
    ['kbit/s', 'throughput', 125],
    ['Mbit/s', 'throughput', 125_000],
    ['Gbit/s', 'throughput', 125_000_000],
    ['bps', 'throughput', 0.125],
    ['Kbps', 'throughput', 125],
    ['Mbps', 'throughput', 125_000],
    ['Gbps', 'throughput', 125_000_000],
    ['', 'dimensionless', 1],
  ])('%s → %s × %d', (unit, dimension, factor) => {
    expect(lookupUnit(unit)).toEqual({ dimension, factor });
  });

  test('unknown units, including prototype names', () => {
    expect(lookupUnit('parsecs')).toBeUndefined();
    expect(lookupUnit('Mb/s')).toBeUndefined(); // ambiguous; Mbit/s or MB/s must be written
    expect(lookupUnit('constructor')).toBeUndefined();
  });
});

describe('formatValue', () => {
  test.each([
    [176e-6, 'time', '176 µs'],
    [1.234e-3, 'time', '1.23 ms'],
    [16e-9, 'time', '16 ns'],
    [2.5, 'time', '2.5 s'],
    [3600, 'time', '3600 s'],
    [0.9996e-3, 'time', '1 ms'], // rounds up into the next unit, not "1000 µs"
    [0, 'time', '0 s'],
    [-5e-3, 'time', '-5 ms'],
    [940e6, 'throughput', '940 MB/s'],
    [1.25e9, 'throughput', '1.25 GB/s'],
    [512, 'throughput', '512 B/s'],
    [0.91234, 'dimensionless', '0.912'],
    [1.5, 'dimensionless', '1.5'],
    [NaN, 'time', 'NaN'],
    [Infinity, 'time', '+Inf'],
    [-Infinity, 'dimensionless', '-Inf'],
  ] as const)('%d %s → %s', (value, dimension, text) => {
    expect(formatValue(value, dimension)).toBe(text);
  });

  test('formatted values parse back in the threshold language', () => {
    for (const [v, d] of [
      [176e-6, 'time'],
      [0.0123, 'time'],
      [940e6, 'throughput'],
    ] as const) {
      const t = parseThreshold(`p(99)<${formatValue(v, d)}`);
      expect(t.dimension).toBe(d);
      expect(Math.abs(t.value - v) / v).toBeLessThan(0.005);
    }
  });
});
