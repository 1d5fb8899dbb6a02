import type { ComparisonOp, Statistic, Threshold } from './types.js';
import { lookupUnit, THROUGHPUT_UNIT_LIST, TIME_UNIT_LIST } from './units.js';

// The threshold language, after k6: `<statistic> <op> <number>[unit]`, e.g. `p(99)<5ms`,
// `p(10)>=100MB/s`, `jain>=0.9`. Whitespace anywhere is ignored. Time and throughput
// values need a unit (a bare `p(99)<5` is ambiguous: k6 means ms, others mean s);
// a bare number is dimensionless. Thresholds are parsed before a run starts, so every
// error quotes the threshold, names the offending token and says how to fix it.

export class ThresholdError extends Error {
  override readonly name = 'ThresholdError';
  constructor(
    /** The threshold as written. */
    readonly threshold: string,
    /** The part of it that is wrong. */
    readonly token: string,
    problem: string,
  ) {
    super(`threshold "${threshold}": ${problem}`);
  }
}

const OPS: readonly ComparisonOp[] = ['<=', '>=', '<', '>'];
const STATISTIC_LIST = 'p(N) with N in (0, 100], max, min, mean, avg, med, jain, p10/p50, ratio';
const EXAMPLE = 'e.g. p(99)<5ms';
const DIMENSIONLESS_STATISTICS = new Set(['jain', 'p10/p50', 'ratio']);
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const FIXED_NAMES: ReadonlyMap<string, Statistic> = new Map<string, Statistic>([
  ['max', { kind: 'max' }],
  ['min', { kind: 'min' }],
  ['mean', { kind: 'mean' }],
  ['avg', { kind: 'mean' }],
  ['med', { kind: 'quantile', q: 0.5 }],
  ['jain', { kind: 'jain' }],
  ['p10/p50', { kind: 'p10/p50' }],
  ['ratio', { kind: 'ratio' }],
]);

export function statisticName(s: Statistic): string {
  return s.kind === 'quantile' ? `p(${Number((s.q * 100).toPrecision(12))})` : s.kind;
}

function parseStatistic(text: string, token: string): Statistic {
  const fail = (problem: string): never => {
    throw new ThresholdError(text, token, problem);
  };
  const named = FIXED_NAMES.get(token.toLowerCase());
  if (named !== undefined) return named;
  const call = /^p\((.*)\)$/i.exec(token);
  if (call !== null) {
    const inner = call[1] as string;
    if (inner === '') fail(`missing percentile in "${token}"; write e.g. p(99)`);
    if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(inner)) {
      fail(`percentile "${inner}" in "${token}" is not a number; write e.g. p(99) or p(99.9)`);
    }
    const p = Number(inner);
    if (!(p > 0 && p <= 100)) {
      fail(`percentile ${inner} in "${token}" must be between 0 and 100 (exclusive of 0)`);
    }
    // toPrecision strips the float noise of p/100 (99.9/100 = 0.9990000000000001).
    return { kind: 'quantile', q: Number((p / 100).toPrecision(15)) };
  }
  const bare = /^p(\d+(?:\.\d+)?)$/i.exec(token);
  if (bare !== null) fail(`unknown statistic "${token}"; did you mean p(${bare[1]})?`);
  return fail(`unknown statistic "${token}"; use one of ${STATISTIC_LIST}`);
}

/** Parse one threshold; throws ThresholdError. */
export function parseThreshold(text: string): Threshold {
  if (typeof text !== 'string') {
    throw new ThresholdError(String(text), String(text), `must be a string, ${EXAMPLE}`);
  }
  const fail = (token: string, problem: string): never => {
    throw new ThresholdError(text, token, problem);
  };
  const t = text.trim();
  if (t === '') fail('', `is empty; write a comparison, ${EXAMPLE}`);

  const opAt = t.search(/[<>=!]/);
  if (opAt < 0) {
    fail(t, `missing comparison operator in "${t}"; use one of <, <=, >, >= (${EXAMPLE})`);
  }
  const opText = (/^[<>=!]+/.exec(t.slice(opAt)) as RegExpExecArray)[0];
  const op = OPS.find((o) => o === opText);
  if (op === undefined) {
    fail(opText, `unsupported operator "${opText}"; use one of <, <=, >, >=`);
  }
  const comparison = op as ComparisonOp;

  const statToken = t.slice(0, opAt).replace(/\s+/g, '');
  if (statToken === '') fail(comparison, `missing statistic before "${comparison}"; use one of ${STATISTIC_LIST}`);
  const statistic = parseStatistic(text, statToken);
  const statLabel = statisticName(statistic);

  const valueToken = t.slice(opAt + opText.length).replace(/\s+/g, '');
  if (valueToken === '') fail(comparison, `missing value after "${comparison}"; write e.g. ${statToken}${comparison}5ms`);
  const num = NUMBER.exec(valueToken);
  if (num === null) {
    if (/^[a-zA-Zµμ]/.test(valueToken)) {
      fail(valueToken, `missing number before unit "${valueToken}"; write e.g. ${statToken}${comparison}5${valueToken}`);
    }
    fail(valueToken, `value "${valueToken}" is not a number; write e.g. ${statToken}${comparison}5ms`);
  }
  const numberText = (num as RegExpExecArray)[0];
  const amount = Number(numberText);
  const unit = valueToken.slice(numberText.length);
  if (amount < 0 || numberText.startsWith('-')) {
    fail(valueToken, `negative value "${valueToken}"; SLI values are never negative, use a value >= 0`);
  }
  if (!Number.isFinite(amount)) fail(valueToken, `value "${numberText}" is out of range`);

  if (DIMENSIONLESS_STATISTICS.has(statistic.kind)) {
    if (unit !== '') {
      fail(unit, `unit "${unit}" does not apply to ${statLabel}, which is dimensionless; write a bare number, e.g. ${statToken}${comparison}${numberText}`);
    }
    return { text, statistic, op: comparison, value: amount, dimension: 'dimensionless', unit };
  }
  const info = lookupUnit(unit);
  if (info === undefined) {
    const looksLikeRate = unit.includes('/') || /ps$/i.test(unit);
    const list = looksLikeRate ? THROUGHPUT_UNIT_LIST : TIME_UNIT_LIST;
    fail(unit, `unknown unit "${unit}"; use one of ${list}`);
  }
  const { dimension, factor } = info as NonNullable<typeof info>;
  return { text, statistic, op: comparison, value: amount * factor, dimension, unit };
}

/** Whether `observed op value` holds. NaN never satisfies a threshold. */
export function compare(observed: number, op: ComparisonOp, value: number): boolean {
  switch (op) {
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
  }
}
