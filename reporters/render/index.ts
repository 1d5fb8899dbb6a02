// Plain function API: render a report document (or a comparison) in each format.
// Used by the vitest reporters, `kube-sli report` and `kube-sli compare`. Display only:
// every number comes from the document.

export { renderComparisonText, renderConsole, textTable } from './text.js';
export { mdCell, renderComparisonMarkdown, renderConformanceMarkdown, renderMarkdown } from './markdown.js';
export { renderJUnit, xmlEscape } from './junit.js';
export { esc, renderComparisonHtml, renderConformanceHtml, renderHtml } from './html.js';
export { comparisonCharts, ninesX, reportCharts, type ChartSeriesSpec, type ChartSpec } from './charts.js';
