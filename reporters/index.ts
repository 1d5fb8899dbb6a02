// kube-sli reporters: vitest reporters (default export: all formats) and the plain
// rendering functions. Reporters import types, and src/report's pure builder and schema
// (one report builder, report.json validated when written); never I/O or cluster code.

export { KubeSliReporter, collectReport, ALL_FORMATS, FORMAT_FILES, type KubeSliFormat, type KubeSliReporterOptions } from './kube-sli.js';
export { ConsoleSummaryReporter } from './console.js';
export { JsonReportReporter } from './json.js';
export { JUnitPropertiesReporter } from './junit.js';
export { MarkdownSummaryReporter } from './markdown.js';
export { HtmlReportReporter } from './html.js';
export { ConformanceReporter } from './conformance.js';
export * from './render/index.js';
export { conformanceView, type ConformanceView } from './model.js';
export { KubeSliReporter as default } from './kube-sli.js';
