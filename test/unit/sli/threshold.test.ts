import { describe, expect, test } from 'vitest';
import { compare, parseThreshold, ThresholdError } from '../../../src/sli/index.js';

describe('parseThreshold: valid thresholds', () => {
  test.each([
    ['p(99)<5ms', { kind: 'quantile', q: 0.99 }, '<', 0.005, 'time'],
    ['p(50)<=200us', { kind: 'quantile', q: 0.5 }, '<=', 200e-6, 'time'],
    ['p(99.9)<1s', { kind: 'quantile', q: 0.999 }, '<', 1, 'time'],
    ['p(100)<=1h', { kind: 'quantile', q: 1 }, '<=', 3600, 'time'],
    ['max<30s', { kind: 'max' }, '<', 30, 'time'],
    ['min>=1ms', { kind: 'min' }, '>=', 0.001, 'time'],
    ['mean<2ms', { kind: 'mean' }, '<', 0.002, 'time'],
    ['avg<2ms', { kind: 'mean' }, '<', 0.002, 'time'],
    ['med<2m', { kind: 'quantile', q: 0.5 }, '<', 120, 'time'],
    ['p(99)<16µs', { kind: 'quantile', q: 0.99 }, '<', 16e-6, 'time'],
    ['p(99)<250ns', { kind: 'quantile', q: 0.99 }, '<', 250e-9, 'time'],
    ['jain>=0.9', { kind: 'jain' }, '>=', 0.9, 'dimensionless'],
    ['p10/p50>=0.5', { kind: 'p10/p50' }, '>=', 0.5, 'dimensionless'],
    ['ratio<=1.3', { kind: 'ratio' }, '<=', 1.3, 'dimensionless'],
    ['p(10)>=100MB/s', { kind: 'quantile', q: 0.1 }, '>=', 1e8, 'throughput'],
    ['p(50)>1Gbit/s', { kind: 'quantile', q: 0.5 }, '>', 1.25e8, 'throughput'],
    ['p(50)>10Mbps', { kind: 'quantile', q: 0.5 }, '>', 1.25e6, 'throughput'],
    ['min>=512KiB/s', { kind: 'min' }, '>=', 524288, 'throughput'],
    ['p(50)<=1.3', { kind: 'quantile', q: 0.5 }, '<=', 1.3, 'dimensionless'],
    ['p(99)<1e-3s', { kind: 'quantile', q: 0.99 }, '<', 1e-3, 'time'],
    ['p(99)<.5ms', { kind: 'quantile', q: 0.99 }, '<', 0.5e-3, 'time'],
    ['max<0s', { kind: 'max' }, '<', 0, 'time'],
  ] as const)('%s', (text, statistic, op, value, dimension) => {
    const t = parseThreshold(text);
    expect(t.statistic).toEqual(statistic);
    expect(t.op).toBe(op);
    expect(t.value).toBeCloseTo(value, 15);
    expect(Math.abs(t.value - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-12);
    expect(t.dimension).toBe(dimension);
    expect(t.text).toBe(text);
  });

  test('whitespace anywhere is tolerated and the original text kept', () => {
    const t = parseThreshold('  p( 99.9 ) <=  5 ms ');
    expect(t).toMatchObject({ statistic: { kind: 'quantile', q: 0.999 }, op: '<=', value: 0.005, unit: 'ms' });
    expect(t.text).toBe('  p( 99.9 ) <=  5 ms ');
    expect(parseThreshold('p10 / p50 >= 0.5').statistic).toEqual({ kind: 'p10/p50' });
    expect(parseThreshold('p(10) >= 100 MB/s').value).toBe(1e8);
  });
});

describe('parseThreshold: errors quote the threshold, name the token and the fix', () => {
  test('the two documented messages, verbatim', () => {
    expect(() => parseThreshold('p(101)<5ms')).toThrow(
      'threshold "p(101)<5ms": percentile 101 in "p(101)" must be between 0 and 100 (exclusive of 0)',
    );
    expect(() => parseThreshold('p(99)<5parsecs')).toThrow(
      'threshold "p(99)<5parsecs": unknown unit "parsecs"; use one of ns, us, ms, s, m, h',
    );
  });

  test.each([
    // [threshold, bad token, words that must appear in the message]
    ['p(101)<5ms', 'p(101)', /percentile 101 .*between 0 and 100/],
    ['p(0)<5ms', 'p(0)', /percentile 0 in "p\(0\)".*exclusive of 0/],
    ['p(abc)<5ms', 'p(abc)', /percentile "abc" in "p\(abc\)" is not a number/],
    ['p()<5ms', 'p()', /missing percentile in "p\(\)"/],
    ['p(99)<5parsecs', 'parsecs', /unknown unit "parsecs"; use one of ns, us, ms, s, m, h/],
    ['p(10)>=100MB/sec', 'MB/sec', /unknown unit "MB\/sec"; use one of B\/s, kB\/s, MB\/s/],
    ['p(10)>=100Mb/s', 'Mb/s', /unknown unit "Mb\/s".*Mbit\/s/],
    ['p(99) 5ms', 'p(99) 5ms', /missing comparison operator.*use one of <, <=, >, >=/],
    ['p(99)', 'p(99)', /missing comparison operator/],
    ['p(99)<', '<', /missing value after "<"/],
    ['p(99)<=  ', '<=', /missing value after "<="/],
    ['p(99)<ms', 'ms', /missing number before unit "ms"; write e.g. p\(99\)<5ms/],
    ['p(99)<abc5', 'abc5', /missing number before unit "abc5"/],
    ['p(99)<-5ms', '-5ms', /negative value "-5ms".*>= 0/],
    ['jain>=0.9ms', 'ms', /unit "ms" does not apply to jain, which is dimensionless; write a bare number, e.g. jain>=0.9/],
    ['p10/p50>=50%', '%', /unit "%" does not apply to p10\/p50/],
    ['ratio<=1.3s', 's', /unit "s" does not apply to ratio/],
    ['p(99)==5ms', '==', /unsupported operator "=="; use one of <, <=, >, >=/],
    ['p(99)=<5ms', '=<', /unsupported operator "=<"/],
    ['p(99)!=5ms', '!=', /unsupported operator "!="/],
    ['p(99)<<5ms', '<<', /unsupported operator "<<"/],
    ['<5ms', '<', /missing statistic before "<"/],
    ['p99<5ms', 'p99', /unknown statistic "p99"; did you mean p\(99\)\?/],
    ['latency<5ms', 'latency', /unknown statistic "latency"; use one of p\(N\)/],
    ['p(99<5ms', 'p(99', /unknown statistic "p\(99"/],
    ['p(99)<#5', '#5', /value "#5" is not a number/],
    ['p(99)<1e999s', '1e999s', /out of range/],
    ['   ', '', /is empty/],
  ])('%s → token %s', (text, token, message) => {
    let err: unknown;
    try {
      parseThreshold(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ThresholdError);
    const te = err as ThresholdError;
    expect(te.message.startsWith(`threshold "${text}": `)).toBe(true);
    expect(te.message).toMatch(message);
    expect(te.token).toBe(token);
    expect(te.threshold).toBe(text);
    if (token !== '') expect(te.message).toContain(token);
  });

  test('non-string input', () => {
    expect(() => parseThreshold(5 as unknown as string)).toThrow(ThresholdError);
  });
});

describe('compare', () => {
  test('operators, boundaries, and NaN never satisfying', () => {
    expect(compare(1, '<', 2)).toBe(true);
    expect(compare(2, '<', 2)).toBe(false);
    expect(compare(2, '<=', 2)).toBe(true);
    expect(compare(2, '>', 2)).toBe(false);
    expect(compare(2, '>=', 2)).toBe(true);
    expect(compare(3, '>', 2)).toBe(true);
    for (const op of ['<', '<=', '>', '>='] as const) expect(compare(NaN, op, 1)).toBe(false);
  });
});
