import { parseThreshold, statisticName, ThresholdError } from './threshold.js';
import type { Dimension, SloSpec, Threshold } from './types.js';
import { describeDimension, THROUGHPUT_UNIT_LIST, TIME_UNIT_LIST } from './units.js';

// SLOs are data, validated before anything touches the cluster: a typo in a threshold
// must fail in milliseconds with a fix, not after a 20-minute scale-up. Validation
// collects every problem so one edit fixes them all.

export class SloValidationError extends Error {
  override readonly name = 'SloValidationError';
  constructor(
    readonly sli: string,
    /** One line per problem, each naming the field. */
    readonly problems: readonly string[],
  ) {
    super(`invalid SLO for sli "${sli}":\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ValidatedSlo {
  spec: SloSpec;
  /** What the SLI's samples measure, from its name. */
  dimension: Dimension;
  thresholds: Threshold[];
}

/**
 * The SLI's dimension from its Prometheus-style unit suffix: `_seconds` → time,
 * `_bytes_per_second` → throughput, `_ratio` or a name containing "ratio" or "fairness"
 * → dimensionless. Undefined when the name says nothing.
 */
export function sliDimension(sli: string): Dimension | undefined {
  if (sli.endsWith('_seconds')) return 'time';
  if (sli.endsWith('_bytes_per_second')) return 'throughput';
  if (sli.endsWith('_ratio') || sli.includes('ratio') || sli.includes('fairness')) return 'dimensionless';
  return undefined;
}

function unitsFor(d: Dimension): string {
  return d === 'time' ? TIME_UNIT_LIST : d === 'throughput' ? THROUGHPUT_UNIT_LIST : 'none: write a bare number';
}

/** Why threshold `t` cannot apply to an SLI of dimension `sliDim`, or undefined if it can. */
function dimensionProblem(t: Threshold, sli: string, sliDim: Dimension): string | undefined {
  const stat = statisticName(t.statistic);
  switch (t.statistic.kind) {
    case 'jain':
    case 'p10/p50':
      return sliDim === 'time'
        ? `${stat} is a fairness statistic over per-flow throughputs, but sli "${sli}" is a time; use it on a _bytes_per_second or fairness SLI`
        : undefined;
    case 'ratio':
      return sli.includes('ratio')
        ? undefined
        : `${stat} compares two sample sets and needs a ratio SLI (name ending in _ratio), but sli "${sli}" is ${describeDimension(sliDim)}`;
    default:
      if (t.dimension === sliDim) return undefined;
      if (t.dimension === 'dimensionless') {
        return `missing unit on the value ${t.value}; sli "${sli}" is ${describeDimension(sliDim)}, use one of ${unitsFor(sliDim)}`;
      }
      return `unit "${t.unit}" is ${describeDimension(t.dimension)} but sli "${sli}" is ${describeDimension(sliDim)}; use ${unitsFor(sliDim)}`;
  }
}

/** Parse and check an SLO; throws one SloValidationError listing every problem. */
export function validateSlo(slo: SloSpec): ValidatedSlo {
  const problems: string[] = [];
  const raw = (slo ?? {}) as Partial<Record<keyof SloSpec, unknown>>;
  const sli = typeof raw.sli === 'string' ? raw.sli : '';
  const sliLabel = sli === '' ? String(raw.sli) : sli;

  let dimension: Dimension | undefined;
  if (sli.trim() === '') {
    problems.push(`sli: must be a non-empty SLI name such as network_programming_latency_seconds`);
  } else {
    dimension = sliDimension(sli);
    if (dimension === undefined) {
      problems.push(
        `sli: cannot tell what "${sli}" measures; end the name with a unit suffix (_seconds, _bytes_per_second, _ratio) or include "fairness"`,
      );
    }
  }

  const thresholds: Threshold[] = [];
  if (!Array.isArray(raw.thresholds)) {
    problems.push(`thresholds: must be an array of strings such as ['p(99)<5ms']`);
  } else if (raw.thresholds.length === 0) {
    problems.push(`thresholds: is empty; an SLO without thresholds could never fail`);
  } else {
    raw.thresholds.forEach((text: unknown, i: number) => {
      try {
        const t = parseThreshold(text as string);
        thresholds.push(t);
        const problem = dimension === undefined ? undefined : dimensionProblem(t, sli, dimension);
        if (problem !== undefined) problems.push(`thresholds[${i}]: threshold "${t.text}": ${problem}`);
      } catch (err) {
        if (!(err instanceof ThresholdError)) throw err;
        problems.push(`thresholds[${i}]: ${err.message}`);
      }
    });
  }

  const minSamples = raw.minSamples;
  if (!(typeof minSamples === 'number' && Number.isInteger(minSamples) && minSamples >= 1)) {
    problems.push(`minSamples: must be a positive integer, got ${String(minSamples)}`);
  }
  if (raw.confidence !== undefined) {
    const c = raw.confidence;
    if (!(typeof c === 'number' && c > 0 && c < 1)) {
      problems.push(`confidence: must be a number in (0, 1) such as 0.95, got ${JSON.stringify(c)}`);
    }
  }
  if (raw.labels !== undefined) {
    const labels = raw.labels;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
      problems.push(`labels: must be an object of string values`);
    } else {
      for (const [k, v] of Object.entries(labels)) {
        if (typeof v !== 'string') problems.push(`labels.${k}: must be a string, got ${typeof v}`);
      }
    }
  }

  if (problems.length > 0) throw new SloValidationError(sliLabel, problems);
  return { spec: slo, dimension: dimension as Dimension, thresholds };
}
