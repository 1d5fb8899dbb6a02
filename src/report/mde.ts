// The resolution of `kube-sli ab` (npm run bench -- ab): many A/B runs with a known
// slowdown injected into the candidate, and A/A runs with none, tallied per SLI row. Pure:
// the runs come in as parsed compare.json documents.
//
// - detection rate of a size: runs whose row is a regression (the verdict ab exits 1 on,
//   after the pooled bootstrap, the every-round ordering and the round-level t test) ÷ runs
//   in which the row was compared;
// - false-alarm rate: A/A runs whose row is significant either way (regression or
//   improvement) ÷ A/A runs with the row; and, per run, how often the gate itself failed
//   (any regression, exit 1);
// - minimum detectable effect (MDE): the smallest injected size detected in at least 90 %
//   of at least MDE_MIN_RUNS runs ("9 of 10"). With fewer runs it is "not reached at n=…".
import { quantile } from '../sli/index.js';
import { statValue } from './compare.js';
import type { ComparedStatistic, ComparisonDocument, ComparisonRow, ReportDocument, SeriesRecord } from './types.js';

/** How a slowdown is injected: rules = nftables rules every new connection passes; sync = ms added to each kube-proxy rules write. */
export type InjectionKind = 'rules' | 'sync';

export interface InjectionSize {
  kind: InjectionKind;
  /** rules: rule count; sync: milliseconds per write */
  amount: number;
}

export const formatSize = (s: InjectionSize): string => (s.kind === 'rules' ? `rules=${s.amount}` : `sync=${s.amount}ms`);

/** "rules=3000" or "sync=200ms" (the bench's size arguments). */
export function parseSize(text: string): InjectionSize {
  const m = /^(rules)=(\d+)$/.exec(text) ?? /^(sync)=(\d+)ms$/.exec(text);
  const amount = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new RangeError(`size "${text}" is neither rules=<N> (N > 0 nftables rules each new connection passes) nor sync=<D>ms (D > 0 ms added to each kube-proxy rules write); e.g. rules=3000 or sync=200ms`);
  }
  return { kind: m[1] as InjectionKind, amount };
}

/** One SLI row the gate's resolution is measured for, and the slowdown aimed at it. */
export interface MdeSli {
  name: string;
  sli: string;
  source: string;
  statistic: ComparedStatistic;
  /** labels the row must carry (others may differ, e.g. services) */
  labels?: Record<string, string>;
  kind: InjectionKind;
  suite: string;
  /** files the same test lived in before (runs recorded then still count for this row) */
  formerSuites?: readonly string[];
  /** only the suite's tests whose full name matches (ab --test, vitest -t): the case the row comes from */
  test?: string;
  /** the MDE the gate should reach, relative to the base (0.1 = 10 %) */
  target: number;
}

export const MDE_SLIS: readonly MdeSli[] = [
  { name: 'first-packet p50', sli: 'first_packet_latency_seconds', source: 'capture', statistic: 'p50', kind: 'rules', suite: 'suites/first-packet-latency.slo.test.ts', target: 0.1 },
  {
    name: '+1-Service programming p50',
    sli: 'network_programming_latency_seconds',
    source: 'prober',
    statistic: 'p50',
    labels: { case: 'one-more-service' },
    kind: 'sync',
    suite: 'suites/programming-at-scale.slo.test.ts',
    // its own file since the scale suites share their fillers (2026-11-30)
    formerSuites: ['suites/programming-latency.slo.test.ts'],
    test: 'one more Service',
    target: 0.2,
  },
];

/** Whether a run of `suite` measured this row's test (in its file now, or one it moved from). */
export function ofSuite(s: Pick<MdeSli, 'suite' | 'formerSuites'>, suite: string): boolean {
  return suite === s.suite || (s.formerSuites ?? []).includes(suite);
}

/** "9 of 10": the runs a size needs before its detection rate can establish the MDE. */
export const MDE_MIN_RUNS = 10;
export const MDE_MIN_RATE = 0.9;

/** One `kube-sli ab` run of the bench: A/A (size undefined) or base against an injected size. */
export interface MdeRun {
  size?: InjectionSize;
  /** the suite the run measured (A/A runs count only for the SLIs of their suite) */
  suite: string;
  exitCode: number;
  minutes: number;
  cmp: ComparisonDocument;
  /** where the run was kept (its rounds/ hold each round's report), when it was */
  dir?: string;
}

/** A series (or a comparison row, which names its series the same way) of the SLI. */
const seriesMatches = (s: MdeSli, x: Pick<SeriesRecord, 'sli' | 'source' | 'labels'>): boolean =>
  x.sli === s.sli && x.source === s.source && Object.entries(s.labels ?? {}).every(([k, v]) => x.labels[k] === v);
const matches = (s: MdeSli, r: ComparisonRow): boolean => r.statistic === s.statistic && seriesMatches(s, r);

/** The rows of one SLI in a comparison, one per label set (e.g. per Services point). */
export function sliRows(s: MdeSli, cmp: ComparisonDocument): ComparisonRow[] {
  return cmp.rows.filter((r) => matches(s, r));
}

/** A row's identity across runs: its series and statistic. */
export const rowKey = (r: ComparisonRow): string => `${r.seriesId} ${r.statistic}`;

export interface Tally {
  /** runs in which the row was compared */
  n: number;
  /** of those, runs that flagged it (injected: regression; A/A: significant either way) */
  k: number;
  /** runs of this size in which the row was missing */
  missing: number;
  /** the row's relative change in each run (candidate vs base, pooled), for the size's measured effect */
  changes: number[];
}

export interface SizeTally extends Tally {
  size: InjectionSize;
}

export interface RowTally {
  sli: MdeSli;
  key: string;
  aa: Tally;
  sizes: SizeTally[];
  mde: MdeVerdict;
}

export type MdeVerdict =
  | { reached: true; size: InjectionSize; k: number; n: number; effect: number | null }
  | { reached: false; why: string };

/** The median (type-7, as every quantile of the kit); null for none. */
export const median = (xs: readonly number[]): number | null => (xs.length === 0 ? null : quantile(xs, 0.5));

const empty = (): Tally => ({ n: 0, k: 0, missing: 0, changes: [] });

function add(t: Tally, row: ComparisonRow | undefined, flagged: (r: ComparisonRow) => boolean): void {
  if (!row) {
    t.missing++;
    return;
  }
  t.n++;
  if (flagged(row)) t.k++;
  if (row.relativeChange !== null) t.changes.push(row.relativeChange);
}

/** The MDE of one row: the smallest size detected in ≥ 90 % of ≥ MDE_MIN_RUNS runs. */
export function mdeOf(sizes: readonly SizeTally[], minRuns = MDE_MIN_RUNS, minRate = MDE_MIN_RATE): MdeVerdict {
  const sorted = [...sizes].sort((a, b) => a.size.amount - b.size.amount);
  for (const s of sorted) {
    if (s.n >= minRuns && s.k >= minRate * s.n) return { reached: true, size: s.size, k: s.k, n: s.n, effect: median(s.changes) };
  }
  if (sorted.length === 0) return { reached: false, why: 'no injected runs' };
  const most = Math.max(...sorted.map((s) => s.n));
  const strong = sorted.find((s) => s.n > 0 && s.k >= minRate * s.n);
  if (most < minRuns) return { reached: false, why: `not reached at n=${most} (needs ${minRuns} runs a size${strong ? `; ${formatSize(strong.size)} was flagged ${strong.k} of ${strong.n}` : ''})` };
  return { reached: false, why: `not reached: no size was flagged in ${Math.round(minRate * minRuns)} of ${minRuns} runs (largest ${formatSize(sorted.at(-1)!.size)}: ${sorted.at(-1)!.k} of ${sorted.at(-1)!.n})` };
}

/** Tallies the runs per SLI row: A/A false alarms, detections per size, the MDE. */
export function tallyMde(runs: readonly MdeRun[], slis: readonly MdeSli[] = MDE_SLIS, minRuns = MDE_MIN_RUNS): RowTally[] {
  const out: RowTally[] = [];
  for (const s of slis) {
    const mine = runs.filter((r) => ofSuite(s, r.suite) && (r.size === undefined || r.size.kind === s.kind));
    const keys = [...new Set(mine.flatMap((r) => sliRows(s, r.cmp).map(rowKey)))].sort();
    for (const key of keys) {
      const aa = empty();
      const bySize = new Map<string, SizeTally>();
      for (const r of mine) {
        const row = sliRows(s, r.cmp).find((x) => rowKey(x) === key);
        if (r.size === undefined) {
          add(aa, row, (x) => x.verdict === 'regression' || x.verdict === 'improvement');
          continue;
        }
        const label = formatSize(r.size);
        const t = bySize.get(label) ?? { size: r.size, ...empty() };
        bySize.set(label, t);
        add(t, row, (x) => x.verdict === 'regression');
      }
      const sizes = [...bySize.values()].sort((a, b) => a.size.amount - b.size.amount);
      out.push({ sli: s, key, aa, sizes, mde: mdeOf(sizes, minRuns) });
    }
  }
  return out;
}

/** A/A runs whose gate failed (exit 1: some row regressed), per suite. */
export function gateFalseAlarms(runs: readonly MdeRun[]): { suite: string; k: number; n: number }[] {
  const suites = [...new Set(runs.filter((r) => r.size === undefined).map((r) => r.suite))].sort();
  return suites.map((suite) => {
    const aa = runs.filter((r) => r.size === undefined && r.suite === suite);
    return { suite, k: aa.filter((r) => r.exitCode === 1).length, n: aa.length };
  });
}

/** One suite run of the calibration: a size (undefined: the base, no injection) and its report. */
export interface CalibrationPoint {
  size?: InjectionSize;
  /** the suite that ran (a base run counts for the SLIs of its suite) */
  suite: string;
  report: ReportDocument;
}

export interface CalibrationRow {
  sli: MdeSli;
  seriesId: string;
  /** undefined: a base run */
  size?: InjectionSize;
  value: number | null;
  samples: number;
  /** value ÷ the mean of the base runs' values − 1 */
  change: number | null;
}

/**
 * The injected effect measured directly, without ab's verdicts: the SLI's statistic in each
 * run of one lab (base runs bracketing the injected ones), relative to the base runs' mean.
 */
export function calibrationRows(points: readonly CalibrationPoint[], slis: readonly MdeSli[] = MDE_SLIS): CalibrationRow[] {
  const out: CalibrationRow[] = [];
  for (const s of slis) {
    const mine = points.filter((p) => ofSuite(s, p.suite) && (p.size === undefined || p.size.kind === s.kind));
    if (!mine.some((p) => p.size !== undefined)) continue;
    const ids = [...new Set(mine.flatMap((p) => p.report.series.filter((x) => seriesMatches(s, x)).map((x) => x.id)))].sort();
    for (const id of ids) {
      const at = (p: CalibrationPoint) => p.report.series.find((x) => x.id === id);
      const bases = mine.filter((p) => p.size === undefined).map((p) => at(p)).flatMap((x) => (x ? [statValue(x, s.statistic)] : [])).filter((v): v is number => v !== null);
      const ref = bases.length > 0 ? bases.reduce((a, x) => a + x, 0) / bases.length : null;
      for (const p of mine) {
        const x = at(p);
        const value = x ? statValue(x, s.statistic) : null;
        out.push({ sli: s, seriesId: id, ...(p.size ? { size: p.size } : {}), value, samples: x?.summary.count ?? 0, change: value !== null && ref ? value / ref - 1 : null });
      }
    }
  }
  return out;
}

