import type { Dimension } from './types.js';

// Units of the threshold language, converted to base units: seconds and bytes per second.
// Decimal prefixes (k, K, M, G) are powers of 1000 as in network tooling (iperf, ethtool);
// KiB/MiB/GiB are powers of 1024. Bit rates are converted to bytes (÷ 8).

export const TIME_UNITS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-9],
  ['us', 1e-6],
  ['µs', 1e-6], // U+00B5 micro sign
  ['μs', 1e-6], // U+03BC Greek mu: looks identical, so accept both
  ['ms', 1e-3],
  ['s', 1],
  ['m', 60],
  ['h', 3600],
]);

export const THROUGHPUT_UNITS: ReadonlyMap<string, number> = new Map([
  ['B/s', 1],
  ['kB/s', 1e3],
  ['KB/s', 1e3],
  ['MB/s', 1e6],
  ['GB/s', 1e9],
  ['KiB/s', 1024],
  ['MiB/s', 1024 ** 2],
  ['GiB/s', 1024 ** 3],
  ['bit/s', 1 / 8],
  ['kbit/s', 1e3 / 8],
  ['Mbit/s', 1e6 / 8],
  ['Gbit/s', 1e9 / 8],
  ['bps', 1 / 8],
  ['kbps', 1e3 / 8],
  ['Kbps', 1e3 / 8],
  ['Mbps', 1e6 / 8],
  ['Gbps', 1e9 / 8],
]);

/** Units as listed in error messages (aliases left out to keep the hint short). */
export const TIME_UNIT_LIST = 'ns, us, ms, s, m, h';
export const THROUGHPUT_UNIT_LIST =
  'B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, bit/s, kbit/s, Mbit/s, Gbit/s, bps, Kbps, Mbps, Gbps';

export interface UnitInfo {
  dimension: Dimension;
  /** Multiply a value in this unit by factor to get base units. */
  factor: number;
}

/** The unit's dimension and factor; '' is a dimensionless bare number; undefined if unknown. */
export function lookupUnit(unit: string): UnitInfo | undefined {
  if (unit === '') return { dimension: 'dimensionless', factor: 1 };
  const t = TIME_UNITS.get(unit);
  if (t !== undefined) return { dimension: 'time', factor: t };
  const b = THROUGHPUT_UNITS.get(unit);
  if (b !== undefined) return { dimension: 'throughput', factor: b };
  return undefined;
}

export function describeDimension(d: Dimension): string {
  return d === 'time' ? 'a time (seconds)' : d === 'throughput' ? 'a throughput (bytes/second)' : 'dimensionless';
}

// Display scales, ascending. Throughput uses decimal bytes like most network reports.
const TIME_SCALE: ReadonlyArray<readonly [string, number]> = [
  ['ns', 1e-9],
  ['µs', 1e-6],
  ['ms', 1e-3],
  ['s', 1],
];
const THROUGHPUT_SCALE: ReadonlyArray<readonly [string, number]> = [
  ['B/s', 1],
  ['kB/s', 1e3],
  ['MB/s', 1e6],
  ['GB/s', 1e9],
  ['TB/s', 1e12],
];

/** Three significant digits, trailing zeros dropped: 176, 1.23, 0.5. */
function sig3(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/**
 * A value in base units for humans: "176 µs", "1.23 ms", "940 MB/s", "0.912".
 * Three significant digits; the output parses back in the threshold language
 * (which is whitespace tolerant), so a reporter's number can be pasted into an SLO.
 */
export function formatValue(value: number, dimension: Dimension): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (dimension === 'dimensionless') return sig3(value);
  const scale = dimension === 'time' ? TIME_SCALE : THROUGHPUT_SCALE;
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (abs === 0) return dimension === 'time' ? '0 s' : '0 B/s';
  let i = 0;
  while (i + 1 < scale.length && abs >= (scale[i + 1] as readonly [string, number])[1]) i++;
  let [unit, factor] = scale[i] as readonly [string, number];
  // 999.7 µs rounds to 1000 µs: show it as 1 ms instead.
  if (Number((abs / factor).toPrecision(3)) >= 1000 && i + 1 < scale.length) {
    [unit, factor] = scale[i + 1] as readonly [string, number];
  }
  return `${sign}${sig3(abs / factor)} ${unit}`;
}
