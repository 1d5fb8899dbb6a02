import { bootstrapDifferenceCI, DEFAULT_SEED, lookupUnit, mulberry32, type Dimension, type ResampleStatistic } from '../sli/index.js';
import { comparedStatistics } from './direction.js';
import type {
  ComparedReport,
  ComparedStatistic,
  ComparisonDocument,
  ComparisonRow,
  ComparisonVerdict,
  CompareOptions,
  EnvironmentDifference,
  LabelDifference,
  ReportDocument,
  SeriesRecord,
} from './types.js';

// kube-sli compare: base (e.g. main) against candidate (the PR), series by series.
//
// Series are paired by (sli, source, labels). Labels that describe the environment rather
// than the scale point (mode, kernel …) may differ: series left unpaired by an exact match
// are paired on the remaining labels when that is unambiguous, and the difference is shown.
//
// Per pair and statistic (see comparedStatistics) the test is a percentile-bootstrap CI of
// candidate − base on the stored reservoirs (src/sli bootstrapDifferenceCI; Jain's index
// resampled here). The difference is significant when the CI excludes 0. A regression is a
// significant difference in the worse direction whose point estimate exceeds the tolerance
// relative to base (default 5%): small but real changes do not fail a PR. Each row is one
// test at the stated confidence; with many rows, the tolerance is what keeps chance
// differences from failing a run, so keep it above the run-to-run noise of your setup.
// The base/candidate values shown are the exact statistics over all samples (summary); the
// CI comes from the reservoirs (≤ 10,000 values each), which only makes it wider.

export const DEFAULT_TOLERANCE = 0.05;
/** 2 µs for times: conntrack stamps events in whole µs, so a 1 µs shift is resolution, not change. */
export const DEFAULT_MIN_CHANGE: Readonly<Partial<Record<Dimension, number>>> = { time: 2e-6 };
export const DEFAULT_ENVIRONMENT_LABELS: readonly string[] = ['mode', 'proxy_mode', 'proxyMode', 'kernel'];
const DEFAULT_ITERATIONS = 2000;
const DEFAULT_CONFIDENCE = 0.95;
/**
 * Largest resample per replicate for the mean and Jain's index (m-out-of-n bootstrap,
 * see src/sli/bootstrap.ts): keeps a comparison of many 10,000-value reservoirs well
 * under a second. Quantiles are drawn exactly whatever n.
 */
const RESAMPLE_CAP = 2000;

/** FNV-1a: a per-row seed so results do not depend on row order. */
function hashSeed(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function jain(xs: ArrayLike<number>): number {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    sum += x;
    sq += x * x;
  }
  return sq === 0 ? NaN : Math.min(1, (sum * sum) / (xs.length * sq));
}

/**
 * One bootstrap replicate of Jain's index: m-out-of-n like src/sli's mean (m = min(n,
 * RESAMPLE_CAP) draws, deviation from the estimate shrunk by √(m/n)); Jain's index is a
 * smooth function of two means, so its spread scales as 1/√n too.
 */
function jainReplicate(xs: readonly number[], estimate: number, rng: () => number): number {
  const n = xs.length;
  const m = Math.min(n, RESAMPLE_CAP);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < m; i++) {
    const x = xs[Math.floor(rng() * n)] as number;
    sum += x;
    sq += x * x;
  }
  if (sq === 0) return NaN;
  return estimate + (Math.min(1, (sum * sum) / (m * sq)) - estimate) * Math.sqrt(m / n);
}

/** Percentile-bootstrap CI of jain(candidate) − jain(base). */
function jainDifferenceCI(
  cand: readonly number[],
  base: readonly number[],
  iterations: number,
  confidence: number,
  seed: number,
): [number, number] | null {
  const rng = mulberry32(seed);
  const jc = jain(cand);
  const jb = jain(base);
  if (Number.isNaN(jc) || Number.isNaN(jb)) return null;
  const reps: number[] = [];
  for (let r = 0; r < iterations; r++) {
    const d = jainReplicate(cand, jc, rng) - jainReplicate(base, jb, rng);
    if (!Number.isNaN(d)) reps.push(d);
  }
  if (reps.length === 0) return null;
  reps.sort((a, b) => a - b);
  const at = (p: number) => {
    const h = (reps.length - 1) * p;
    const lo = Math.floor(h);
    const a = reps[lo] as number;
    const b = reps[Math.min(lo + 1, reps.length - 1)] as number;
    return a + (h - lo) * (b - a);
  };
  const alpha = (1 - confidence) / 2;
  return [at(alpha), at(1 - alpha)];
}

/** The compared statistic of one series, as its report summarises it. */
export function statValue(s: SeriesRecord, stat: ComparedStatistic): number | null {
  switch (stat) {
    case 'p50':
      return s.summary.p50;
    case 'p99':
      return s.summary.p99;
    case 'mean':
      return s.summary.mean;
    case 'p10':
      return s.quantiles.find((p) => p.q === 0.1)?.value ?? null;
    case 'jain':
      return s.fairness?.jain ?? null;
  }
}

function resample(stat: ComparedStatistic): ResampleStatistic | undefined {
  switch (stat) {
    case 'p50':
      return { kind: 'quantile', q: 0.5 };
    case 'p99':
      return { kind: 'quantile', q: 0.99 };
    case 'p10':
      return { kind: 'quantile', q: 0.1 };
    case 'mean':
      return { kind: 'mean' };
    case 'jain':
      return undefined;
  }
}

interface Resolved {
  tolerance: number;
  minChange: Partial<Record<Dimension, number>>;
  confidence: number;
  iterations: number;
  seed: number;
  environmentLabels: readonly string[];
}

function compareStatistic(b: SeriesRecord, c: SeriesRecord, stat: ComparedStatistic, o: Resolved, labelDifferences: LabelDifference[]): ComparisonRow {
  const base = statValue(b, stat);
  const cand = statValue(c, stat);
  const row: ComparisonRow = {
    seriesId: b.id,
    candidateId: c.id,
    sli: b.sli,
    source: b.source,
    labels: b.labels,
    labelDifferences,
    statistic: stat,
    dimension: stat === 'jain' ? 'dimensionless' : b.dimension,
    direction: b.direction,
    base,
    candidate: cand,
    change: base !== null && cand !== null ? cand - base : null,
    relativeChange: base !== null && cand !== null && base !== 0 ? (cand - base) / Math.abs(base) : null,
    ci: null,
    significant: false,
    verdict: 'untestable',
    baseSamples: b.summary.count,
    candidateSamples: c.summary.count,
  };
  if (b.verdict) row.baseSlo = b.verdict.status;
  if (c.verdict) row.candidateSlo = c.verdict.status;
  if (b.direction !== c.direction) row.note = `direction differs (${b.direction} vs ${c.direction}); judged as ${b.direction}`;

  const rb = b.reservoir.values;
  const rc = c.reservoir.values;
  if (base === null || cand === null || rb.length < 2 || rc.length < 2) {
    row.note = rb.length < 2 || rc.length < 2 ? 'fewer than 2 samples on a side: no test' : `${stat} is undefined on a side`;
    return row;
  }
  const seed = hashSeed(`${b.id}|${c.id}|${stat}`, o.seed);
  const rs = resample(stat);
  let ci: [number, number] | null;
  if (rs) {
    const r = bootstrapDifferenceCI(rc, rb, rs, { iterations: o.iterations, confidence: o.confidence, seed, meanResampleCap: RESAMPLE_CAP });
    ci = Number.isFinite(r.lo) && Number.isFinite(r.hi) ? [r.lo, r.hi] : null;
  } else {
    ci = jainDifferenceCI(rc, rb, o.iterations, o.confidence, seed);
  }
  row.ci = ci;
  if (ci === null) {
    row.note = 'confidence interval undefined';
    return row;
  }
  row.significant = ci[0] > 0 || ci[1] < 0;
  const change = cand - base;
  const worse = b.direction === 'lower-is-better' ? change > 0 : change < 0;
  const floor = o.minChange[row.dimension] ?? 0;
  const beyond =
    Math.abs(change) > floor &&
    (row.relativeChange === null ? change !== 0 : Math.abs(row.relativeChange) > o.tolerance);
  let verdict: ComparisonVerdict;
  if (!row.significant) verdict = 'no-significant-change';
  else if (!beyond) verdict = 'within-tolerance';
  else verdict = worse ? 'regression' : 'improvement';
  row.verdict = verdict;
  return row;
}

function ref(doc: ReportDocument, name: string): ComparedReport {
  const r: ComparedReport = {
    name,
    kitVersion: doc.kitVersion,
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
    environment: doc.environment,
    workload: doc.workload,
  };
  if (doc.profile) r.profile = doc.profile;
  return r;
}

const show = (v: string | number | boolean | null | undefined) => (v === null || v === undefined ? 'unknown' : String(v));

function environmentDifferences(b: ReportDocument, c: ReportDocument): EnvironmentDifference[] {
  const out: EnvironmentDifference[] = [];
  const fields = ['proxyMode', 'kernel', 'kubernetesVersion', 'provider', 'cni'] as const;
  for (const f of fields) {
    const x = b.environment[f] ?? null;
    const y = c.environment[f] ?? null;
    if (x !== null && y !== null && x !== y) out.push({ field: f, base: x, candidate: y });
  }
  const nb = b.environment.nodes.length;
  const nc = c.environment.nodes.length;
  if (nb > 0 && nc > 0 && nb !== nc) out.push({ field: 'nodeCount', base: String(nb), candidate: String(nc) });
  return out;
}

function strip(labels: Record<string, string>, drop: readonly string[]): string {
  return JSON.stringify(Object.keys(labels).filter((k) => !drop.includes(k)).sort().map((k) => [k, labels[k]]));
}

/** Pair the series of two reports: exact ids first, then ignoring environment labels. */
function pairSeries(b: ReportDocument, c: ReportDocument, envLabels: readonly string[]) {
  const cById = new Map(c.series.map((s) => [s.id, s]));
  const pairs: Array<{ b: SeriesRecord; c: SeriesRecord; diff: LabelDifference[] }> = [];
  const restB: SeriesRecord[] = [];
  const pairedC = new Set<string>();
  for (const s of b.series) {
    const m = cById.get(s.id);
    if (m) {
      pairs.push({ b: s, c: m, diff: [] });
      pairedC.add(m.id);
    } else restB.push(s);
  }
  const restC = c.series.filter((s) => !pairedC.has(s.id));
  const key = (s: SeriesRecord) => `${s.sli}\u0000${s.source}\u0000${strip(s.labels, envLabels)}`;
  const group = (xs: SeriesRecord[]) => {
    const m = new Map<string, SeriesRecord[]>();
    for (const s of xs) m.set(key(s), [...(m.get(key(s)) ?? []), s]);
    return m;
  };
  const gb = group(restB);
  const gc = group(restC);
  const onlyB: string[] = [];
  for (const [k, bs] of gb) {
    const cs = gc.get(k);
    if (bs.length === 1 && cs?.length === 1) {
      const sb = bs[0] as SeriesRecord;
      const sc = cs[0] as SeriesRecord;
      const diff: LabelDifference[] = [];
      for (const l of envLabels) {
        const x = sb.labels[l] ?? null;
        const y = sc.labels[l] ?? null;
        if (x !== y) diff.push({ label: l, base: x, candidate: y });
      }
      pairs.push({ b: sb, c: sc, diff });
      gc.delete(k);
    } else onlyB.push(...bs.map((s) => s.id));
  }
  const onlyC = [...gc.values()].flat().map((s) => s.id);
  return { pairs, onlyB, onlyC };
}

/** Compare candidate against base. Pure; deterministic for given options. */
export function compareReports(base: ReportDocument, candidate: ReportDocument, opts: CompareOptions = {}): ComparisonDocument {
  const o: Resolved = {
    tolerance: opts.tolerance ?? DEFAULT_TOLERANCE,
    minChange: { ...DEFAULT_MIN_CHANGE, ...opts.minChange },
    confidence: opts.confidence ?? DEFAULT_CONFIDENCE,
    iterations: opts.iterations ?? DEFAULT_ITERATIONS,
    seed: opts.seed ?? DEFAULT_SEED,
    environmentLabels: opts.environmentLabels ?? DEFAULT_ENVIRONMENT_LABELS,
  };
  if (!(o.tolerance >= 0 && Number.isFinite(o.tolerance))) throw new RangeError(`tolerance must be a number >= 0, got ${o.tolerance}`);
  for (const [d, v] of Object.entries(o.minChange)) {
    if (!(v >= 0 && Number.isFinite(v))) throw new RangeError(`minChange for ${d} must be a number >= 0, got ${v}`);
  }
  if (!(o.confidence > 0 && o.confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${o.confidence}`);

  const { pairs, onlyB, onlyC } = pairSeries(base, candidate, o.environmentLabels);
  const rows: ComparisonRow[] = [];
  for (const p of pairs) {
    for (const stat of comparedStatistics(p.b.direction, p.b.fairness !== undefined && p.c.fairness !== undefined)) {
      rows.push(compareStatistic(p.b, p.c, stat, o, p.diff));
    }
  }

  const envDiff = environmentDifferences(base, candidate);
  const warnings: string[] = [];
  if (envDiff.length > 0) {
    warnings.push(
      `WARNING: the runs come from different environments (${envDiff.map((d) => `${d.field}: ${show(d.base)} → ${show(d.candidate)}`).join('; ')}); differences may come from the environment, not from the change under test`,
    );
  }
  const labelDiffs = new Map<string, number>();
  for (const p of pairs) {
    for (const d of p.diff) {
      const k = `${d.label}: ${show(d.base)} → ${show(d.candidate)}`;
      labelDiffs.set(k, (labelDiffs.get(k) ?? 0) + 1);
    }
  }
  if (labelDiffs.size > 0) {
    warnings.push(`WARNING: series paired across different environment labels (${[...labelDiffs].map(([k, n]) => `${k}, ${n} series`).join('; ')})`);
  }
  const wl = new Set([...Object.keys(base.workload), ...Object.keys(candidate.workload)]);
  const wdiff = [...wl].sort().filter((k) => base.workload[k] !== candidate.workload[k]);
  if (wdiff.length > 0) {
    warnings.push(`WARNING: workload knobs differ (${wdiff.map((k) => `${k}: ${show(base.workload[k])} → ${show(candidate.workload[k])}`).join('; ')})`);
  }
  if (base.kitVersion !== candidate.kitVersion) {
    warnings.push(`WARNING: kube-sli versions differ (${base.kitVersion} → ${candidate.kitVersion}); a change in the kit can show as a difference`);
  }
  if (onlyB.length > 0) warnings.push(`WARNING: ${onlyB.length} series only in the base run, not compared: ${onlyB.join(', ')}`);
  if (onlyC.length > 0) warnings.push(`WARNING: ${onlyC.length} series only in the candidate run, not compared: ${onlyC.join(', ')}`);

  const regressions = rows.filter((r) => r.verdict === 'regression').length;
  return {
    kind: 'kube-sli-comparison',
    base: ref(base, opts.baseName ?? 'base'),
    candidate: ref(candidate, opts.candidateName ?? 'candidate'),
    tolerance: o.tolerance,
    minChange: o.minChange,
    confidence: o.confidence,
    iterations: o.iterations,
    environmentDifferences: envDiff,
    warnings,
    rows,
    onlyInBase: onlyB,
    onlyInCandidate: onlyC,
    curves: pairs
      .filter((p) => p.b.quantiles.length > 0 && p.c.quantiles.length > 0)
      .map((p) => ({ seriesId: p.b.id, sli: p.b.sli, dimension: p.b.dimension, base: p.b.quantiles, candidate: p.c.quantiles })),
    regressions,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
    outcome: regressions > 0 ? 'regression' : 'no-regression',
  };
}

/** Parse a --min-change value such as "2us", "500ns" or "1MB/s" into its dimension and base value. */
export function parseMinChange(text: string): { dimension: Dimension; value: number } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-zµ/]+)\s*$/.exec(text);
  const unit = m ? lookupUnit(m[2]!) : undefined;
  if (!m || unit === undefined || unit.dimension === 'dimensionless') {
    throw new RangeError(`invalid minimum change "${text}": use a time such as 2us or a throughput such as 1MB/s`);
  }
  return { dimension: unit.dimension, value: Number(m[1]) * unit.factor };
}

/** Parse a tolerance: "10%", "0.1" or "10" (percent when > 1). */
export function parseTolerance(text: string): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(t);
  if (!m) throw new RangeError(`invalid tolerance "${text}": use a percentage such as 10% or a fraction such as 0.1`);
  const v = Number(m[1]);
  return m[2] === '%' || v > 1 ? v / 100 : v;
}
