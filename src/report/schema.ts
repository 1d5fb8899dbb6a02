import { createRequire } from 'node:module';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { REPORT_SCHEMA_VERSION, type ReportDocument, type SeriesNote } from './types.js';

// Validation of report documents against report.schema.json (JSON Schema 2020-12, ajv),
// and parsing of report text with errors a person can act on: the file, what is wrong,
// and where (line/column for syntax, a JSONPath such as $.series[3].summary.p50 for
// content). Pure: reading the file is io.ts's job.

// The schema ships as JSON next to this file; require() loads it without Node 20's
// "JSON modules are experimental" warning.
export const reportSchema: Record<string, unknown> = createRequire(import.meta.url)('./report.schema.json') as Record<string, unknown>;

/** Thrown for a report that cannot be used; message is "<file>: <problem>". */
export class ReportFileError extends Error {
  override readonly name = 'ReportFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
    /** JSONPath of the offending value, when the problem is in the content. */
    readonly path?: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface SchemaProblem {
  /** JSONPath, e.g. $.series[0].summary.p50 */
  path: string;
  message: string;
}

// RFC 3339 date-time, as JSON Schema's "date-time" format.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', { type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
    compiled = ajv.compile(reportSchema);
  }
  return compiled;
}

/** JSON pointer (/series/0/summary) → JSONPath ($.series[0].summary). */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '$';
  return (
    '$' +
    pointer
      .split('/')
      .slice(1)
      .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`))
      .join('')
  );
}

function describe(e: ErrorObject): SchemaProblem {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path, message: `missing required property "${String(p.missingProperty)}"` };
    case 'additionalProperties':
      return { path, message: `unknown property "${String(p.additionalProperty)}"` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { path, message: `must be of type ${Array.isArray(p.type) ? (p.type as string[]).join(' or ') : String(p.type)}` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

/** Problems of a parsed document against the schema and the rules the schema cannot state. */
export function validateReport(doc: unknown): SchemaProblem[] {
  const validate = validator();
  if (!validate(doc)) {
    const seen = new Set<string>();
    return (validate.errors ?? []).map(describe).filter((p) => {
      const k = `${p.path} ${p.message}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });
  }
  const problems: SchemaProblem[] = [];
  const d = doc as ReportDocument;
  const ids = new Map<string, number>();
  d.series.forEach((s, i) => {
    const at = `$.series[${i}]`;
    const prev = ids.get(s.id);
    if (prev !== undefined) problems.push({ path: `${at}.id`, message: `duplicate series id ${s.id} (also $.series[${prev}])` });
    ids.set(s.id, i);
    if (s.reservoir.values.length > s.reservoir.cap) {
      problems.push({ path: `${at}.reservoir.values`, message: `has ${s.reservoir.values.length} values, more than its cap ${s.reservoir.cap}` });
    }
    if (s.reservoir.values.length > s.summary.count) {
      problems.push({ path: `${at}.reservoir.values`, message: `has ${s.reservoir.values.length} values but summary.count is ${s.summary.count}` });
    }
    if (s.distribution && s.distribution.counts.length !== s.distribution.bounds.length - 1) {
      problems.push({ path: `${at}.distribution.counts`, message: `must have one count per bin (bounds.length − 1 = ${s.distribution.bounds.length - 1})` });
    }
  });
  return problems;
}

/** Byte offset of the first JSON syntax error in text (a small strict scanner). */
export function locateJsonError(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  class Stop extends Error {}
  const fail = (): never => {
    throw new Stop();
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const str = () => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return void (i += 2, fail());
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return void (i++, fail());
      } else i++;
    }
    fail();
  };
  const num = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true');
    if (c === 'f') return lit('false');
    if (c === 'n') return lit('null');
    if (c !== undefined && /[-0-9]/.test(c)) return num();
    fail();
  };
  try {
    value();
    ws();
    return i < n ? i : -1;
  } catch (err) {
    if (err instanceof Stop) return i;
    throw err;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      last = k;
    }
  }
  return { line, column: offset - last };
}

function syntaxProblem(text: string, err: Error): string {
  const m = /at position (\d+)/.exec(err.message);
  let offset = m ? Number(m[1]) : locateJsonError(text);
  if (offset < 0) offset = 0;
  const end = text.trimEnd().length;
  const truncated = offset >= end || /end of JSON input|Unterminated string/.test(err.message);
  const { line, column } = lineColumn(text, Math.min(offset, text.length));
  if (truncated) {
    return `truncated JSON: the document stops at line ${line}, column ${column} (byte ${offset} of ${text.length}) before it is complete; the file was probably cut short while being written or copied`;
  }
  const reason = err.message
    .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n');
  const around = text.slice(Math.max(0, offset - 20), offset + 20).replace(/\s+/g, ' ');
  return `malformed JSON at line ${line}, column ${column} (byte ${offset}): ${reason}; near ${JSON.stringify(around)}`;
}

const describeType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/**
 * Parse and validate a report's text; `file` names it in errors. Checks, in order: empty,
 * JSON syntax (truncation told apart), that it is a kube-sli report, its schemaVersion,
 * then the schema. Throws ReportFileError.
 */
export function parseReport(text: string, file: string): ReportDocument {
  if (text.trim() === '') {
    throw new ReportFileError(file, text.length === 0 ? 'the file is empty (0 bytes); expected a kube-sli report (JSON)' : 'the file contains only whitespace; expected a kube-sli report (JSON)');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new ReportFileError(file, syntaxProblem(text, err as Error));
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ReportFileError(file, `not a kube-sli report: the top level is ${describeType(doc)}, expected an object`, '$');
  }
  const o = doc as Record<string, unknown>;
  if (o.kind === 'kube-sli-comparison') {
    throw new ReportFileError(file, 'this is a comparison written by kube-sli compare, not a run report', '$.kind');
  }
  if (o.kind !== 'kube-sli-report' && o.schemaVersion === undefined) {
    throw new ReportFileError(file, 'not a kube-sli report: it has neither "kind": "kube-sli-report" nor a schemaVersion', '$');
  }
  if (o.schemaVersion === undefined) {
    throw new ReportFileError(file, `missing schemaVersion; this kube-sli reads schemaVersion ${REPORT_SCHEMA_VERSION}`, '$.schemaVersion');
  }
  if (o.schemaVersion !== REPORT_SCHEMA_VERSION) {
    const v = o.schemaVersion;
    const newer = typeof v === 'number' && v > REPORT_SCHEMA_VERSION;
    throw new ReportFileError(
      file,
      `unsupported schemaVersion ${JSON.stringify(v)}; this kube-sli reads schemaVersion ${REPORT_SCHEMA_VERSION}` +
        (newer ? ' (the report was written by a newer kube-sli: upgrade to read it)' : ''),
      '$.schemaVersion',
    );
  }
  const problems = validateReport(doc);
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).map((p) => `${p.path}: ${p.message}`);
    const more = problems.length > 8 ? `\n  … and ${problems.length - 8} more` : '';
    const first = problems[0] as SchemaProblem;
    throw new ReportFileError(
      file,
      `does not match the kube-sli report schema (schemaVersion ${REPORT_SCHEMA_VERSION}):\n  ${shown.join('\n  ')}${more}`,
      first.path,
    );
  }
  return normalizeNotes(doc as ReportDocument);
}

/** Reports written before note kinds carry plain strings: they are caveats. */
function normalizeNotes(doc: ReportDocument): ReportDocument {
  for (const s of doc.series) {
    if (s.notes) s.notes = (s.notes as Array<string | SeriesNote>).map((n) => (typeof n === 'string' ? { kind: 'caveat' as const, text: n } : n));
  }
  return doc;
}

/** JSON text of a report: two-space indent, number arrays (reservoirs) on one line. */
export function serializeReport(doc: ReportDocument): string {
  const text = JSON.stringify(doc, (_k, v: unknown) => {
    if (Array.isArray(v) && v.length > 8 && v.every((x) => typeof x === 'number')) return `\u0000${JSON.stringify(v)}`;
    return v;
  }, 2);
  return `${text.replace(/"\\u0000(\[[^"]*\])"/g, '$1')}\n`;
}

/**
 * The text to write for a report, after validating it: every writer of report.json goes
 * through here, so an invalid report is refused when written, not found when read.
 * Throws ReportFileError naming `file` and the JSONPath of each problem.
 */
export function reportTextToWrite(doc: ReportDocument, file: string): string {
  const problems = validateReport(doc);
  if (problems.length > 0) {
    throw new ReportFileError(
      file,
      `refusing to write an invalid report: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      (problems[0] as SchemaProblem).path,
    );
  }
  return serializeReport(doc);
}
