// A/B in rounds (kube-sli ab): every side ran the same suites in several rounds on one
// machine, interleaved (A B B A …). Two steps, both pure:
//
// 1. poolRounds: the rounds of one side become one report, series by series, the samples
//    of all rounds together (from each round's reservoir), so compareReports applies its
//    usual bootstrap to all rounds of A against all rounds of B.
// 2. roundCheck: the bootstrap resamples samples as if independent, but on a shared
//    machine the spread between runs is far larger than within one. So a pooled verdict
//    (regression or improvement) only stands when the rounds agree: every round of the
//    candidate is on the same side of every round of the base (its statistic per round).
//    With 2 rounds a side that is the most extreme of the C(4,2) = 6 orderings, i.e. a
//    one-sided permutation p = 1/6 for the round-level test alone; it is a guard against
//    one drifted round, not a test of its own. Otherwise the row says so and does not count.
// 3. roundTTest: the test whose unit is the round. The rounds' statistics of each side are
//    the observations (Student's two-sample t, pooled variance, df = rounds − 2; at least
//    2 rounds per side, so each side's spread is seen), so the
//    spread between rounds of one side, which the pooled bootstrap cannot see, sets the
//    bar. A/A on the lab showed why it is needed: in one A B B A run 6 of 8 rows were
//    "significant" by the pooled bootstrap, and ordering alone (p = 1/6 per row) lets one
//    of several rows through by chance. A row counts only when all three agree.
// Paired rounds (kube-sli ab --paired): each round measured base and candidate at once, on
// different nodes, so the round is a pair and its difference d (candidate − base) the
// observation; the machine's drift between rounds, which both sides share within a round,
// drops out of it. But the nodes differ a little (on the lab, one node's same-node p50 sat
// 0.3-5.8 % above the other's in every round of an A/A run), and the node under the
// candidate alternates (pairedOrder), so d = Δ + s·δ + ε with s = ±1 known: the t test
// estimates the node effect δ beside Δ (least squares; balanced runs make the two
// estimates independent: Δ̂ = mean d, δ̂ = mean s·d) and tests Δ̂ against the residual spread,
// df = rounds − 2. "Every round agrees" becomes: every swap (two runs in a row, each node
// once on each side, so δ cancels) moves the same way.
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { mean } from '../sli/index.js';
import { compareReports, statValue } from './compare.js';
import { pairedOrder } from './paired.js';
import { buildSeries } from './series.js';
import type { CompareOptions, ComparedStatistic, ComparisonDocument, ComparisonRow, ReportDocument, SeriesRecord } from './types.js';

export interface PooledReport {
  doc: ReportDocument;
  /** series ids whose rounds stored only part of their samples (reservoir < count) */
  subsampled: string[];
}

/** One report out of the rounds of one side (series present in every round only). */
export function poolRounds(rounds: readonly ReportDocument[]): PooledReport {
  if (rounds.length === 0) throw new RangeError('poolRounds: no rounds');
  const first = rounds[0]!;
  const byId = rounds.map((r) => new Map(r.series.map((s) => [s.id, s])));
  const subsampled: string[] = [];
  const series: SeriesRecord[] = [];
  for (const s of first.series) {
    const all = byId.map((m) => m.get(s.id));
    if (all.some((x) => x === undefined)) continue;
    const parts = all as SeriesRecord[];
    const samples = parts.flatMap((p) => p.reservoir.values);
    if (parts.some((p) => p.reservoir.values.length < p.summary.count)) subsampled.push(s.id);
    series.push(
      buildSeries({
        sli: s.sli,
        source: s.source,
        labels: s.labels,
        samples,
        direction: s.direction,
        ...(s.slo ? { slo: s.slo } : {}),
      }),
    );
  }
  const starts = rounds.map((r) => r.startedAt).sort();
  const ends = rounds.map((r) => r.endedAt).sort();
  return {
    doc: { ...first, startedAt: starts[0]!, endedAt: ends[ends.length - 1]!, series },
    subsampled,
  };
}

function roundValue(s: SeriesRecord | undefined, stat: ComparedStatistic): number | null {
  return s ? statValue(s, stat) : null;
}

export interface RoundValues {
  base: (number | null)[];
  candidate: (number | null)[];
}

/** Per row: the statistic in each round of each side. */
export function roundValues(row: ComparisonRow, base: readonly ReportDocument[], cand: readonly ReportDocument[]): RoundValues {
  return {
    base: base.map((r) => roundValue(r.series.find((s) => s.id === row.seriesId), row.statistic)),
    candidate: cand.map((r) => roundValue(r.series.find((s) => s.id === row.candidateId), row.statistic)),
  };
}

/** How the rounds were measured: one side after the other, or both at once (a pair per round). */
export type RoundDesign = 'sequential' | 'paired';

/** Both sides' values when every round has one (and, paired, as many of each), else undefined. */
function complete(v: RoundValues, design: RoundDesign): { b: number[]; c: number[] } | undefined {
  const b = v.base.filter((x): x is number => x !== null);
  const c = v.candidate.filter((x): x is number => x !== null);
  if (b.length !== v.base.length || c.length !== v.candidate.length || b.length === 0 || c.length === 0) return undefined;
  if (design === 'paired' && b.length !== c.length) return undefined;
  return { b, c };
}

/**
 * Every candidate round on the worse (or better) side of every base round; paired, every
 * swap's mean difference on that side (runs 1-2, 3-4, …: each node once on each side).
 */
export function roundsAgree(v: RoundValues, candidateHigher: boolean, design: RoundDesign = 'sequential'): boolean {
  const x = complete(v, design);
  if (!x) return false;
  const { b, c } = x;
  if (design === 'paired') {
    const swaps = swapMeans(b, c);
    return swaps.length > 0 && swaps.every((m) => (candidateHigher ? m > 0 : m < 0));
  }
  return candidateHigher ? Math.min(...c) > Math.max(...b) : Math.max(...c) < Math.min(...b);
}

export interface RoundTest {
  /** Student's t of mean(candidate rounds) − mean(base rounds) */
  t: number;
  df: number;
  /** |t| beyond this is significant at the comparison's confidence (two-sided) */
  critical: number;
  significant: boolean;
}

/** Student's two-sample t of mean(candidate) − mean(base), pooled variance; ±∞ for a difference with no spread at all. */
export function pooledT(base: readonly number[], candidate: readonly number[]): { t: number; df: number } {
  const df = base.length + candidate.length - 2;
  const ss = (xs: readonly number[], m: number) => xs.reduce((a, x) => a + (x - m) ** 2, 0);
  const mb = mean(base);
  const mc = mean(candidate);
  const se = Math.sqrt(((ss(base, mb) + ss(candidate, mc)) / df) * (1 / base.length + 1 / candidate.length));
  const diff = mc - mb;
  // no spread at all: any difference is beyond it, none is not
  return { t: se > 0 ? diff / se : diff === 0 ? 0 : Math.sign(diff) * Infinity, df };
}

/** The mean difference (candidate − base) of each swap: runs 1-2, 3-4, … (a run left over forms none). */
export function swapMeans(base: readonly number[], candidate: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < base.length; i += 2) out.push((candidate[i]! - base[i]! + candidate[i + 1]! - base[i + 1]!) / 2);
  return out;
}

/**
 * The paired t of the rounds' differences with the node effect removed: d_i = Δ + s_i·δ + ε_i,
 * s_i = +1 when the candidate ran on the odd half of the nodes (pairedOrder 0), −1 on the
 * even half. Needs balanced runs, at least 4 (pairedOrder's multiples of 4 are balanced;
 * so are its other even counts), so the residual keeps 2 degrees of freedom. ±∞ for
 * differences with no residual spread.
 */
export function pairedT(base: readonly number[], candidate: readonly number[]): { t: number; df: number; nodeEffect: number } {
  const d = candidate.map((c, i) => c - base[i]!);
  const s = pairedOrder(d.length).map((h) => (h === 0 ? 1 : -1));
  if (d.length < 4 || s.reduce((a, x) => a + x, 0) !== 0) throw new RangeError(`pairedT needs an even number of paired runs, at least 4 (got ${d.length})`);
  const delta = mean(d);
  const nodeEffect = mean(d.map((x, i) => x * s[i]!));
  const ss = d.reduce((a, x, i) => a + (x - delta - s[i]! * nodeEffect) ** 2, 0);
  const df = d.length - 2;
  const se = Math.sqrt(ss / df / d.length);
  // a residual of rounding dust is no spread
  const t = se > 1e-12 * Math.max(1, Math.abs(delta)) ? delta / se : delta === 0 ? 0 : Math.sign(delta) * Infinity;
  return { t, df, nodeEffect };
}

/** |t| beyond this is significant at `confidence`, two-sided. */
export const tCritical = (confidence: number, df: number): number => tQuantile(1 - (1 - confidence) / 2, df);

/**
 * Student's two-sample t on the rounds' statistics (pooled variance). Undefined when it
 * cannot be formed: a round without a value, or a side with one round (its spread unseen;
 * ab's default of 2 rounds per side always forms it).
 */
export function roundTTest(v: RoundValues, confidence: number, design: RoundDesign = 'sequential'): RoundTest | undefined {
  const x = complete(v, design);
  if (!x || x.b.length < 2 || x.c.length < 2) return undefined;
  if (design === 'paired' && (x.b.length < 4 || x.b.length % 2 !== 0)) return undefined;
  const { t, df } = design === 'paired' ? pairedT(x.b, x.c) : pooledT(x.b, x.c);
  const critical = tCritical(confidence, df);
  return { t, df, critical, significant: Math.abs(t) > critical };
}

const fmtT = (r: RoundTest): string => `t = ${Number.isFinite(r.t) ? r.t.toFixed(2) : r.t > 0 ? '+∞' : '−∞'}, df ${r.df}, critical ${r.critical.toFixed(2)}`;

const fmt = (xs: (number | null)[]) => xs.map((x) => (x === null ? 'n/a' : Number(x.toPrecision(4)).toString())).join(', ');

/** Applies the round-level check to a comparison of pooled rounds; returns a new document. */
export function roundCheck(cmp: ComparisonDocument, base: readonly ReportDocument[], cand: readonly ReportDocument[], design: RoundDesign = 'sequential'): ComparisonDocument {
  const rows = cmp.rows.map((row) => {
    if (row.verdict !== 'regression' && row.verdict !== 'improvement') return row;
    const v = roundValues(row, base, cand);
    const higher = (row.change ?? 0) > 0;
    const rounds = `base rounds ${fmt(v.base)}; candidate rounds ${fmt(v.candidate)}`;
    const dismiss = (why: string) => ({ ...row, significant: false, verdict: 'no-significant-change' as const, note: [row.note, `pooled samples said ${row.verdict}, but ${why}: round-to-round spread, not counted`].filter(Boolean).join('; ') });
    if (!roundsAgree(v, higher, design)) return dismiss(design === 'paired' ? `the swaps disagree (${rounds})` : `the rounds overlap (${rounds})`);
    const t = roundTTest(v, cmp.confidence, design);
    // a side with one round: its spread is unknown, the ordering check stands alone
    const why = design === 'paired' ? 'fewer than 4 paired runs, so no round-level t test (run 4 or more, an even number)' : 'a side has one round, so no round-level t test (run 2 or more rounds per side)';
    if (t === undefined) return { ...row, note: [row.note, `every round agrees (${rounds}); ${why}`].filter(Boolean).join('; ') };
    const how = design === 'paired' ? 'paired t of the runs\' differences, node effect removed, ' : '';
    if (!t.significant) return dismiss(`the rounds differ by less than their own spread (${rounds}; ${how}${fmtT(t)})`);
    return { ...row, note: [row.note, `every round agrees (${rounds}; ${how}${fmtT(t)})`].filter(Boolean).join('; ') };
  });
  const regressions = rows.filter((r) => r.verdict === 'regression').length;
  return {
    ...cmp,
    rows,
    regressions,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
    outcome: regressions > 0 ? 'regression' : 'no-regression',
  };
}

/**
 * What `kube-sli ab` concludes from its rounds: the rounds of each side pooled, compared
 * with compareReports, then the round-level check; a warning names series whose rounds
 * kept only a reservoir. The same function serves ab and recorded rounds (fixtures).
 */
export function compareRounds(base: readonly ReportDocument[], cand: readonly ReportDocument[], o: CompareOptions = {}, design: RoundDesign = 'sequential'): ComparisonDocument {
  const b = poolRounds(base);
  const c = poolRounds(cand);
  const cmp = roundCheck(compareReports(b.doc, c.doc, o), base, cand, design);
  const sub = [...new Set([...b.subsampled, ...c.subsampled])];
  if (sub.length > 0) cmp.warnings.push(`WARNING: ${sub.length} series kept only a reservoir of their samples per round; the pooled statistics come from those reservoirs: ${sub.join(', ')}`);
  return cmp;
}
