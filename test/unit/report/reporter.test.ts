import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { TestModule } from 'vitest/node';
import { startVitest } from 'vitest/node';
import ConsoleSummaryReporter from '../../../reporters/console.js';
import KubeSliReporter, { collectReport } from '../../../reporters/kube-sli.js';
import { buildReport, kubeSliMeta, ReportFileError, validateReport, type KubeSliMeta, type ReportDocument } from '../../../src/report/index.js';

const META_SUITE = fileURLToPath(new URL('../../fixtures/report/meta-suite/', import.meta.url));

/** A stand-in for vitest's TestModule with just what the reporter reads. */
function fakeModule(file: string, tests: Array<{ name: string; meta?: KubeSliMeta }>): TestModule {
  return {
    moduleId: file,
    errors: () => [],
    children: {
      *allTests() {
        for (const t of tests) yield { fullName: t.name, meta: () => (t.meta ? { kubeSli: t.meta } : {}), result: () => ({ state: 'passed', errors: [] }) };
      },
    },
  } as unknown as TestModule;
}

const meta = (sli: string, extra: Partial<Parameters<typeof kubeSliMeta>[0]> = {}) =>
  kubeSliMeta({ results: [{ sli, source: 'capture', labels: { services: '100' }, samples: [1e-5, 2e-5, 3e-5] }], ...extra });

describe('collectReport', () => {
  test('gathers series from every test, with origin; environment/workload/profile merged', () => {
    const doc = collectReport({
      modules: [
        fakeModule('/repo/suites/a.slo.test.ts', [
          { name: 'a > one', meta: meta('a_seconds', { environment: { proxyMode: 'nftables', kernel: '6.18' }, workload: { connections: 3 } }) },
          { name: 'a > none' },
        ]),
        fakeModule('/repo/suites/b.slo.test.ts', [{ name: 'b', meta: meta('b_seconds', { environment: { proxyMode: 'iptables' }, profile: 'strict' }) }]),
      ],
      root: '/repo',
      startedAt: new Date(0),
      endedAt: new Date(60_000),
      defaults: { kitVersion: '9.9.9', environment: { kubernetesVersion: 'v1.34.1' }, workload: { connections: 1, payload: 64 } },
    });
    expect(doc.series.map((s) => [s.sli, s.origin])).toEqual([
      ['a_seconds', { file: 'suites/a.slo.test.ts', test: 'a > one' }],
      ['b_seconds', { file: 'suites/b.slo.test.ts', test: 'b' }],
    ]);
    expect(doc.environment).toEqual({ kubernetesVersion: 'v1.34.1', proxyMode: 'nftables', kernel: '6.18', nodes: [] });
    expect(doc.workload).toEqual({ connections: 3, payload: 64 });
    expect(doc.profile).toEqual({ name: 'strict' });
    expect(doc.kitVersion).toBe('9.9.9');
    expect(validateReport(doc)).toEqual([]);
  });

  test('the same series from two tests is kept under a distinct id', () => {
    const doc = collectReport({
      modules: [fakeModule('/r/x.ts', [{ name: 'one', meta: meta('a_seconds') }, { name: 'two', meta: meta('a_seconds') }])],
      root: '/r',
      startedAt: new Date(0),
      endedAt: new Date(1),
      defaults: { kitVersion: '1' },
    });
    expect(doc.series.map((s) => s.id)).toEqual(['a_seconds{source="capture",services="100"}', 'a_seconds{source="capture",services="100"}#2']);
    expect(validateReport(doc)).toEqual([]);
  });
});

describe('one report builder', () => {
  test("the reporter's document is buildReport's for the same results, plus each test as origin", () => {
    const results = (sli: string, labels: Record<string, string>) => [{ sli, source: 'capture', labels, samples: [1e-5, 2e-5, 3e-5] }];
    const env = { kubernetesVersion: 'v1.34.4', proxyMode: 'nftables', kernel: '6.18', nodes: [] };
    // tests in the order they ran: not the report's order
    const tests = [
      { name: 'z', meta: kubeSliMeta({ results: results('z_seconds', { services: '100' }), environment: env, workload: { clients: 2 }, profile: 'default' }) },
      { name: 'a', meta: kubeSliMeta({ results: results('a_seconds', { services: '1000' }) }) },
    ];
    const doc = collectReport({
      modules: [fakeModule('/r/suites/x.slo.test.ts', tests)],
      root: '/r',
      startedAt: new Date(0),
      endedAt: new Date(1000),
      defaults: { kitVersion: '1.2.3' },
    });
    const built = buildReport({
      kitVersion: '1.2.3',
      environment: env,
      workload: { clients: 2 },
      profile: 'default',
      startedAt: new Date(0),
      endedAt: new Date(1000),
      results: [...results('z_seconds', { services: '100' }), ...results('a_seconds', { services: '1000' })],
    });
    const { series, ...rest } = doc;
    const { series: builtSeries, ...builtRest } = built;
    expect(rest).toEqual(builtRest);
    expect(series.map(({ origin: _o, ...s }) => s)).toEqual(builtSeries);
    expect(series.map((s) => s.origin)).toEqual([
      { file: 'suites/x.slo.test.ts', test: 'a' },
      { file: 'suites/x.slo.test.ts', test: 'z' },
    ]);
  });

  test('a series reported twice is kept as id#2 with a warning', () => {
    const doc = collectReport({
      modules: [fakeModule('/r/x.ts', [{ name: 'one', meta: meta('a_seconds') }, { name: 'two', meta: meta('a_seconds') }])],
      root: '/r',
      startedAt: new Date(0),
      endedAt: new Date(1),
      defaults: { kitVersion: '1' },
    });
    expect(doc.series[1]?.notes).toEqual([{ kind: 'warning', text: 'the same series was also reported by another test; renamed to a_seconds{source="capture",services="100"}#2' }]);
  });
});

describe('KubeSliReporter', () => {
  test('an invalid report.json is refused when written, naming the JSONPath; nothing is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-sli-rep-'));
    const r = new KubeSliReporter({ outDir: join(dir, 'out'), log: () => undefined, stepSummary: false, formats: ['json', 'markdown'] });
    const doc = collectReport({
      modules: [fakeModule('/r/x.ts', [{ name: 't', meta: meta('a_seconds') }])],
      root: '/r',
      startedAt: new Date(0),
      endedAt: new Date(1),
      defaults: { kitVersion: '1' },
    });
    // a field the schema does not know, as an SLO spec with an unexpected key would carry
    (doc.series[0] as unknown as Record<string, unknown>).slo = { sli: 'a_seconds', thresholds: ['p(99)<1s'], minSamples: 1, owner: 'x' };
    const err = await r.emit(doc).then(
      () => undefined,
      (e: unknown) => e as ReportFileError,
    );
    expect(err).toBeInstanceOf(ReportFileError);
    expect(err?.message).toBe(`${join(dir, 'out', 'report.json')}: refusing to write an invalid report: $.series[0].slo: unknown property "owner"`);
    expect(err?.path).toBe('$.series[0].slo');
    await expect(readdir(join(dir, 'out'))).rejects.toThrow();
  });

  test('zero SLO results: prints "no SLO results", writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-sli-rep-'));
    let out = '';
    const r = new KubeSliReporter({ outDir: join(dir, 'out'), log: (t) => void (out += t), stepSummary: false });
    await r.onTestRunEnd([fakeModule('/r/x.ts', [{ name: 'plain' }])]);
    expect(out).toBe('kube-sli: no SLO results\n');
    expect(r.written).toEqual([]);
    await expect(readdir(join(dir, 'out'))).rejects.toThrow();
  });

  test('writes every format and appends the Markdown summary to the step summary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-sli-rep-'));
    let out = '';
    const summary = join(dir, 'step-summary.md');
    const r = new KubeSliReporter({ outDir: join(dir, 'out'), log: (t) => void (out += t), stepSummary: summary, kitVersion: '0.1.0' });
    await r.onTestRunEnd([fakeModule(join(process.cwd(), 'suites/x.slo.test.ts'), [{ name: 't', meta: meta('first_packet_latency_seconds') }])]);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['conformance.html', 'conformance.md', 'junit.xml', 'report.html', 'report.json', 'summary.md']);
    const json = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8'));
    expect(validateReport(json)).toEqual([]);
    expect(await readFile(summary, 'utf8')).toContain('kube-sli: measurements only (no SLOs)');
    expect(out).toContain('first_packet_latency_seconds');
    expect(out).toContain(`kube-sli: wrote ${join(dir, 'out', 'report.json')}`);
  });

  test('single-format reporters', async () => {
    let out = '';
    const r = new ConsoleSummaryReporter({ log: (t) => void (out += t), stepSummary: false });
    await r.onTestRunEnd([fakeModule('/r/x.ts', [{ name: 't', meta: meta('a_seconds') }])]);
    expect(out).toContain('a_seconds');
    expect(r.written).toEqual([]);
  });

  test('end to end: vitest loads the reporter by path; task.meta.kubeSli travels from the worker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-sli-e2e-'));
    let out = '';
    const reporterPath = fileURLToPath(new URL('../../../reporters/kube-sli.ts', import.meta.url));
    const options = { outDir: dir, log: (t: string) => void (out += t), stepSummary: false as const, kitVersion: '0.1.0' };
    const vitest = await startVitest(
      'test',
      [],
      { root: META_SUITE, config: false, include: ['**/*.fixture.ts'], watch: false, reporters: [[reporterPath, options]] },
      { cacheDir: join(dir, 'vite-cache') },
    );
    await vitest.close();
    const doc = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportDocument;
    expect(validateReport(doc)).toEqual([]);
    expect(doc.series).toHaveLength(1);
    const s = doc.series[0];
    expect(s?.id).toBe('first_packet_latency_seconds{source="capture",services="10000"}');
    expect(s?.origin).toEqual({ file: 'attach.fixture.ts', test: 'first packet at 10,000 Services' });
    expect(s?.verdict?.status).toBe('pass');
    expect(s?.slo?.origin).toBe('strict profile: lab, nftables');
    expect(s?.reservoir.values).toHaveLength(2000);
    expect(doc.environment.proxyMode).toBe('iptables');
    expect(doc.profile).toEqual({ name: 'strict' });
    expect(doc.kitVersion).toBe('0.1.0');
    expect((await readdir(dir)).filter((f) => !f.startsWith('vite-cache')).sort()).toEqual([
      'conformance.html',
      'conformance.md',
      'junit.xml',
      'report.html',
      'report.json',
      'summary.md',
    ]);
    expect(out).toContain('✓ conformant: all 1 SLOs passed');
  }, 60_000);
});
