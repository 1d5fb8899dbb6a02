import type { ComparisonDocument, ReportDocument, SeriesRecord } from '../../src/report/types.js';
import {
  COMPARISON_TEXT,
  environmentLine,
  environmentRows,
  fmt,
  fmtChange,
  fmtCount,
  fmtPercent,
  labelText,
  STATISTIC_TEXT,
  STATUS_TEXT,
} from '../format.js';
import { conformanceView, notesOfKind } from '../model.js';
import { chartAssets } from './assets.js';
import { comparisonCharts, reportCharts, type ChartSpec } from './charts.js';
import { CLIENT_SCRIPT } from './client.js';

// Self-contained HTML pages: one file, styles, uPlot and the chart data inlined; a
// Content-Security-Policy that forbids every network request, so the page behaves the
// same opened from a CI artifact, an air-gapped laptop or a file:// URL.

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:";

const STYLE = `
:root { --fg: #1d2129; --muted: #5b6370; --line: #d9dde3; --bg: #fff; --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --warnbg: #fff8c5; --failbg: #ffebe9; --passbg: #dafbe1; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin-bottom: 12px; }
.banner { padding: 10px 14px; border-radius: 6px; font-weight: 600; font-size: 16px; margin: 12px 0; }
.banner.pass { background: var(--passbg); color: var(--pass); } .banner.fail { background: var(--failbg); color: var(--fail); } .banner.info { background: #eef3fb; color: #0b4f9c; }
.warning { background: var(--warnbg); color: var(--warn); border-left: 4px solid var(--warn); padding: 8px 12px; margin: 8px 0; font-weight: 600; }
.warning.loud { background: var(--failbg); color: var(--fail); border-left-color: var(--fail); font-size: 15px; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status-pass { color: var(--pass); font-weight: 600; } .status-fail { color: var(--fail); font-weight: 600; } .status-inconclusive { color: var(--warn); font-weight: 600; }
.v-regression { color: var(--fail); font-weight: 700; } .v-improvement { color: var(--pass); font-weight: 600; } .v-untestable { color: var(--warn); }
tr.regression td { background: var(--failbg); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
figure.chart { margin: 12px 0 24px; padding: 8px; border: 1px solid var(--line); border-radius: 6px; }
figure.chart figcaption { color: var(--muted); font-size: 12px; margin-bottom: 4px; }
.uplot .u-title { font-size: 14px; font-weight: 600; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print { figure.chart { break-inside: avoid; } }
`;

function page(title: string, body: string, charts: ChartSpec[]): string {
  let scripts = '';
  let head = '';
  if (charts.length > 0) {
    const a = chartAssets();
    const data = JSON.stringify(charts).replace(/</g, '\\u003c');
    head = `<style>${a.css}</style>\n<!-- uPlot ${a.version}\n${esc(a.license)}\n-->`;
    scripts =
      `<script>${a.script}</script>\n` +
      `<script type="application/json" id="kube-sli-charts">${data}</script>\n` +
      `<script>${CLIENT_SCRIPT}</script>`;
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kube-sli">
<title>${esc(title)}</title>
<style>${STYLE}</style>
${head}
</head>
<body>
${body}
${scripts}
</body>
</html>
`;
}

function tableHtml(header: string[], rows: string[][], numeric: ReadonlySet<number> = new Set(), rowClass?: (i: number) => string): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows
    .map((r, i) => {
      const cls = rowClass?.(i);
      return `<tr${cls ? ` class="${cls}"` : ''}>${r.map((c, j) => `<td${numeric.has(j) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table></div>`;
}

function kvTable(rows: Array<[string, string]>): string {
  return tableHtml(['', ''], rows.map(([k, v]) => [esc(k), esc(v)]));
}

function statusCell(s: SeriesRecord): string {
  return s.verdict ? `<span class="status-${s.verdict.status}">${STATUS_TEXT[s.verdict.status]}</span>` : '—';
}

function chartSection(title: string, charts: ChartSpec[]): string {
  if (charts.length === 0) return '';
  return (
    `<h2>${esc(title)}</h2>\n` +
    charts
      .map((c) => `<figure class="chart"><figcaption>${esc(c.subtitle ?? '')}</figcaption><div id="${c.id}" class="chart-body" data-title="${esc(c.title)}"></div></figure>`)
      .join('\n')
  );
}

function footer(extra: string): string {
  return `<footer>Generated by kube-sli. ${extra} Plots show stored summaries (quantile curves, binned distributions), not raw samples. Self-contained: no network access.</footer>`;
}

/** The run report with plots. */
export function renderHtml(doc: ReportDocument): string {
  const c = conformanceView(doc);
  const parts: string[] = [];
  parts.push(`<h1>kube-sli report</h1>`);
  parts.push(`<div class="meta">${esc(environmentLine(doc))} · kube-sli ${esc(doc.kitVersion)} · ${esc(doc.startedAt)}${doc.profile ? ` · profile <b>${esc(doc.profile.name)}</b>` : ''}</div>`);
  if (doc.series.length === 0) {
    parts.push(`<div class="banner info">No SLO results in this run.</div>`);
  } else if (c.slos.length === 0) {
    parts.push(`<div class="banner info">Measurements only: no SLO was evaluated.</div>`);
  } else {
    parts.push(`<div class="banner ${c.conformant ? 'pass' : 'fail'}">${esc(c.headline)}</div>`);
  }
  for (const w of notesOfKind(doc, 'warning')) parts.push(`<div class="warning"><code>${esc(w.series.id)}</code>: ${w.texts.map(esc).join(' · ')}</div>`);
  if (doc.series.length > 0) {
    parts.push(`<h2>Results</h2>`);
    parts.push(
      tableHtml(
        ['SLI', 'source', 'scale point', 'samples', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'SLO', 'verdict'],
        doc.series.map((s) => [
          `<code>${esc(s.sli)}</code>`,
          esc(s.source),
          esc(labelText(s.labels)),
          fmtCount(s.summary.count) + (s.exact ? '' : ' <span title="from a histogram">≈</span>'),
          esc(fmt(s.summary.min, s.dimension)),
          esc(fmt(s.summary.p50, s.dimension)),
          esc(fmt(s.summary.p90, s.dimension)),
          esc(fmt(s.summary.p99, s.dimension)),
          esc(fmt(s.summary.p999, s.dimension)),
          esc(fmt(s.summary.max, s.dimension)),
          s.slo ? `<code>${esc(s.slo.thresholds.join(', '))}</code>` : '—',
          statusCell(s),
        ]),
        new Set([3, 4, 5, 6, 7, 8, 9]),
      ),
    );
    const bad = c.slos.filter((s) => s.verdict.status !== 'pass');
    if (bad.length > 0) {
      parts.push(`<ul>${bad.map((s) => `<li><span class="status-${s.verdict.status}">${STATUS_TEXT[s.verdict.status]}</span> <code>${esc(s.id)}</code>: ${esc(s.verdict.reason)}</li>`).join('')}</ul>`);
    }
    for (const [kind, title] of [
      ['definition', 'What the series measure'],
      ['caveat', 'Caveats'],
    ] as const) {
      const notes = notesOfKind(doc, kind);
      if (notes.length === 0) continue;
      parts.push(`<details><summary>${title} (${notes.length} series)</summary><ul>${notes.map((n) => `<li><code>${esc(n.series.id)}</code>: ${n.texts.map(esc).join(' · ')}</li>`).join('')}</ul></details>`);
    }
  }
  const charts = reportCharts(doc);
  const by = (g: ChartSpec['group'][]) => charts.filter((x) => g.includes(x.group));
  parts.push(chartSection('Quantile curves per scale point', by(['quantiles'])));
  parts.push(chartSection('Latency against the number of Services', by(['scale'])));
  parts.push(chartSection('Per-connection throughput and fairness', by(['throughput', 'fairness'])));
  parts.push(chartSection('Distributions (programming latency and others)', by(['distribution'])));
  parts.push(`<h2>Environment</h2>`);
  parts.push(kvTable(environmentRows(doc)));
  const wl = Object.entries(doc.workload);
  if (wl.length > 0) {
    parts.push(`<h2>Workload</h2>`);
    parts.push(kvTable(wl.map(([k, v]) => [k, String(v)])));
  }
  parts.push(footer(`Report schemaVersion ${doc.schemaVersion}.`));
  return page(`kube-sli report ${doc.startedAt}`, parts.filter((p) => p !== '').join('\n'), charts);
}

/** One page for vendor checks (no scripts). */
export function renderConformanceHtml(doc: ReportDocument): string {
  const c = conformanceView(doc);
  const parts: string[] = [];
  parts.push(`<h1>kube-sli conformance</h1>`);
  parts.push(`<div class="banner ${c.conformant ? 'pass' : 'fail'}">${c.conformant ? 'CONFORMANT' : 'NOT CONFORMANT'} — ${esc(c.headline)}</div>`);
  parts.push(
    kvTable([
      ['Profile', `${c.profile}${doc.profile?.version ? ` (version ${doc.profile.version})` : ''}`],
      ...(doc.profile?.description ? [['Description', doc.profile.description] as [string, string]] : []),
      ['Rule', 'conformant only when every SLO passed; a failed or inconclusive SLO means not conformant'],
    ]),
  );
  parts.push(`<h2>SLOs</h2>`);
  if (c.slos.length === 0) parts.push(`<p>No SLO was evaluated in this run.</p>`);
  else {
    parts.push(
      tableHtml(
        ['SLO', 'source', 'scale point', 'threshold', 'observed', 'confidence interval', 'samples', 'verdict', 'evidence'],
        c.slos.flatMap((s) =>
          s.verdict.thresholds.map((t) => [
            `<code>${esc(s.sli)}</code>`,
            esc(s.source),
            esc(labelText(s.labels)),
            `<code>${esc(t.threshold)}</code>`,
            esc(fmt(t.observed, t.dimension)),
            t.ci ? esc(`${fmt(t.ci[0], t.dimension)} – ${fmt(t.ci[1], t.dimension)}`) : '—',
            fmtCount(s.verdict.samples),
            `<span class="status-${t.status}">${STATUS_TEXT[t.status]}</span>`,
            esc(t.reason),
          ]),
        ),
        new Set([4, 6]),
      ),
    );
    parts.push(`<h3>Evidence per SLO</h3><ul>`);
    for (const s of c.slos) {
      parts.push(
        `<li><span class="status-${s.verdict.status}">${STATUS_TEXT[s.verdict.status]}</span> <code>${esc(s.id)}</code>: ${esc(s.verdict.reason)}. ` +
          `${fmtCount(s.summary.count)} samples (${s.exact ? 'exact' : 'from a histogram'}); p50 ${esc(fmt(s.summary.p50, s.dimension))}, p99 ${esc(fmt(s.summary.p99, s.dimension))}, max ${esc(fmt(s.summary.max, s.dimension))}; minSamples ${s.slo?.minSamples ?? '—'}` +
          `${(s.notes ?? []).map((n) => `<br>${n.kind}: ${esc(n.text)}`).join('')}</li>`,
      );
    }
    parts.push(`</ul>`);
  }
  parts.push(`<h2>Environment</h2>`);
  parts.push(kvTable(environmentRows(doc)));
  const wl = Object.entries(doc.workload);
  if (wl.length > 0) {
    parts.push(`<h2>Workload</h2>`);
    parts.push(kvTable(wl.map(([k, v]) => [k, String(v)])));
  }
  parts.push(footer(`Report schemaVersion ${doc.schemaVersion}.`));
  return page(`kube-sli conformance: ${c.conformant ? 'conformant' : 'not conformant'}`, parts.join('\n'), []);
}

/** kube-sli compare as a page: outcome, warnings, side-by-side table, overlaid curves. */
export function renderComparisonHtml(cmp: ComparisonDocument): string {
  const tol = fmtPercent(cmp.tolerance).replace('+', '');
  const parts: string[] = [];
  parts.push(`<h1>kube-sli compare</h1>`);
  parts.push(`<div class="meta">base <b>${esc(cmp.base.name)}</b> vs candidate <b>${esc(cmp.candidate.name)}</b></div>`);
  parts.push(
    cmp.outcome === 'regression'
      ? `<div class="banner fail">REGRESSION: ${cmp.regressions} significant regression${cmp.regressions === 1 ? '' : 's'} beyond ${esc(tol)}</div>`
      : `<div class="banner pass">No regression beyond ${esc(tol)}${cmp.improvements > 0 ? ` (${cmp.improvements} improvement${cmp.improvements === 1 ? '' : 's'})` : ''}</div>`,
  );
  for (const w of cmp.warnings) parts.push(`<div class="warning${w.includes('different environments') ? ' loud' : ''}">${esc(w)}</div>`);
  parts.push(`<h2>Per SLI</h2>`);
  if (cmp.rows.length === 0) parts.push('<p>No series in common.</p>');
  else
    parts.push(
      tableHtml(
        ['SLI', 'source', 'scale point', 'stat', 'base', 'candidate', 'change', `${Math.round(cmp.confidence * 100)}% CI of change`, 'verdict'],
        cmp.rows.map((r) => [
          `<code>${esc(r.sli)}</code>`,
          esc(r.source),
          esc(labelText(r.labels)) +
            (r.labelDifferences.length ? `<br><small>${esc(r.labelDifferences.map((d) => `${d.label}: ${d.base ?? '–'} → ${d.candidate ?? '–'}`).join(', '))}</small>` : ''),
          esc(STATISTIC_TEXT[r.statistic]),
          esc(fmt(r.base, r.dimension)),
          esc(fmt(r.candidate, r.dimension)),
          esc(`${fmtChange(r.change, r.dimension)} (${fmtPercent(r.relativeChange)})`),
          r.ci ? esc(`${fmtChange(r.ci[0], r.dimension)} … ${fmtChange(r.ci[1], r.dimension)}`) : '—',
          `<span class="v-${r.verdict}">${esc(COMPARISON_TEXT[r.verdict])}</span>${r.note ? `<br><small>${esc(r.note)}</small>` : ''}`,
        ]),
        new Set([4, 5, 6]),
        (i) => (cmp.rows[i]?.verdict === 'regression' ? 'regression' : ''),
      ),
    );
  parts.push(
    `<p class="meta">Test: percentile bootstrap (${fmtCount(cmp.iterations)} replicates) of candidate − base on each run's stored sample reservoir; significant when the CI excludes 0; a regression is significant and worse than base by more than ${esc(tol)}.</p>`,
  );
  const charts = comparisonCharts(cmp);
  parts.push(chartSection('Base vs candidate', charts));
  parts.push(`<h2>Environments</h2>`);
  const b = environmentRows(cmp.base);
  const cr = environmentRows(cmp.candidate);
  const diffFields = new Set(cmp.environmentDifferences.map((d) => d.field));
  const fieldOf: Record<string, string> = { 'Proxy mode': 'proxyMode', Kernel: 'kernel', Kubernetes: 'kubernetesVersion', Nodes: 'nodeCount', Provider: 'provider', CNI: 'cni' };
  parts.push(
    tableHtml(
      ['', 'base', 'candidate'],
      b.map(([k, v], i) => {
        const other = cr.find(([k2]) => k2 === k)?.[1] ?? cr[i]?.[1] ?? '';
        const flag = diffFields.has((fieldOf[k] ?? '') as never) ? ' <span class="status-fail">≠</span>' : '';
        return [esc(k) + flag, esc(v), esc(other)];
      }),
    ),
  );
  parts.push(footer(''));
  return page(`kube-sli compare: ${cmp.outcome}`, parts.join('\n'), charts);
}
