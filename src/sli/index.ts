// Public API of src/sli: pure math for SLIs and SLO verdicts. No I/O, no imports from
// the rest of kube-sli; reporters may import the result types from here.

export type {
  ComparisonOp,
  Dimension,
  ResampleStatistic,
  SloInput,
  SloSpec,
  Statistic,
  Summary,
  Threshold,
  ThresholdVerdict,
  Verdict,
  VerdictStatus,
} from './types.js';
export { mean, quantile, quantiles, quantileSorted, sortedCopy, summarize } from './quantile.js';
export { LatencyHistogram } from './histogram.js';
export { jainIndex, p10p50Ratio } from './fairness.js';
export {
  bootstrapCI,
  bootstrapDifferenceCI,
  bootstrapQuantileCI,
  bootstrapReplicates,
  bootstrapRatioCI,
  DEFAULT_SEED,
  type BootstrapOptions,
  type ConfidenceInterval,
} from './bootstrap.js';
export { mulberry32 } from './random.js';
export {
  histogramDelta,
  histogramQuantile,
  type HistogramDelta,
  type PromBucket,
  type PromHistogram,
} from './prometheus.js';
export { formatValue, lookupUnit, THROUGHPUT_UNITS, TIME_UNITS, type UnitInfo } from './units.js';
export { compare, parseThreshold, statisticName, ThresholdError } from './threshold.js';
export { sliDimension, SloValidationError, validateSlo, type ValidatedSlo } from './slo.js';
export { evaluateSlo, type EvaluateOptions } from './verdict.js';
export { behindSchedule, intervalRates, lateSends, openLoopStats, schedule, unsustained, type OpenLoopStats, type RequestRecord } from './open-loop.js';
