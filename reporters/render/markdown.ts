import type { ComparisonDocument, ReportDocument, SeriesRecord } from '../../src/report/types.js';
import {
  COMPARISON_ICON,
  COMPARISON_TEXT,
  environmentLine,
  environmentRows,
  fmt,
  fmtChange,
  fmtCount,
  fmtPercent,
  labelText,
  summaryCells,
  STATISTIC_TEXT,
  STATUS_ICON,
  STATUS_TEXT,
} from '../format.js';
import { conformanceView, notesOfKind } from '../model.js';

// GitHub-flavoured Markdown: a CI step summary ($GITHUB_STEP_SUMMARY) or a PR comment.

/** Escape a table cell: pipes, newlines, and characters Markdown would interpret. */
export function mdCell(s: string): string {
  // Intraword underscores (SLI names) are left alone: GitHub does not read them as emphasis.
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/([*`<>[\]])/g, '\\$1')
    .replace(/\r?\n/g, '<br>');
}

function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const align = header.map((_, i) => (right.has(i) ? '---:' : '---'));
  return [header, align, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(mdCell)).join(' | ')} |`).join('\n');
}

function verdictCell(s: SeriesRecord): string {
  return s.verdict ? `${STATUS_ICON[s.verdict.status]} ${STATUS_TEXT[s.verdict.status]}` : '—';
}

/** The run summary. With no series: a single line saying so. */
export function renderMarkdown(doc: ReportDocument): string {
  if (doc.series.length === 0) return '### kube-sli\n\nNo SLO results.\n';
  const c = conformanceView(doc);
  const out: string[] = [];
  const icon = c.slos.length === 0 ? 'ℹ️' : c.conformant ? '✅' : '❌';
  out.push(`### ${icon} kube-sli: ${c.slos.length === 0 ? 'measurements only (no SLOs)' : c.headline}`);
  out.push('');
  out.push(`${environmentLine(doc)} · kube-sli ${doc.kitVersion}${doc.profile ? ` · profile **${mdCell(doc.profile.name)}**` : ''} · ${doc.startedAt}`);
  out.push('');
  // What went wrong comes first: one line per series with warnings, then the SLOs that
  // did not pass. Definitions and caveats are there for whoever wants them, folded.
  const warnings = notesOfKind(doc, 'warning');
  if (warnings.length > 0) {
    out.push('> [!WARNING]');
    out.push(`> **${warnings.length} series with warnings**`);
    for (const w of warnings) out.push(`> - \`${w.series.id}\`: ${w.texts.map(mdCell).join(' · ')}`);
    out.push('');
  }
  const bad = c.slos.filter((s) => s.verdict.status !== 'pass');
  if (bad.length > 0) {
    for (const s of bad) out.push(`- ${STATUS_ICON[s.verdict.status]} \`${s.id}\`: ${mdCell(s.verdict.reason)}`);
    out.push('');
  }
  out.push(
    table(
      ['SLI', 'source', 'scale point', 'samples', 'p50', 'p90', 'p99', 'max', 'SLO', 'verdict'],
      doc.series.map((s) => [
        ...summaryCells(s),
        s.slo ? s.slo.thresholds.join(', ') : '—',
        verdictCell(s),
      ]),
      new Set([3, 4, 5, 6, 7]),
    ),
  );
  const fair = doc.series.filter((s) => s.fairness);
  if (fair.length > 0) {
    out.push('');
    out.push(
      table(
        ['throughput series', 'flows', "Jain's index", 'p10/p50', 'mean'],
        fair.map((s) => [
          `${s.sli} (${s.source}, ${labelText(s.labels)})`,
          fmtCount(s.fairness?.flows ?? 0),
          fmt(s.fairness?.jain ?? null, 'dimensionless'),
          fmt(s.fairness?.p10p50 ?? null, 'dimensionless'),
          fmt(s.summary.mean, s.dimension),
        ]),
        new Set([1, 2, 3, 4]),
      ),
    );
  }
  for (const [kind, title] of [
    ['definition', 'What the series measure'],
    ['caveat', 'Caveats'],
  ] as const) {
    const notes = notesOfKind(doc, kind);
    if (notes.length === 0) continue;
    out.push('');
    out.push(`<details><summary>${title} (${notes.length} series)</summary>\n`);
    for (const n of notes) out.push(`- \`${n.series.id}\`: ${n.texts.map(mdCell).join(' · ')}`);
    out.push('\n</details>');
  }
  const wl = Object.entries(doc.workload);
  out.push('');
  out.push('<details><summary>Environment and workload</summary>\n');
  out.push(table(['', ''], [...environmentRows(doc), ...wl.map(([k, v]) => [`workload: ${k}`, String(v)] as [string, string])]));
  out.push('\n</details>');
  return `${out.join('\n')}\n`;
}

/** One page for vendor checks: profile, every SLO with verdict and evidence, environment. */
export function renderConformanceMarkdown(doc: ReportDocument): string {
  const c = conformanceView(doc);
  const out: string[] = [];
  out.push(`# kube-sli conformance: ${c.conformant ? '✅ CONFORMANT' : '❌ NOT CONFORMANT'}`);
  out.push('');
  out.push(`**Profile:** ${mdCell(c.profile)}${doc.profile?.version ? ` (version ${mdCell(doc.profile.version)})` : ''}  `);
  if (doc.profile?.description) out.push(`${mdCell(doc.profile.description)}  `);
  out.push(`**Result:** ${mdCell(c.headline)}  `);
  out.push(`**Rule:** conformant only when every SLO of the profile passed; a failed or inconclusive SLO means not conformant.`);
  out.push('');
  out.push('## SLOs');
  out.push('');
  if (c.slos.length === 0) out.push('No SLO was evaluated in this run.');
  else {
    out.push(
      table(
        ['SLO', 'source', 'scale point', 'threshold', 'observed', 'confidence interval', 'samples', 'verdict'],
        c.slos.flatMap((s) =>
          s.verdict.thresholds.map((t) => [
            s.sli,
            s.source,
            labelText(s.labels),
            t.threshold,
            fmt(t.observed, t.dimension),
            t.ci ? `${fmt(t.ci[0], t.dimension)} – ${fmt(t.ci[1], t.dimension)}` : '—',
            fmtCount(s.verdict.samples),
            `${STATUS_ICON[t.status]} ${STATUS_TEXT[t.status]}`,
          ]),
        ),
        new Set([4, 6]),
      ),
    );
    out.push('');
    out.push('### Evidence');
    out.push('');
    for (const s of c.slos) {
      out.push(`- ${STATUS_ICON[s.verdict.status]} **${mdCell(s.id)}**: ${mdCell(s.verdict.reason)}`);
      for (const t of s.verdict.thresholds) out.push(`  - \`${t.threshold}\`: ${mdCell(t.reason)}`);
      out.push(
        `  - ${fmtCount(s.summary.count)} samples (${s.exact ? 'exact' : 'from a histogram'}), p50 ${fmt(s.summary.p50, s.dimension)}, p99 ${fmt(s.summary.p99, s.dimension)}, max ${fmt(s.summary.max, s.dimension)}; minSamples ${s.slo?.minSamples ?? '—'}`,
      );
      for (const n of s.notes ?? []) out.push(`  - ${n.kind}: ${mdCell(n.text)}`);
    }
  }
  out.push('');
  out.push('## Environment');
  out.push('');
  out.push(table(['', ''], environmentRows(doc)));
  const wl = Object.entries(doc.workload);
  if (wl.length > 0) {
    out.push('');
    out.push('## Workload');
    out.push('');
    out.push(table(['knob', 'value'], wl.map(([k, v]) => [k, String(v)])));
  }
  return `${out.join('\n')}\n`;
}

/** The comparison for a PR comment: warnings, outcome, side-by-side table. */
export function renderComparisonMarkdown(cmp: ComparisonDocument): string {
  const out: string[] = [];
  const tol = fmtPercent(cmp.tolerance).replace('+', '');
  out.push(
    cmp.outcome === 'regression'
      ? `### 🔴 kube-sli compare: ${cmp.regressions} regression${cmp.regressions === 1 ? '' : 's'} beyond ${tol}`
      : `### 🟢 kube-sli compare: no regression beyond ${tol}`,
  );
  out.push('');
  for (const w of cmp.warnings) out.push(`> [!WARNING]\n> **${mdCell(w)}**\n`);
  out.push(`**base** ${mdCell(cmp.base.name)}: ${environmentLine(cmp.base)} · kube-sli ${cmp.base.kitVersion} · ${cmp.base.startedAt}  `);
  out.push(`**candidate** ${mdCell(cmp.candidate.name)}: ${environmentLine(cmp.candidate)} · kube-sli ${cmp.candidate.kitVersion} · ${cmp.candidate.startedAt}`);
  out.push('');
  if (cmp.rows.length === 0) out.push('No series in common.');
  else
    out.push(
      table(
        ['SLI', 'source', 'scale point', 'stat', 'base', 'candidate', 'change', `${Math.round(cmp.confidence * 100)}% CI of change`, 'verdict'],
        cmp.rows.map((r) => [
          r.sli,
          r.source,
          labelText(r.labels) + (r.labelDifferences.length ? ` (${r.labelDifferences.map((d) => `${d.label}: ${d.base ?? '–'} → ${d.candidate ?? '–'}`).join(', ')})` : ''),
          STATISTIC_TEXT[r.statistic],
          fmt(r.base, r.dimension),
          fmt(r.candidate, r.dimension),
          `${fmtChange(r.change, r.dimension)} (${fmtPercent(r.relativeChange)})`,
          r.ci ? `${fmtChange(r.ci[0], r.dimension)} … ${fmtChange(r.ci[1], r.dimension)}` : '—',
          `${COMPARISON_ICON[r.verdict]} ${COMPARISON_TEXT[r.verdict]}${r.note ? ` (${r.note})` : ''}`,
        ]),
        new Set([4, 5, 6]),
      ),
    );
  out.push('');
  out.push(
    `<sub>Test: percentile bootstrap (${fmtCount(cmp.iterations)} replicates) of candidate − base on each run's stored sample reservoir; significant when the CI excludes 0; a regression is significant and worse by more than ${tol} of base.</sub>`,
  );
  return `${out.join('\n')}\n`;
}
