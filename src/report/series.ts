import {
  jainIndex,
  LatencyHistogram,
  mean,
  p10p50Ratio,
  quantileSorted,
  type Verdict,
} from '../sli/index.js';
import { seriesDimension, sliDirection } from './direction.js';
import { NOTE_KINDS, toNote } from './notes.js';
import type {
  Distribution,
  Fairness,
  Labels,
  QuantilePoint,
  ReportSummary,
  ReportVerdict,
  Reservoir,
  SeriesRecord,
  SliResult,
} from './types.js';

// From one SliResult (raw samples or a histogram) to the SeriesRecord stored in the report:
// exact summary, quantile curve and distribution for plots, fairness for throughput,
// an encoded LatencyHistogram of all samples (time SLIs) and a bounded, deterministic
// reservoir for compare's bootstrap tests. See ReservoirMethod in types.ts for how the
// reservoir is chosen and why it errs on the safe side.

export const DEFAULT_RESERVOIR_CAP = 10_000;

/** Quantiles of the stored curve: the body every 5%, then the tail out to 99.99%. */
export const QUANTILE_GRID: readonly number[] = [
  0, 0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
  0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1,
];

/** Bins of the stored distribution: about √n (5 to 40), so small runs are not all noise. */
function binCount(n: number): number {
  return Math.max(5, Math.min(40, Math.round(Math.sqrt(n))));
}
const SLI_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Thrown for an SliResult the builder cannot store; the message names the series. */
export class SliResultError extends Error {
  override readonly name = 'SliResultError';
}

/** 6 significant digits: far below the resolution of what the kit measures. */
export function round6(x: number): number {
  return Number(x.toPrecision(6));
}

/** A finite number or null (JSON has neither NaN nor Infinity). */
export function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** sli{source="capture",services="10000"}: labels sorted by name after source. */
export function seriesId(sli: string, source: string, labels: Labels): string {
  const parts = [`source="${escapeLabel(source)}"`];
  for (const k of Object.keys(labels).sort()) parts.push(`${k}="${escapeLabel(labels[k] as string)}"`);
  return `${sli}{${parts.join(',')}}`;
}

function checkResult(r: SliResult): Labels {
  const where = `SLI result ${JSON.stringify(r?.sli)}`;
  if (typeof r?.sli !== 'string' || !SLI_NAME.test(r.sli)) {
    throw new SliResultError(`${where}: sli must be a Prometheus-style name such as first_packet_latency_seconds`);
  }
  if (typeof r.source !== 'string' || r.source.trim() === '') {
    throw new SliResultError(`${where}: source must be a non-empty string such as 'capture'`);
  }
  const labels: Labels = {};
  for (const [k, v] of Object.entries(r.labels ?? {})) {
    if (!LABEL_NAME.test(k) || k === 'source') {
      throw new SliResultError(`${where}: label name "${k}" is not allowed (Prometheus label names; "source" is the source field)`);
    }
    if (typeof v !== 'string') throw new SliResultError(`${where}: label ${k} must be a string, got ${typeof v}`);
    labels[k] = v;
  }
  if (r.samples === undefined || r.samples === null) {
    throw new SliResultError(`${where}: samples are missing (give an array of numbers or a LatencyHistogram)`);
  }
  for (const n of r.notes ?? []) {
    const ok = typeof n === 'string' || (typeof n?.text === 'string' && NOTE_KINDS.includes(n.kind));
    if (!ok) throw new SliResultError(`${where}: note ${JSON.stringify(n)} is neither a string nor made by definition(), caveat() or warning()`);
  }
  return labels;
}

function verdictForReport(v: Verdict): ReportVerdict {
  return {
    ...v,
    thresholds: v.thresholds.map((t) => ({
      ...t,
      observed: finiteOrNull(t.observed),
      ...(t.ci ? { ci: [finiteOrNull(t.ci[0]), finiteOrNull(t.ci[1])] as [number | null, number | null] } : {}),
    })),
  };
}

function distribution(sorted: ArrayLike<number>, weight: number): Distribution | undefined {
  const n = sorted.length;
  const DISTRIBUTION_BINS = binCount(Math.round(n * weight));
  if (n === 0) return undefined;
  const lo = sorted[0] as number;
  const hi = sorted[n - 1] as number;
  const log = lo > 0 && hi / lo > 4;
  const bounds: number[] = [];
  if (lo === hi) {
    bounds.push(round6(lo), round6(hi === 0 ? 1 : hi * 1.000001));
  } else {
    for (let i = 0; i <= DISTRIBUTION_BINS; i++) {
      const f = i / DISTRIBUTION_BINS;
      bounds.push(i === DISTRIBUTION_BINS ? hi : log ? lo * (hi / lo) ** f : lo + (hi - lo) * f);
    }
  }
  const bins = bounds.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let b = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i] as number;
    while (b < bins - 1 && x >= (bounds[b + 1] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
  }
  return {
    scale: log ? 'log' : 'linear',
    bounds: bounds.map(round6),
    counts: weight === 1 ? counts : counts.map((c) => Math.round(c * weight)),
  };
}

function fairnessOf(sorted: ArrayLike<number>): Fairness {
  let jain: number | null = null;
  let ratio: number | null = null;
  try {
    jain = finiteOrNull(jainIndex(sorted));
    ratio = finiteOrNull(p10p50Ratio(sorted));
  } catch {
    // Negative throughputs: fairness is undefined; the summary still shows the values.
  }
  return { flows: sorted.length, jain, p10p50: ratio };
}

function fromSamples(r: SliResult, samples: ArrayLike<number>, cap: number, id: string) {
  const n = samples.length;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = samples[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new SliResultError(`${id}: sample ${i} is ${String(x)}; samples must be finite numbers in base units`);
    }
    sorted[i] = x;
  }
  sorted.sort();
  const dimension = seriesDimension(r.sli);
  const q = (p: number) => finiteOrNull(quantileSorted(sorted, p));
  const summary: ReportSummary = {
    count: n,
    min: n === 0 ? null : (sorted[0] as number),
    max: n === 0 ? null : (sorted[n - 1] as number),
    mean: finiteOrNull(mean(sorted)),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    p999: q(0.999),
  };
  const quantiles: QuantilePoint[] =
    n === 0 ? [] : QUANTILE_GRID.map((p) => ({ q: p, value: round6(quantileSorted(sorted, p)) }));
  let histogram: string | undefined;
  if (dimension === 'time' && n > 0) {
    const h = new LatencyHistogram();
    for (let i = 0; i < n; i++) h.record(sorted[i] as number);
    histogram = h.encode();
  }
  let values: number[];
  let method: Reservoir['method'];
  if (n <= cap) {
    method = 'all';
    values = Array.from(sorted, round6);
  } else {
    method = 'order-statistics';
    values = new Array<number>(cap);
    for (let i = 0; i < cap; i++) values[i] = round6(sorted[Math.floor(((i + 0.5) * n) / cap)] as number);
  }
  return {
    exact: true,
    summary,
    quantiles,
    distribution: distribution(sorted, 1),
    fairness: dimension === 'throughput' && n > 0 ? fairnessOf(sorted) : undefined,
    histogram,
    reservoir: { method, cap, values },
  };
}

function fromHistogram(r: SliResult, h: LatencyHistogram, cap: number) {
  const n = h.count;
  const dimension = seriesDimension(r.sli);
  const q = (p: number) => (n === 0 ? null : finiteOrNull(h.quantile(p)));
  const summary: ReportSummary = {
    count: n,
    min: finiteOrNull(h.min),
    max: finiteOrNull(h.max),
    mean: finiteOrNull(h.mean),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    p999: q(0.999),
  };
  const k = Math.min(n, cap);
  const pseudo = new Float64Array(k);
  for (let i = 0; i < k; i++) pseudo[i] = h.quantile((i + 0.5) / k);
  pseudo.sort();
  return {
    exact: false,
    summary,
    quantiles: n === 0 ? [] : QUANTILE_GRID.map((p) => ({ q: p, value: round6(h.quantile(p)) })),
    distribution: distribution(pseudo, k === 0 ? 1 : n / k),
    fairness: dimension === 'throughput' && k > 0 ? { ...fairnessOf(pseudo), flows: n } : undefined,
    histogram: n > 0 ? h.encode() : undefined,
    reservoir: { method: 'histogram-quantiles' as const, cap, values: Array.from(pseudo, round6) },
  };
}

/** Build the stored record of one series. Throws SliResultError naming the series. */
export function buildSeries(r: SliResult, cap = DEFAULT_RESERVOIR_CAP): SeriesRecord {
  if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`reservoirCap must be a positive integer, got ${cap}`);
  const labels = checkResult(r);
  const id = seriesId(r.sli, r.source, labels);
  const s = r.samples;
  let built: ReturnType<typeof fromSamples> | ReturnType<typeof fromHistogram>;
  if (s instanceof LatencyHistogram) {
    built = fromHistogram(r, s, cap);
  } else if (typeof s === 'object' && 'encodedHistogram' in s) {
    let h: LatencyHistogram;
    try {
      h = LatencyHistogram.decode(s.encodedHistogram);
    } catch (err) {
      throw new SliResultError(`${id}: ${(err as Error).message}`);
    }
    built = fromHistogram(r, h, cap);
  } else if (typeof s === 'object' && typeof s.length === 'number') {
    built = fromSamples(r, s, cap, id);
  } else {
    throw new SliResultError(`${id}: samples must be an array of numbers, a LatencyHistogram or {encodedHistogram}`);
  }
  const record: SeriesRecord = {
    id,
    sli: r.sli,
    source: r.source,
    labels,
    dimension: seriesDimension(r.sli),
    direction: r.direction ?? sliDirection(r.sli),
    exact: built.exact,
    summary: built.summary,
    quantiles: built.quantiles,
    reservoir: built.reservoir,
  };
  if (built.distribution) record.distribution = built.distribution;
  if (built.fairness) record.fairness = built.fairness;
  if (built.histogram !== undefined) record.histogram = built.histogram;
  if (r.slo !== undefined) record.slo = structuredClone(r.slo);
  if (r.verdict !== undefined) record.verdict = verdictForReport(r.verdict);
  if (r.notes !== undefined && r.notes.length > 0) record.notes = r.notes.map(toNote);
  return record;
}
