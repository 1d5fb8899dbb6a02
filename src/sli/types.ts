// Result and specification types shared with suites, fixtures and reporters.
// Reporters import only from here (via index.ts), so keep this file free of logic.

/** What a threshold's value is measured in. Base units: seconds, bytes/second, plain numbers. */
export type Dimension = 'time' | 'throughput' | 'dimensionless';

export type ComparisonOp = '<' | '<=' | '>' | '>=';

/** The statistic a threshold constrains. `q` is a fraction in (0, 1]. */
export type Statistic =
  | { kind: 'quantile'; q: number }
  | { kind: 'max' | 'min' | 'mean' | 'jain' | 'p10/p50' | 'ratio' };

/** A parsed threshold such as `p(99)<5ms`. */
export interface Threshold {
  /** The threshold exactly as written. */
  text: string;
  statistic: Statistic;
  op: ComparisonOp;
  /** In base units: seconds, bytes per second, or a plain number. */
  value: number;
  dimension: Dimension;
  /** The unit as written (empty for a bare number); kept for messages. */
  unit: string;
}

/** An SLO is data, validated before anything touches the cluster. */
export interface SloSpec {
  sli: string;
  thresholds: string[];
  minSamples: number;
  labels?: Record<string, string>;
  /** Confidence level of the bootstrap intervals, in (0, 1); default 0.95. */
  confidence?: number;
}

/** The statistic compared between two sample sets (ratio and A/B difference). */
export type ResampleStatistic = { kind: 'quantile'; q: number } | { kind: 'mean' };

/** Input of evaluateSlo: plain samples, or two sample sets whose statistic ratio is the SLI. */
export type SloInput =
  | { samples: readonly number[] }
  | {
      ratio: {
        numerator: readonly number[];
        denominator: readonly number[];
        statistic: ResampleStatistic;
      };
    };

export type VerdictStatus = 'pass' | 'fail' | 'inconclusive';

export interface ThresholdVerdict {
  threshold: string;
  /** The statistic over all samples; NaN when it cannot be computed. */
  observed: number;
  /** Bootstrap confidence interval, for statistics that have sampling error. */
  ci?: [number, number];
  dimension: Dimension;
  status: VerdictStatus;
  reason: string;
}

export interface Verdict {
  status: VerdictStatus;
  sli: string;
  /** Number of samples evaluated (for ratio input: the smaller of the two sets). */
  samples: number;
  thresholds: ThresholdVerdict[];
  reason: string;
  labels?: Record<string, string>;
}

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}
