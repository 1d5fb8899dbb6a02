import { bootstrapCI, bootstrapRatioCI, type BootstrapOptions } from './bootstrap.js';
import { jainIndex, p10p50Ratio } from './fairness.js';
import { mean, quantileSorted, sortedCopy } from './quantile.js';
import { SloValidationError, validateSlo } from './slo.js';
import { compare, statisticName } from './threshold.js';
import type {
  Dimension,
  ResampleStatistic,
  SloInput,
  SloSpec,
  Threshold,
  ThresholdVerdict,
  Verdict,
  VerdictStatus,
} from './types.js';
import { formatValue } from './units.js';

// Turning samples into a verdict. Rules:
// - zero samples is never a pass, and fewer than minSamples is inconclusive;
// - statistics with sampling error (quantiles, mean, ratios) get a bootstrap CI; if the CI
//   straddles the threshold the data cannot decide, so the verdict is inconclusive rather
//   than a coin flip; otherwise the observed value decides;
// - max and min are exact facts about the run; jain and p10/p50 describe the flows that
//   actually shared the path; these are judged by the observed value alone;
// - any fail → fail, else any inconclusive → inconclusive, else pass.

export interface EvaluateOptions {
  /** Bootstrap replicates per threshold; default 1000. */
  iterations?: number;
  /** Bootstrap PRNG seed; the default makes verdicts reproducible. */
  seed?: number;
}

interface Measured {
  observed: number;
  ci?: [number, number];
}

function thresholdDimension(t: Threshold, sliDim: Dimension): Dimension {
  return t.statistic.kind === 'jain' || t.statistic.kind === 'p10/p50' || t.statistic.kind === 'ratio'
    ? 'dimensionless'
    : sliDim;
}

function measureSamples(t: Threshold, samples: readonly number[], sorted: Float64Array, boot: BootstrapOptions): Measured {
  const s = t.statistic;
  switch (s.kind) {
    case 'quantile':
    case 'mean': {
      const stat: ResampleStatistic = s.kind === 'quantile' ? { kind: 'quantile', q: s.q } : { kind: 'mean' };
      const ci = bootstrapCI(sorted, stat, boot);
      const observed = s.kind === 'quantile' ? quantileSorted(sorted, s.q) : mean(sorted);
      return { observed, ci: [ci.lo, ci.hi] };
    }
    case 'max':
      return { observed: sorted[sorted.length - 1] as number };
    case 'min':
      return { observed: sorted[0] as number };
    case 'jain':
      return { observed: jainIndex(samples) };
    case 'p10/p50':
      return { observed: p10p50Ratio(samples) };
    case 'ratio':
      throw new Error('unreachable: ratio thresholds are rejected for sample input');
  }
}

function judge(
  t: Threshold,
  m: Measured,
  dimension: Dimension,
  confidence: number,
): { status: VerdictStatus; reason: string } {
  const fmt = (x: number) => formatValue(x, dimension);
  const stat = statisticName(t.statistic);
  const limit = `${t.op} ${formatValue(t.value, t.dimension)}`;
  const ciText = m.ci === undefined ? '' : ` (${Math.round(confidence * 1000) / 10}% CI ${fmt(m.ci[0])} – ${fmt(m.ci[1])})`;
  if (Number.isNaN(m.observed)) {
    return { status: 'inconclusive', reason: `${stat} is undefined for these samples (e.g. all zero), cannot check ${limit}` };
  }
  if (m.ci !== undefined) {
    const [lo, hi] = m.ci;
    if (Number.isNaN(lo) || Number.isNaN(hi)) {
      return { status: 'inconclusive', reason: `${stat} = ${fmt(m.observed)} but its confidence interval is undefined` };
    }
    if (compare(lo, t.op, t.value) !== compare(hi, t.op, t.value)) {
      return {
        status: 'inconclusive',
        reason: `${stat} = ${fmt(m.observed)} but the CI straddles the threshold ${limit}${ciText}; collect more samples`,
      };
    }
  }
  return compare(m.observed, t.op, t.value)
    ? { status: 'pass', reason: `${stat} = ${fmt(m.observed)} ${limit}${ciText}` }
    : { status: 'fail', reason: `${stat} = ${fmt(m.observed)}, not ${limit}${ciText}` };
}

function overall(results: ThresholdVerdict[]): { status: VerdictStatus; reason: string } {
  const list = (status: VerdictStatus) =>
    results.filter((r) => r.status === status).map((r) => `${r.threshold} (${r.reason})`);
  const failed = list('fail');
  if (failed.length > 0) {
    return { status: 'fail', reason: `${failed.length} of ${results.length} thresholds failed: ${failed.join('; ')}` };
  }
  const unsure = list('inconclusive');
  if (unsure.length > 0) {
    return {
      status: 'inconclusive',
      reason: `${unsure.length} of ${results.length} thresholds inconclusive: ${unsure.join('; ')}`,
    };
  }
  return { status: 'pass', reason: `all ${results.length} thresholds met` };
}

/**
 * Evaluate an SLO on samples (base units) or on a ratio of two sample sets.
 * Throws SloValidationError for an invalid SLO or an input that does not fit it.
 */
export function evaluateSlo(slo: SloSpec, input: SloInput, opts: EvaluateOptions = {}): Verdict {
  const v = validateSlo(slo);
  const confidence = slo.confidence ?? 0.95;
  const boot: BootstrapOptions = { confidence, iterations: opts.iterations, seed: opts.seed };
  const isRatio = 'ratio' in input;
  const mismatched = v.thresholds
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => (t.statistic.kind === 'ratio') !== isRatio)
    .map(({ t, i }) =>
      isRatio
        ? `thresholds[${i}]: "${t.text}" cannot apply to ratio input; use ratio<=N, e.g. ratio<=1.5`
        : `thresholds[${i}]: "${t.text}" needs ratio input { ratio: { numerator, denominator, statistic } }`,
    );
  if (mismatched.length > 0) throw new SloValidationError(slo.sli, mismatched);

  let n: number;
  let measure: (t: Threshold) => Measured;
  if ('ratio' in input) {
    const { numerator, denominator, statistic } = input.ratio;
    n = Math.min(numerator.length, denominator.length);
    measure = () => {
      const ci = bootstrapRatioCI(numerator, denominator, statistic, boot);
      return { observed: ci.estimate, ci: [ci.lo, ci.hi] };
    };
  } else {
    const samples = input.samples;
    const sorted = sortedCopy(samples);
    n = samples.length;
    measure = (t) => measureSamples(t, samples, sorted, boot);
  }

  const tooFew = n === 0 ? 'no samples' : n < slo.minSamples ? `only ${n} samples, fewer than minSamples ${slo.minSamples}` : undefined;
  const thresholds: ThresholdVerdict[] = v.thresholds.map((t) => {
    const dimension = thresholdDimension(t, v.dimension);
    if (n === 0) {
      return { threshold: t.text, observed: NaN, dimension, status: 'inconclusive', reason: 'no samples' };
    }
    const m = measure(t);
    const base = { threshold: t.text, observed: m.observed, dimension, ...(m.ci ? { ci: m.ci } : {}) };
    if (tooFew !== undefined) {
      const seen = `${statisticName(t.statistic)} = ${formatValue(m.observed, dimension)}`;
      return { ...base, status: 'inconclusive', reason: `${tooFew} (${seen})` };
    }
    return { ...base, ...judge(t, m, dimension, confidence) };
  });

  const verdict: Verdict = { ...overall(thresholds), sli: slo.sli, samples: n, thresholds };
  if (n === 0) verdict.reason = 'no samples: zero samples is never a pass';
  else if (tooFew !== undefined) verdict.reason = `${tooFew}; cannot judge`;
  if (slo.labels !== undefined) verdict.labels = { ...slo.labels };
  return verdict;
}
