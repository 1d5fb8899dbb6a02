import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  findReportPairs,
  locateJsonError,
  parseReport,
  pointerToPath,
  readReport,
  ReportFileError,
  reportSchema,
  serializeReport,
  validateReport,
  writeReport,
  buildReport,
  NOTE_KINDS,
  type Distribution,
  type Environment,
  type Fairness,
  type NodeInfo,
  type ProfileInfo,
  type ReportDocument,
  type ReportSlo,
  type ReportSummary,
  type ReportThresholdVerdict,
  type ReportVerdict,
  type Reservoir,
  type SeriesNote,
  type SeriesOrigin,
  type SeriesRecord,
} from '../../../src/report/index.js';
import { loadProfile, SLI } from '../../../src/config/profiles.js';
import { evaluateSlo } from '../../../src/sli/index.js';
import { syntheticReport } from '../../fixtures/report/synthetic.js';

let dir: string;
let doc: ReportDocument;
let text: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-sli-report-'));
  doc = syntheticReport({ mode: 'nftables', services: [100, 10000] });
  text = serializeReport(doc);
});

async function problemOf(name: string, content: string): Promise<ReportFileError> {
  const path = join(dir, name);
  await writeFile(path, content);
  try {
    await readReport(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ReportFileError);
    const e = err as ReportFileError;
    expect(e.file).toBe(path);
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    return e;
  }
  throw new Error(`${name} was accepted`);
}

describe('the JSON Schema', () => {
  test('is a 2020-12 schema for schemaVersion 1 and accepts built reports', () => {
    expect(reportSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((reportSchema.properties as Record<string, { const?: unknown }>).schemaVersion?.const).toBe(1);
    expect(validateReport(doc)).toEqual([]);
    expect(validateReport(JSON.parse(text))).toEqual([]);
  });

  test('covers every top-level and series field the builder writes (types and schema in step)', () => {
    const props = reportSchema.properties as Record<string, unknown>;
    for (const k of Object.keys(doc)) expect(props, `top-level ${k}`).toHaveProperty(k);
    const series = (reportSchema.$defs as Record<string, { properties: Record<string, unknown> }>).series?.properties ?? {};
    for (const s of doc.series) for (const k of Object.keys(s)) expect(series, `series field ${k}`).toHaveProperty(k);
  });

  test('every object of the schema has exactly the fields of its TypeScript type (types and schema in step)', () => {
    // Each key list is checked by the compiler against its type (`satisfies` rejects a
    // missing or an extra key), and here against the schema: a field added on one side
    // only fails one of the two.
    const fields = {
      report: { $schema: 1, kind: 1, schemaVersion: 1, kitVersion: 1, startedAt: 1, endedAt: 1, profile: 1, environment: 1, workload: 1, series: 1 } satisfies Record<keyof ReportDocument, 1>,
      series: {
        id: 1, sli: 1, source: 1, labels: 1, dimension: 1, direction: 1, exact: 1, summary: 1, quantiles: 1, distribution: 1,
        fairness: 1, histogram: 1, reservoir: 1, slo: 1, verdict: 1, notes: 1, origin: 1,
      } satisfies Record<keyof SeriesRecord, 1>,
      slo: { sli: 1, thresholds: 1, minSamples: 1, labels: 1, confidence: 1, origin: 1 } satisfies Record<keyof ReportSlo, 1>,
      verdict: { status: 1, sli: 1, samples: 1, thresholds: 1, reason: 1, labels: 1 } satisfies Record<keyof ReportVerdict, 1>,
      thresholdVerdict: { threshold: 1, observed: 1, ci: 1, dimension: 1, status: 1, reason: 1 } satisfies Record<keyof ReportThresholdVerdict, 1>,
      environment: { kubernetesVersion: 1, proxyMode: 1, kernel: 1, nodes: 1, provider: 1, cni: 1, extra: 1 } satisfies Record<keyof Environment, 1>,
      summary: { count: 1, min: 1, max: 1, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1 } satisfies Record<keyof ReportSummary, 1>,
      reservoir: { method: 1, cap: 1, values: 1 } satisfies Record<keyof Reservoir, 1>,
      fairness: { flows: 1, jain: 1, p10p50: 1 } satisfies Record<keyof Fairness, 1>,
      distribution: { scale: 1, bounds: 1, counts: 1 } satisfies Record<keyof Distribution, 1>,
      profile: { name: 1, description: 1, version: 1 } satisfies Record<keyof ProfileInfo, 1>,
      node: { name: 1, kernel: 1, kubeletVersion: 1, osImage: 1, arch: 1, containerRuntime: 1, roles: 1 } satisfies Record<keyof NodeInfo, 1>,
      origin: { file: 1, test: 1 } satisfies Record<keyof SeriesOrigin, 1>,
      note: { kind: 1, text: 1 } satisfies Record<keyof SeriesNote, 1>,
    };
    const defs = reportSchema.$defs as Record<string, { properties?: Record<string, unknown>; oneOf?: Array<{ properties?: Record<string, unknown> }> }>;
    const schemaFields: Record<keyof typeof fields, Record<string, unknown> | undefined> = {
      report: reportSchema.properties as Record<string, unknown>,
      series: defs.series?.properties,
      slo: defs.slo?.properties,
      verdict: defs.verdict?.properties,
      thresholdVerdict: defs.thresholdVerdict?.properties,
      environment: defs.environment?.properties,
      summary: defs.summary?.properties,
      reservoir: defs.reservoir?.properties,
      fairness: defs.fairness?.properties,
      distribution: defs.distribution?.properties,
      profile: defs.profile?.properties,
      node: defs.node?.properties,
      origin: (defs.series?.properties?.origin as { properties?: Record<string, unknown> } | undefined)?.properties,
      note: defs.note?.oneOf?.find((b) => b.properties)?.properties,
    };
    for (const [name, keys] of Object.entries(fields)) {
      expect(Object.keys(schemaFields[name as keyof typeof fields] ?? {}).sort(), name).toEqual(Object.keys(keys).sort());
    }
    expect([...(defs.note?.oneOf?.find((b) => b.properties)?.properties?.kind as { enum: string[] }).enum].sort()).toEqual([...NOTE_KINDS].sort());
  });

  test('a series judged against a profile SLO (with its origin) is a valid report', () => {
    const slo = loadProfile('default')[SLI.firstPacket];
    expect(slo.origin).not.toBe('');
    const samples = Array.from({ length: 1000 }, (_, i) => 1e-5 + i * 1e-8);
    const built = buildReport({
      kitVersion: '0.1.0',
      environment: { kubernetesVersion: null, proxyMode: 'nftables', kernel: null, nodes: [] },
      startedAt: new Date(0),
      endedAt: new Date(1),
      results: [{ sli: slo.sli, source: 'capture', samples, slo, verdict: evaluateSlo(slo, { samples }, { iterations: 200 }) }],
    });
    expect(built.series[0]?.slo?.origin).toBe(slo.origin);
    expect(validateReport(built)).toEqual([]);
    expect(parseReport(serializeReport(built), 'r.json').series[0]?.slo?.origin).toBe(slo.origin);
  });

  test('reports problems with a JSONPath', () => {
    const bad = structuredClone(doc) as unknown as { series: Array<Record<string, unknown>>; extra?: number };
    (bad.series[1]?.summary as Record<string, unknown>).p50 = 'fast';
    delete bad.series[0]?.reservoir;
    bad.extra = 1;
    const problems = validateReport(bad);
    expect(problems).toContainEqual({ path: '$.series[1].summary.p50', message: 'must be of type number or null' });
    expect(problems).toContainEqual({ path: '$.series[0]', message: 'missing required property "reservoir"' });
    expect(problems).toContainEqual({ path: '$', message: 'unknown property "extra"' });
  });

  test('semantic rules the schema cannot state', () => {
    const bad = structuredClone(doc);
    (bad.series[1] as { id: string }).id = bad.series[0]?.id as string;
    (bad.series[2] as { reservoir: { cap: number } }).reservoir.cap = 1;
    const problems = validateReport(bad).map((p) => `${p.path}: ${p.message}`);
    expect(problems.some((p) => p.startsWith('$.series[1].id: duplicate series id'))).toBe(true);
    expect(problems.some((p) => p.startsWith('$.series[2].reservoir.values: has'))).toBe(true);
  });

  test('pointerToPath', () => {
    expect(pointerToPath('')).toBe('$');
    expect(pointerToPath('/series/3/labels/a~1b')).toBe('$.series[3].labels["a/b"]');
  });
});

describe('readReport errors name the file and the problem', () => {
  test('round trip through writeReport', async () => {
    const path = join(dir, 'ok', 'report.json');
    await writeReport(doc, path);
    expect(await readReport(path)).toEqual(doc);
    // Reservoirs stay on one line each: the file is diffable and not absurdly long.
    expect((await readFile(path, 'utf8')).split('\n').length).toBeLessThan(2000);
  });

  test('malformed JSON: line, column and what is wrong', async () => {
    const broken = text.replace('"kitVersion": "0.1.0",', '"kitVersion": "0.1.0"');
    const e = await problemOf('malformed.json', broken);
    const line = broken.slice(0, broken.indexOf('"startedAt"')).split('\n').length;
    expect(e.problem).toMatch(new RegExp(`^malformed JSON at line ${line}, column \\d+ \\(byte \\d+\\): Expected ',' or '}' after property value`));
  });

  test('malformed JSON without a position from V8 is located by the scanner', async () => {
    const e = await problemOf('token.json', '{\n  "kind": "kube-sli-report",\n  "schemaVersion": tru\n}');
    expect(e.problem).toMatch(/^malformed JSON at line 3, column 20 \(byte 50\): Unexpected token '\\n'; near " \\"schemaVersion\\": tru }"$/);
    expect(locateJsonError('[1, 2, ]')).toBe(7);
    expect(locateJsonError('{"a": [1, 2]}')).toBe(-1);
  });

  test('truncated file', async () => {
    const e = await problemOf('truncated.json', text.slice(0, Math.floor(text.length * 0.6)));
    expect(e.problem).toMatch(/^truncated JSON: the document stops at line \d+, column \d+ \(byte \d+ of \d+\) before it is complete/);
  });

  test('truncated inside a string', async () => {
    const e = await problemOf('truncated2.json', '{"kind": "kube-sli-rep');
    expect(e.problem).toMatch(/^truncated JSON/);
  });

  test('empty file', async () => {
    expect((await problemOf('empty.json', '')).problem).toMatch(/^the file is empty \(0 bytes\)/);
    expect((await problemOf('blank.json', ' \n')).problem).toMatch(/only whitespace/);
  });

  test('wrong schemaVersion names the supported one', async () => {
    const v2 = await problemOf('v2.json', JSON.stringify({ ...doc, schemaVersion: 2 }));
    expect(v2.problem).toBe('unsupported schemaVersion 2; this kube-sli reads schemaVersion 1 (the report was written by a newer kube-sli: upgrade to read it)');
    expect(v2.path).toBe('$.schemaVersion');
    const str = await problemOf('v-str.json', JSON.stringify({ ...doc, schemaVersion: '1' }));
    expect(str.problem).toBe('unsupported schemaVersion "1"; this kube-sli reads schemaVersion 1');
    const { schemaVersion: _drop, ...noVersion } = doc;
    expect((await problemOf('v-none.json', JSON.stringify(noVersion))).problem).toBe('missing schemaVersion; this kube-sli reads schemaVersion 1');
  });

  test('not a report at all', async () => {
    expect((await problemOf('array.json', '[1, 2]')).problem).toMatch(/^not a kube-sli report: the top level is an array/);
    expect((await problemOf('other.json', '{"name": "package"}')).problem).toMatch(/^not a kube-sli report: it has neither/);
    expect((await problemOf('cmp.json', '{"kind": "kube-sli-comparison"}')).problem).toMatch(/comparison written by kube-sli compare/);
  });

  test('schema violations list JSONPaths', async () => {
    const bad = JSON.parse(text) as { series: Array<{ summary: { count: unknown } }> };
    (bad.series[0] as { summary: { count: unknown } }).summary.count = -1;
    const e = await problemOf('schema.json', JSON.stringify(bad));
    expect(e.problem).toMatch(/^does not match the kube-sli report schema \(schemaVersion 1\):\n {2}\$\.series\[0\]\.summary\.count: must be >= 0/);
    expect(e.path).toBe('$.series[0].summary.count');
  });

  test('missing file, directory', async () => {
    await expect(readReport(join(dir, 'nope.json'))).rejects.toThrow(`${join(dir, 'nope.json')}: cannot read the report: no such file`);
    await expect(readReport(dir)).rejects.toThrow(/is a directory/);
  });

  test('parseReport accepts a BOM', () => {
    expect(parseReport(`\ufeff${text}`, 'x.json')).toEqual(doc);
  });

  test('writeReport refuses an invalid document', async () => {
    const bad = { ...doc, kitVersion: '' };
    await expect(writeReport(bad, join(dir, 'bad.json'))).rejects.toThrow(/refusing to write an invalid report: \$\.kitVersion/);
  });
});

describe('findReportPairs', () => {
  test('pairs base/candidate files, then the rest two by two; [] for a missing dir', async () => {
    const d = join(dir, 'pairs');
    await mkdir(d);
    for (const f of ['fp.base.report.json', 'fp.candidate.report.json', 'a.report.json', 'b.report.json', 'notes.txt']) await writeFile(join(d, f), '{}');
    expect(await findReportPairs(d)).toEqual([
      { name: 'fp', base: join(d, 'fp.base.report.json'), candidate: join(d, 'fp.candidate.report.json') },
      { name: 'a.report.json vs b.report.json', base: join(d, 'a.report.json'), candidate: join(d, 'b.report.json') },
    ]);
    expect(await findReportPairs(join(dir, 'none'))).toEqual([]);
  });
});
