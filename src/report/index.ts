// Public API of src/report: the result file (build, validate, read, write) and the
// comparison of two runs. Math comes from src/sli; file I/O lives only in io.ts.
// Rendering (console, Markdown, JUnit, HTML) is in reporters/, which imports only types.

export type * from './types.js';
export { REPORT_SCHEMA_VERSION } from './types.js';
export { buildReport, completeEnvironment, normalizeProfile, sortSeries } from './build.js';
export { buildSeries, DEFAULT_RESERVOIR_CAP, QUANTILE_GRID, seriesId, SliResultError } from './series.js';
export { comparedStatistics, sliDirection } from './direction.js';
export { attachSliResults, kubeSliMeta, type HasMeta, type KubeSliMetaInput } from './meta.js';
export {
  locateJsonError,
  parseReport,
  pointerToPath,
  ReportFileError,
  reportSchema,
  validateReport,
  type SchemaProblem,
} from './schema.js';
export {
  compareReports,
  DEFAULT_ENVIRONMENT_LABELS,
  DEFAULT_TOLERANCE,
  parseTolerance,
  parseMinChange,
  DEFAULT_MIN_CHANGE,
} from './compare.js';
export {
  DEFAULT_REPORT_DIR,
  DEFAULT_REPORT_PATH,
  findReportPairs,
  readReport,
  serializeReport,
  writeReport,
  writeTextFile,
} from './io.js';
