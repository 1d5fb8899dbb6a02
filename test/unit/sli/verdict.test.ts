import { describe, expect, test } from 'vitest';
import { evaluateSlo, mulberry32, quantile, SloValidationError, type SloSpec } from '../../../src/sli/index.js';

// n latencies uniform in [lo, hi] seconds, deterministic.
function uniform(n: number, lo: number, hi: number, seed = 1): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

const latencySlo = (thresholds: string[], minSamples = 100): SloSpec => ({
  sli: 'first_packet_latency_seconds',
  thresholds,
  minSamples,
});

describe('evaluateSlo: sample counts', () => {
  test('zero samples is never a pass', () => {
    const v = evaluateSlo(latencySlo(['p(99)<5ms', 'max<1h'], 1), { samples: [] });
    expect(v.status).toBe('inconclusive');
    expect(v.samples).toBe(0);
    expect(v.reason).toMatch(/no samples/);
    for (const t of v.thresholds) {
      expect(t.status).toBe('inconclusive');
      expect(t.observed).toBeNaN();
      expect(t.reason).toBe('no samples');
    }
  });

  test('fewer samples than minSamples is inconclusive, even when the values would clearly fail', () => {
    const v = evaluateSlo(latencySlo(['p(99)<5ms', 'max<1ms'], 100), { samples: uniform(99, 0.5, 1) });
    expect(v.status).toBe('inconclusive');
    expect(v.reason).toMatch(/only 99 samples, fewer than minSamples 100/);
    expect(v.thresholds.every((t) => t.status === 'inconclusive')).toBe(true);
    expect(v.thresholds[0]?.observed).toBeGreaterThan(0.5); // still reported
  });
});

describe('evaluateSlo: pass, fail, inconclusive', () => {
  const samples = uniform(10_000, 1e-3, 2e-3);

  test('clear pass with a CI on the quantile and none on max', () => {
    const v = evaluateSlo(latencySlo(['p(99)<5ms', 'max<30s', 'mean<=1.6ms']), { samples });
    expect(v.status).toBe('pass');
    expect(v.reason).toBe('all 3 thresholds met');
    const [p99, max, meanT] = v.thresholds;
    expect(p99?.status).toBe('pass');
    expect(p99?.observed).toBe(quantile(samples, 0.99));
    expect(p99?.ci?.[0]).toBeLessThan(p99?.observed as number);
    expect(p99?.ci?.[1]).toBeGreaterThan(p99?.observed as number);
    expect(p99?.reason).toMatch(/^p\(99\) = 1\.99 ms < 5 ms \(95% CI 1\.9\d ms – 1\.99 ms\)$/);
    expect(p99?.dimension).toBe('time');
    expect(max?.ci).toBeUndefined();
    expect(max?.status).toBe('pass');
    expect(meanT?.ci).toBeDefined();
    expect(meanT?.status).toBe('pass');
  });

  test('clear fail', () => {
    const v = evaluateSlo(latencySlo(['p(99)<1ms', 'p(50)<5ms']), { samples });
    expect(v.status).toBe('fail');
    expect(v.thresholds.map((t) => t.status)).toEqual(['fail', 'pass']);
    expect(v.thresholds[0]?.reason).toMatch(/^p\(99\) = 1\.99 ms, not < 1 ms/);
    expect(v.reason).toMatch(/^1 of 2 thresholds failed: p\(99\)<1ms/);
  });

  test('a CI straddling the threshold is inconclusive, whichever side the point estimate is on', () => {
    const few = uniform(200, 0, 10e-3, 7);
    const p50 = quantile(few, 0.5);
    for (const limit of [p50 * 0.995, p50 * 1.005]) {
      const v = evaluateSlo(latencySlo([`p(50)<${(limit * 1e3).toFixed(6)}ms`]), { samples: few });
      expect(v.status).toBe('inconclusive');
      const [lo, hi] = v.thresholds[0]?.ci ?? [NaN, NaN];
      expect(lo).toBeLessThan(limit);
      expect(hi).toBeGreaterThan(limit);
      expect(v.thresholds[0]?.reason).toMatch(/straddles the threshold < .* collect more samples/);
    }
  });

  test('max and min are exact: judged without a CI, right at the boundary', () => {
    const xs = [...uniform(200, 1e-3, 2e-3), 31];
    expect(evaluateSlo(latencySlo(['max<30s']), { samples: xs }).status).toBe('fail');
    expect(evaluateSlo(latencySlo(['max<=31s']), { samples: xs }).status).toBe('pass');
    expect(evaluateSlo(latencySlo(['max<31s']), { samples: xs }).status).toBe('fail');
    expect(evaluateSlo(latencySlo(['min>=0.5ms']), { samples: xs }).status).toBe('pass');
  });

  test('any fail → fail; otherwise any inconclusive → inconclusive', () => {
    const few = uniform(200, 0, 10e-3, 7);
    const straddling = `p(50)<${(quantile(few, 0.5) * 1e3).toFixed(6)}ms`;
    expect(evaluateSlo(latencySlo([straddling, 'max<1ms']), { samples: few }).status).toBe('fail');
    const v = evaluateSlo(latencySlo([straddling, 'max<1s']), { samples: few });
    expect(v.status).toBe('inconclusive');
    expect(v.reason).toMatch(/^1 of 2 thresholds inconclusive/);
  });

  test('reproducible: same input, same verdict', () => {
    const slo = latencySlo(['p(99)<5ms', 'p(99.9)<2ms']);
    expect(evaluateSlo(slo, { samples })).toEqual(evaluateSlo(slo, { samples }));
  });

  test('confidence from the SLO widens the interval', () => {
    const narrow = evaluateSlo({ ...latencySlo(['p(90)<5ms']), confidence: 0.5 }, { samples });
    const wide = evaluateSlo({ ...latencySlo(['p(90)<5ms']), confidence: 0.999 }, { samples });
    const width = (v: typeof narrow) => (v.thresholds[0]?.ci?.[1] ?? 0) - (v.thresholds[0]?.ci?.[0] ?? 0);
    expect(width(wide)).toBeGreaterThan(width(narrow));
    expect(wide.thresholds[0]?.reason).toContain('99.9% CI');
  });

  test('labels are carried into the verdict', () => {
    const v = evaluateSlo({ ...latencySlo(['p(99)<5ms']), labels: { mode: 'nftables' } }, { samples });
    expect(v.labels).toEqual({ mode: 'nftables' });
  });
});

describe('evaluateSlo: throughput and fairness', () => {
  const slo: SloSpec = {
    sli: 'connection_throughput_bytes_per_second',
    thresholds: ['p(10)>=100MB/s', 'jain>=0.9', 'p10/p50>=0.5'],
    minSamples: 5,
  };

  test('fair flows pass; reasons in human units', () => {
    const v = evaluateSlo(slo, { samples: [940e6, 950e6, 960e6, 945e6, 955e6, 950e6] });
    expect(v.status).toBe('pass');
    expect(v.thresholds[0]?.reason).toMatch(/^p\(10\) = 94\d MB\/s >= 100 MB\/s/);
    expect(v.thresholds[1]?.ci).toBeUndefined();
    expect(v.thresholds[1]?.dimension).toBe('dimensionless');
  });

  test('one starved flow fails p10/p50', () => {
    const v = evaluateSlo({ ...slo, thresholds: ['p10/p50>=0.5'] }, { samples: [0.2e9, 2e9, 2e9, 2e9, 2e9] });
    expect(v.status).toBe('fail');
    expect(v.thresholds[0]?.observed).toBeCloseTo(0.46, 12);
  });

  test('no throughput at all is inconclusive for fairness, not fair', () => {
    const v = evaluateSlo({ ...slo, thresholds: ['jain>=0.9'] }, { samples: [0, 0, 0, 0, 0] });
    expect(v.status).toBe('inconclusive');
    expect(v.thresholds[0]?.reason).toMatch(/jain is undefined/);
  });
});

describe('evaluateSlo: ratio input', () => {
  const rng = mulberry32(77);
  const at100 = Array.from({ length: 2000 }, () => 16e-6 * (1 + rng()));
  const at10k = Array.from({ length: 2000 }, () => 1.2 * 16e-6 * (1 + rng()));
  const input = { ratio: { numerator: at10k, denominator: at100, statistic: { kind: 'quantile', q: 0.5 } as const } };
  const slo = (t: string): SloSpec => ({ sli: 'network_programming_p50_scaling_ratio', thresholds: [t], minSamples: 1000 });

  test('p50 at 10,000 Services / p50 at 100 Services', () => {
    const pass = evaluateSlo(slo('ratio<=1.5'), input);
    expect(pass.status).toBe('pass');
    expect(pass.samples).toBe(2000);
    const t = pass.thresholds[0];
    expect(t?.observed).toBeCloseTo(quantile(at10k, 0.5) / quantile(at100, 0.5), 12);
    expect(t?.observed).toBeGreaterThan(1.1);
    expect(t?.observed).toBeLessThan(1.3);
    expect(t?.ci?.[0]).toBeLessThan(t?.observed as number);
    expect(evaluateSlo(slo('ratio<=1.1'), input).status).toBe('fail');
  });

  test('minSamples applies to the smaller set', () => {
    const v = evaluateSlo(slo('ratio<=1.5'), { ratio: { ...input.ratio, denominator: at100.slice(0, 999) } });
    expect(v.status).toBe('inconclusive');
    expect(v.samples).toBe(999);
  });

  test('mismatched input and thresholds are configuration errors', () => {
    expect(() => evaluateSlo(slo('ratio<=1.5'), { samples: at100 })).toThrow(SloValidationError);
    expect(() => evaluateSlo(slo('ratio<=1.5'), { samples: at100 })).toThrow(/needs ratio input/);
    expect(() => evaluateSlo(slo('p(50)<=1.5'), input)).toThrow(/cannot apply to ratio input/);
  });
});

describe('evaluateSlo: invalid SLOs throw before evaluating', () => {
  test('SloValidationError', () => {
    expect(() => evaluateSlo(latencySlo(['p(99)<5parsecs']), { samples: [1] })).toThrow(SloValidationError);
  });
});
