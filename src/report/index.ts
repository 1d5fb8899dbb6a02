// Public API of src/report: the result file (build, validate, read, write) and the
// comparison of two runs. Math comes from src/sli; file I/O lives only in io.ts.
// Rendering (console, Markdown, JUnit, HTML) is in reporters/, which imports the pure
// modules (types, build, schema, notes) and never io.ts.

export type * from './types.js';
export { REPORT_SCHEMA_VERSION } from './types.js';
export {
  assembleReport,
  buildReport,
  completeEnvironment,
  normalizeProfile,
  reportFromTestMeta,
  sortSeries,
  type AssembleReportInput,
  type TestMeta,
} from './build.js';
export { buildSeries, DEFAULT_RESERVOIR_CAP, QUANTILE_GRID, seriesId, SliResultError } from './series.js';
export { comparedStatistics, sliDirection } from './direction.js';
export { attachSliResults, kubeSliMeta, type HasMeta, type KubeSliMetaInput } from './meta.js';
export {
  locateJsonError,
  parseReport,
  pointerToPath,
  ReportFileError,
  reportSchema,
  reportTextToWrite,
  serializeReport,
  validateReport,
  type SchemaProblem,
} from './schema.js';
export { caveat, definition, NOTE_KINDS, toNote, warning } from './notes.js';
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
  writeReport,
  writeTextFile,
} from './io.js';
