import type { Dimension } from '../src/sli/index.js';
import type { ComparedStatistic, ComparisonVerdict, Labels, ReportDocument, SeriesRecord } from '../src/report/types.js';
import type { VerdictStatus } from '../src/sli/index.js';

// Display formatting for every reporter. Reporters import only types from src/sli and
// src/report, so the unit scaling of src/sli's formatValue is repeated here (three
// significant digits, same units), kept display-only.

const TIME: ReadonlyArray<readonly [string, number]> = [
  ['ns', 1e-9],
  ['µs', 1e-6],
  ['ms', 1e-3],
  ['s', 1],
];
const THROUGHPUT: ReadonlyArray<readonly [string, number]> = [
  ['B/s', 1],
  ['kB/s', 1e3],
  ['MB/s', 1e6],
  ['GB/s', 1e9],
  ['TB/s', 1e12],
];

function sig3(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/** "176 µs", "1.23 ms", "940 MB/s", "0.912"; "–" for null/undefined. */
export function fmt(value: number | null | undefined, dimension: Dimension): string {
  if (value === null || value === undefined) return '–';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (dimension === 'dimensionless') return sig3(value);
  const scale = dimension === 'time' ? TIME : THROUGHPUT;
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (abs === 0) return dimension === 'time' ? '0 s' : '0 B/s';
  let i = 0;
  while (i + 1 < scale.length && abs >= (scale[i + 1] as readonly [string, number])[1]) i++;
  let [unit, factor] = scale[i] as readonly [string, number];
  if (Number((abs / factor).toPrecision(3)) >= 1000 && i + 1 < scale.length) {
    [unit, factor] = scale[i + 1] as readonly [string, number];
  }
  return `${sign}${sig3(abs / factor)} ${unit}`;
}

/** A signed difference: "+160 µs", "-3.2 MB/s". */
export function fmtChange(value: number | null, dimension: Dimension): string {
  if (value === null) return '–';
  const s = fmt(value, dimension);
  return value > 0 ? `+${s}` : s;
}

/** "+996%", "-4.1%", "±0%". */
export function fmtPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '–';
  const p = fraction * 100;
  if (p === 0) return '±0%';
  const digits = Math.abs(p) >= 100 ? 0 : Math.abs(p) >= 10 ? 1 : 2;
  return `${p > 0 ? '+' : ''}${Number(p.toFixed(digits))}%`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** services=10000, mode=iptables — or "all" without labels. */
export function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '—' : keys.map((k) => `${k}=${labels[k]}`).join(', ');
}

export const STATUS_ICON: Record<VerdictStatus, string> = { pass: '✅', fail: '❌', inconclusive: '⚠️' };
export const STATUS_TEXT: Record<VerdictStatus, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE' };

export const COMPARISON_TEXT: Record<ComparisonVerdict, string> = {
  regression: 'REGRESSION',
  improvement: 'improvement',
  'within-tolerance': 'within tolerance',
  'no-significant-change': 'no significant change',
  untestable: 'untestable',
};
export const COMPARISON_ICON: Record<ComparisonVerdict, string> = {
  regression: '🔴',
  improvement: '🟢',
  'within-tolerance': '⚪',
  'no-significant-change': '⚪',
  untestable: '⚠️',
};

export const STATISTIC_TEXT: Record<ComparedStatistic, string> = {
  p50: 'p50',
  p99: 'p99',
  p10: 'p10',
  mean: 'mean',
  jain: "Jain's index",
};

export function fmtDuration(startIso: string, endIso: string): string {
  const ms = Date.parse(endIso) - Date.parse(startIso);
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One line of the environment: "Kubernetes v1.34.1 · proxy iptables · kernel 6.18 · 3 nodes". */
export function environmentLine(doc: Pick<ReportDocument, 'environment'>): string {
  const e = doc.environment;
  const parts = [
    `Kubernetes ${e.kubernetesVersion ?? 'unknown'}`,
    `proxy ${e.proxyMode ?? 'unknown'}`,
    `kernel ${e.kernel ?? 'unknown'}`,
    `${e.nodes.length === 0 ? 'unknown number of' : e.nodes.length} node${e.nodes.length === 1 ? '' : 's'}`,
  ];
  if (e.provider) parts.push(`provider ${e.provider}`);
  if (e.cni) parts.push(`CNI ${e.cni}`);
  return parts.join(' · ');
}

/** Rows of the environment for tables. */
export function environmentRows(doc: Pick<ReportDocument, 'environment' | 'kitVersion' | 'startedAt' | 'endedAt'>): Array<[string, string]> {
  const e = doc.environment;
  const rows: Array<[string, string]> = [
    ['Kubernetes', e.kubernetesVersion ?? 'unknown'],
    ['Proxy mode', e.proxyMode ?? 'unknown'],
    ['Kernel', e.kernel ?? 'unknown'],
    ['Nodes', e.nodes.length === 0 ? 'unknown' : e.nodes.map((n) => `${n.name}${n.kernel ? ` (${n.kernel})` : ''}`).join(', ')],
  ];
  if (e.provider) rows.push(['Provider', e.provider]);
  if (e.cni) rows.push(['CNI', e.cni]);
  for (const [k, v] of Object.entries(e.extra ?? {})) rows.push([k, v]);
  rows.push(['kube-sli', doc.kitVersion], ['Started', doc.startedAt], ['Ended', `${doc.endedAt} (${fmtDuration(doc.startedAt, doc.endedAt)})`]);
  return rows;
}

/** The leading cells of a series row in plain tables (console, Markdown): what and how much. */
export function summaryCells(s: SeriesRecord): string[] {
  return [
    s.sli,
    s.source,
    labelText(s.labels),
    fmtCount(s.summary.count),
    fmt(s.summary.p50, s.dimension),
    fmt(s.summary.p90, s.dimension),
    fmt(s.summary.p99, s.dimension),
    fmt(s.summary.max, s.dimension),
  ];
}
