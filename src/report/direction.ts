import { sliDimension, type Dimension } from '../sli/index.js';
import type { ComparedStatistic, Direction } from './types.js';

/**
 * Which way is better, from the SLI's name: `_seconds` → lower; `_bytes_per_second`,
 * "throughput" or "fairness" → higher; anything else (overhead ratios of latencies) → lower.
 * A series can override it (SliResult.direction).
 */
export function sliDirection(sli: string): Direction {
  if (sli.endsWith('_seconds')) return 'lower-is-better';
  if (sli.endsWith('_bytes_per_second') || sli.includes('throughput') || sli.includes('fairness')) {
    return 'higher-is-better';
  }
  return 'lower-is-better';
}

/** The SLI's dimension; names without a unit suffix count as dimensionless. */
export function seriesDimension(sli: string): Dimension {
  return sliDimension(sli) ?? 'dimensionless';
}

/**
 * Statistics compare tests per series. Lower-is-better: the median and the p99 tail.
 * Higher-is-better: the median, the slow p10 tail (the tail that hurts when higher is
 * better) and the mean; plus Jain's index for per-connection throughput.
 */
export function comparedStatistics(direction: Direction, hasFairness: boolean): ComparedStatistic[] {
  if (direction === 'lower-is-better') return ['p50', 'p99'];
  return hasFairness ? ['p50', 'p10', 'mean', 'jain'] : ['p50', 'p10', 'mean'];
}
