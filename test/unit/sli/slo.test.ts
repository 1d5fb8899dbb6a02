import { describe, expect, test } from 'vitest';
import { sliDimension, SloValidationError, validateSlo, type SloSpec } from '../../../src/sli/index.js';

function problemsOf(slo: SloSpec): readonly string[] {
  try {
    validateSlo(slo);
  } catch (e) {
    expect(e).toBeInstanceOf(SloValidationError);
    return (e as SloValidationError).problems;
  }
  throw new Error('expected validateSlo to throw');
}

describe('sliDimension', () => {
  test.each([
    ['network_programming_latency_seconds', 'time'],
    ['first_packet_latency_seconds', 'time'],
    ['connection_throughput_bytes_per_second', 'throughput'],
    ['clusterip_vs_pod_throughput_ratio', 'dimensionless'],
    ['programming_latency_ratio_at_scale', 'dimensionless'],
    ['connection_fairness', 'dimensionless'],
    ['latency', undefined],
    ['latency_milliseconds', undefined],
  ])('%s → %s', (sli, dim) => {
    expect(sliDimension(sli)).toBe(dim);
  });
});

describe('validateSlo', () => {
  test('a valid SLO comes back parsed', () => {
    const v = validateSlo({
      sli: 'first_packet_latency_seconds',
      thresholds: ['p(99)<5ms', 'max<1s'],
      minSamples: 1000,
      labels: { profile: 'strict' },
      confidence: 0.99,
    });
    expect(v.dimension).toBe('time');
    expect(v.thresholds.map((t) => t.value)).toEqual([0.005, 1]);
  });

  test('throughput SLIs accept throughput units and the fairness statistics', () => {
    const v = validateSlo({
      sli: 'connection_throughput_bytes_per_second',
      thresholds: ['p(10)>=100MB/s', 'p(50)>1Gbit/s', 'jain>=0.9', 'p10/p50>=0.5'],
      minSamples: 8,
    });
    expect(v.thresholds).toHaveLength(4);
  });

  test('ratio SLIs take ratio and bare numbers', () => {
    expect(
      validateSlo({ sli: 'programming_latency_p50_scaling_ratio', thresholds: ['ratio<=1.5', 'p(50)<=2'], minSamples: 100 })
        .dimension,
    ).toBe('dimensionless');
  });

  test('collects every problem into one error naming the sli and each field', () => {
    const slo = {
      sli: 'first_packet_latency_seconds',
      thresholds: ['p(101)<5ms', 'p(99)<5parsecs', 'p(99)<5', 'p(50)>1MB/s', 'jain>=0.9', 'ratio<=1.3', 'p(99)<5ms'],
      minSamples: 0,
      confidence: 2,
    };
    let err: SloValidationError | undefined;
    try {
      validateSlo(slo);
    } catch (e) {
      err = e as SloValidationError;
    }
    expect(err).toBeInstanceOf(SloValidationError);
    expect(err?.sli).toBe('first_packet_latency_seconds');
    const msg = err?.message ?? '';
    expect(msg).toContain('invalid SLO for sli "first_packet_latency_seconds"');
    expect(err?.problems).toHaveLength(8);
    expect(msg).toContain('thresholds[0]: threshold "p(101)<5ms": percentile 101 in "p(101)"');
    expect(msg).toContain('thresholds[1]: threshold "p(99)<5parsecs": unknown unit "parsecs"');
    expect(msg).toMatch(/thresholds\[2\]: threshold "p\(99\)<5": missing unit .* is a time \(seconds\), use one of ns, us, ms/);
    expect(msg).toMatch(/thresholds\[3\]: threshold "p\(50\)>1MB\/s": unit "MB\/s" is a throughput .* is a time/);
    expect(msg).toMatch(/thresholds\[4\]: threshold "jain>=0.9": jain is a fairness statistic/);
    expect(msg).toMatch(/thresholds\[5\]: threshold "ratio<=1.3": ratio compares two sample sets .*_ratio/);
    expect(msg).not.toContain('thresholds[6]');
    expect(msg).toContain('minSamples: must be a positive integer, got 0');
    expect(msg).toContain('confidence: must be a number in (0, 1)');
  });

  test('time units on a throughput SLI, and units on a dimensionless SLI', () => {
    expect(problemsOf({ sli: 'connection_throughput_bytes_per_second', thresholds: ['p(10)>=5ms'], minSamples: 1 })).toEqual([
      expect.stringMatching(/unit "ms" is a time \(seconds\) but sli "connection_throughput_bytes_per_second" is a throughput.*MB\/s/),
    ]);
    expect(problemsOf({ sli: 'connection_fairness', thresholds: ['p(10)>=5MB/s'], minSamples: 1 })).toEqual([
      expect.stringMatching(/unit "MB\/s" is a throughput .* is dimensionless/),
    ]);
  });

  test('an SLI name that says nothing about its unit', () => {
    expect(problemsOf({ sli: 'latency', thresholds: ['p(99)<5ms'], minSamples: 1 })).toEqual([
      expect.stringMatching(/^sli: cannot tell what "latency" measures; end the name with a unit suffix/),
    ]);
  });

  test('empty or missing fields', () => {
    const problems = problemsOf({ sli: '', thresholds: [], minSamples: 1.5 });
    expect(problems).toEqual([
      expect.stringMatching(/^sli: must be a non-empty/),
      expect.stringMatching(/^thresholds: is empty/),
      expect.stringMatching(/^minSamples: must be a positive integer, got 1.5/),
    ]);
    const more = problemsOf({ sli: 'x_seconds', thresholds: 'p(99)<5ms', minSamples: -1, labels: { a: 1 } } as unknown as SloSpec);
    expect(more).toEqual([
      expect.stringMatching(/^thresholds: must be an array/),
      expect.stringMatching(/^minSamples/),
      expect.stringMatching(/^labels\.a: must be a string/),
    ]);
  });
});
