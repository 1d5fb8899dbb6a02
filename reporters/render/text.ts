import type { ComparisonDocument, ReportDocument } from '../../src/report/types.js';
import type { Dimension } from '../../src/sli/index.js';
import {
  COMPARISON_TEXT,
  environmentLine,
  fmt,
  fmtChange,
  fmtCount,
  fmtPercent,
  labelText,
  summaryCells,
  STATISTIC_TEXT,
  STATUS_TEXT,
} from '../format.js';
import { conformanceView, notesOfKind } from '../model.js';

// Plain-text tables for terminals (the console reporter, kube-sli compare's stdout).

/** Display width: count code points, treating the µ and arrows as one column. */
function width(s: string): number {
  return [...s].length;
}

export function textTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat((widths[i] as number) - width(c));
        return right.has(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The console summary of a run. "no SLO results" when the report has no series. */
export function renderConsole(doc: ReportDocument): string {
  if (doc.series.length === 0) return 'kube-sli: no SLO results\n';
  const c = conformanceView(doc);
  const rows = doc.series.map((s) => [
    ...summaryCells(s),
    s.fairness ? fmt(s.fairness.jain, 'dimensionless') : '',
    s.slo ? s.slo.thresholds.join(', ') : '',
    s.verdict ? STATUS_TEXT[s.verdict.status] : '',
  ]);
  const out = [
    '',
    `kube-sli · ${environmentLine(doc)}${doc.profile ? ` · profile ${doc.profile.name}` : ''}`,
    // warnings first, one line per series; definitions were printed with each verdict
    ...notesOfKind(doc, 'warning').map((w) => `WARNING ${w.series.id}: ${w.texts.join(' · ')}`),
    textTable(
      ['SLI', 'source', 'scale point', 'samples', 'p50', 'p90', 'p99', 'max', 'Jain', 'SLO', 'verdict'],
      rows,
      new Set([3, 4, 5, 6, 7, 8]),
    ),
  ];
  for (const n of notesOfKind(doc, 'caveat')) out.push(`caveat ${n.series.id}: ${n.texts.join(' · ')}`);
  const failing = c.slos.filter((s) => s.verdict.status !== 'pass');
  for (const s of failing) out.push(`${STATUS_TEXT[s.verdict.status]} ${s.id}: ${s.verdict.reason}`);
  if (c.slos.length > 0) out.push(`${c.conformant ? '✓' : '✗'} ${c.headline}`);
  return `${out.join('\n')}\n`;
}

/** kube-sli compare's side-by-side table, warnings first and last so nobody misses them. */
export function renderComparisonText(cmp: ComparisonDocument): string {
  const out: string[] = [];
  for (const w of cmp.warnings) out.push(w);
  if (cmp.warnings.length > 0) out.push('');
  out.push(`base:      ${cmp.base.name} · ${environmentLine(cmp.base)} · ${cmp.base.startedAt}`);
  out.push(`candidate: ${cmp.candidate.name} · ${environmentLine(cmp.candidate)} · ${cmp.candidate.startedAt}`);
  out.push(
    `test: ${Math.round(cmp.confidence * 100)}% bootstrap CI of candidate − base (${fmtCount(cmp.iterations)} replicates); regression = significant and worse by more than ${fmtPercent(cmp.tolerance).replace('+', '')}${floorText(cmp)}`,
  );
  out.push('');
  const rows = cmp.rows.map((r) => [
    r.sli,
    r.source,
    labelText(r.labels) + (r.labelDifferences.length ? ` [${r.labelDifferences.map((d) => `${d.label}: ${d.base ?? '–'}→${d.candidate ?? '–'}`).join(', ')}]` : ''),
    STATISTIC_TEXT[r.statistic],
    fmt(r.base, r.dimension),
    fmt(r.candidate, r.dimension),
    `${fmtChange(r.change, r.dimension)} (${fmtPercent(r.relativeChange)})`,
    r.ci ? `[${fmtChange(r.ci[0], r.dimension)}, ${fmtChange(r.ci[1], r.dimension)}]` : '–',
    COMPARISON_TEXT[r.verdict],
  ]);
  out.push(
    rows.length === 0
      ? 'no series in common'
      : textTable(['SLI', 'source', 'scale point', 'stat', 'base', 'candidate', 'change', 'CI of change', 'verdict'], rows, new Set([4, 5, 6])),
  );
  out.push('');
  out.push(
    cmp.outcome === 'regression'
      ? `✗ REGRESSION: ${cmp.regressions} significant regression${cmp.regressions === 1 ? '' : 's'} beyond ${fmtPercent(cmp.tolerance).replace('+', '')}`
      : `✓ no regression beyond ${fmtPercent(cmp.tolerance).replace('+', '')}${cmp.improvements > 0 ? ` (${cmp.improvements} improvement${cmp.improvements === 1 ? '' : 's'})` : ''}`,
  );
  for (const w of cmp.warnings) if (w.includes('different environments')) out.push(w);
  return `${out.join('\n')}\n`;
}

/** " and more than 2 µs (time)" for the absolute floors in force. */
function floorText(cmp: ComparisonDocument): string {
  const parts = Object.entries(cmp.minChange ?? {})
    .filter(([, v]) => v !== undefined && v > 0)
    .map(([d, v]) => `${fmt(v, d as Dimension)} (${d})`);
  return parts.length ? ` and by more than ${parts.join(', ')}` : '';
}
