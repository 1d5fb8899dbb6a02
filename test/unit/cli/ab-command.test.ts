// kube-sli ab without a lab: argument validation (exit 2 before anything starts), the
// run order, and the rounds arithmetic (pooling, round-level check) on recorded reports
// the SLO suites wrote.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseAbArgs, runOrder, testNames } from '../../../src/cli/ab-command.js';
import { UsageError, EXIT } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';
import { compareReports } from '../../../src/report/compare.js';
import { poolRounds, roundCheck, roundsAgree, roundTTest } from '../../../src/report/rounds.js';
import type { ReportDocument } from '../../../src/report/types.js';

describe('kube-sli ab arguments', () => {
  it('the KEP-3453 pair: one version, a gate off for base and on for candidate', () => {
    const a = parseAbArgs(['--base', 'v1.27.16', '--base-arg=--feature-gates=MinimizeIPTablesRestore=false', '--candidate', 'v1.27.16', '--candidate-arg=--feature-gates=MinimizeIPTablesRestore=true', '--proxy-mode', 'iptables', 'suites/a.slo.test.ts']);
    expect(a).toMatchObject({
      base: 'v1.27.16',
      candidate: 'v1.27.16',
      baseArgs: ['--feature-gates=MinimizeIPTablesRestore=false'],
      candidateArgs: ['--feature-gates=MinimizeIPTablesRestore=true'],
      rounds: 2,
      proxyMode: 'iptables',
      suites: ['suites/a.slo.test.ts'],
    });
  });
  it.each([
    [['--candidate', 'lab'], /--base is required/],
    [['--base', 'lab'], /--candidate is required/],
    [['--base', 'lab', '--candidate', 'lab', '--rounds', '0'], /--rounds "0" must be a whole number from 1/],
    [['--base', 'lab', '--candidate', 'lab', '--rounds', '1.5'], /--rounds "1.5"/],
    [['--base', 'lab', '--candidate', 'lab', '--rounds', 'two'], /--rounds "two"/],
    [['--base', 'lab', '--candidate', 'lab', '--proxy-mode', 'ipvs'], /--proxy-mode "ipvs"/],
    [['--base', 'lab', '--candidate', 'lab', '--base-arg', 'feature-gates=A=true'], /--base-arg "feature-gates=A=true" must be one kube-proxy flag/],
    [['--base', 'lab', '--candidate', 'lab', '--nodes', '0'], /--nodes "0"/],
    [['--base', 'lab', '--candidate', 'lab', '--tolerance', 'lots'], /invalid tolerance/],
    [['--base', 'lab', '--candidate', 'lab', '--bogus'], /Unknown option/],
    [['--base', 'lab', '--candidate', 'lab', '--test', ''], /--test must not be empty/],
    [['--base', 'lab', '--candidate', 'lab', '--test', 'one (more'], /--test "one \(more" is not a regular expression/],
  ])('%j is refused', (argv, msg) => {
    expect(() => parseAbArgs(argv)).toThrow(UsageError);
    expect(() => parseAbArgs(argv)).toThrow(msg);
  });
  it('a suite file that does not exist: exit 2 before any kube-proxy or lab is touched', async () => {
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errs.push(m);
    try {
      expect(await main(['ab', '--base', 'lab', '--candidate', 'lab', 'suites/no-such.slo.test.ts'])).toBe(EXIT.invalidConfig);
    } finally {
      console.error = orig;
    }
    expect(errs.join('\n')).toMatch(/suite file suites\/no-such\.slo\.test\.ts does not exist/);
  });
  it('first-packet without --paired: a hint to measure both sides at once; with --paired, none', async () => {
    const run = async (extra: string[]): Promise<{ code: number; err: string }> => {
      const errs: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((m: string | Uint8Array) => errs.push(String(m)) > 0);
      const orig = console.error;
      console.error = (m: string) => void errs.push(m);
      try {
        // a base that is no kube-proxy: exit 2 right after the hint, nothing started
        return { code: await main(['ab', '--base', '/nonexistent/kube-proxy', '--candidate', 'lab', ...extra, 'suites/first-packet-latency.slo.test.ts']), err: errs.join('') };
      } finally {
        console.error = orig;
        spy.mockRestore();
      }
    };
    const plain = await run([]);
    expect(plain.code).toBe(EXIT.invalidConfig);
    expect(plain.err).toMatch(/first-packet latency: rounds in turn measure A and B at different moments.*--paired/);
    const paired = await run(['--paired']);
    expect(paired.code).toBe(EXIT.invalidConfig);
    expect(paired.err).toMatch(/nonexistent/);
    expect(paired.err).not.toMatch(/rounds in turn/);
  });
  it('--test selects tests by full name (vitest -t); a pattern no test of the suite has: exit 2 naming its tests', async () => {
    expect(parseAbArgs(['--base', 'lab', '--candidate', 'lab', '--test', 'one more Service', 'suites/programming-latency.slo.test.ts']).test).toBe('one more Service');
    expect(parseAbArgs(['--base', 'lab', '--candidate', 'lab']).test).toBeUndefined();
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errs.push(m);
    try {
      expect(await main(['ab', '--base', 'lab', '--candidate', 'lab', '--test', 'one less Service', 'suites/programming-latency.slo.test.ts', 'suites/programming-at-scale.slo.test.ts'])).toBe(EXIT.invalidConfig);
    } finally {
      console.error = orig;
    }
    expect(errs.join('\n')).toMatch(/--test "one less Service" matches no test name written in suites\/programming-latency\.slo\.test\.ts, suites\/programming-at-scale\.slo\.test\.ts/);
    expect(errs.join('\n')).toContain('network programming latency one more Service when the largest scale point already exists (partial sync)');
  });
  it('test names as vitest -t sees them: describe titles joined with the test title', async () => {
    const src = await readFile(join(import.meta.dirname, '../../../suites/programming-latency.slo.test.ts'), 'utf8');
    expect(testNames(src)).toEqual(['network programming latency a new Service with endpoints becomes reachable through its ClusterIP', 'network programming latency a Service with many endpoints is programmed']);
    const atScale = await readFile(join(import.meta.dirname, '../../../suites/programming-at-scale.slo.test.ts'), 'utf8');
    expect(testNames(atScale)).toEqual(['network programming latency one more Service when the largest scale point already exists (partial sync)']);
    expect(testNames("test.describe('outer', () => {\n  test.describe('inner', () => { test('a', () => {}); });\n  test('b', () => { if (x) { y(); } });\n});\ntest('c', () => {});")).toEqual(['outer inner a', 'outer b', 'c']);
  });
  it('runs interleave A B B A, then A B again', () => {
    expect(runOrder(1)).toEqual(['base', 'candidate']);
    expect(runOrder(2)).toEqual(['base', 'candidate', 'candidate', 'base']);
    expect(runOrder(3)).toEqual(['base', 'candidate', 'candidate', 'base', 'base', 'candidate']);
  });
});

describe('rounds: pooled compare with a round-level check', () => {
  const load = async (): Promise<ReportDocument> =>
    JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'fixtures', 'report', 'slo-suite', 'connection-total-latency.report.json'), 'utf8')) as ReportDocument;
  /** the recorded report with every sample of every series scaled (a known slowdown) */
  const scaled = (doc: ReportDocument, f: number): ReportDocument => ({
    ...doc,
    series: doc.series.map((s) => ({ ...s, reservoir: { ...s.reservoir, values: s.reservoir.values.map((x) => x * f) } })),
  });

  it('pools the samples of every round', async () => {
    const doc = await load();
    const pooled = poolRounds([doc, doc]).doc;
    const s0 = doc.series.find((s) => s.reservoir.values.length > 0)!;
    const p = pooled.series.find((s) => s.id === s0.id)!;
    expect(p.summary.count).toBe(2 * s0.reservoir.values.length);
    // every sample twice: the same median (the report stores it to ~1 ns)
    if (s0.reservoir.values.length === s0.summary.count) expect(Math.abs(p.summary.p50! - s0.summary.p50!) / s0.summary.p50!).toBeLessThan(1e-6);
  });
  it('A/A: the same rounds on both sides flag nothing', async () => {
    const doc = await load();
    const rounds = [poolRounds([doc]).doc, poolRounds([doc]).doc];
    const cmp = roundCheck(compareReports(poolRounds(rounds).doc, poolRounds(rounds).doc), rounds, rounds);
    expect(cmp.rows.length).toBeGreaterThan(0);
    expect(cmp.regressions).toBe(0);
    expect(cmp.outcome).toBe('no-regression');
  });
  it('a slowdown in every candidate round is a regression; the rounds agree', async () => {
    const doc = poolRounds([await load()]).doc;
    const base = [scaled(doc, 1), scaled(doc, 1.01)].map((d) => poolRounds([d]).doc);
    const cand = [scaled(doc, 1.5), scaled(doc, 1.6)].map((d) => poolRounds([d]).doc);
    const cmp = roundCheck(compareReports(poolRounds(base).doc, poolRounds(cand).doc), base, cand);
    const latency = cmp.rows.filter((r) => r.dimension === 'time' && r.statistic === 'p50' && r.baseSamples > 100);
    expect(latency.length).toBeGreaterThan(0);
    expect(latency.every((r) => r.verdict === 'regression')).toBe(true);
    expect(latency[0]!.note).toMatch(/every round agrees/);
    expect(cmp.outcome).toBe('regression');
  });
  it('one drifted round alone is not counted, and says why', async () => {
    const doc = poolRounds([await load()]).doc;
    const base = [scaled(doc, 1), scaled(doc, 1)].map((d) => poolRounds([d]).doc);
    // one candidate round 3× slower (the machine was busy), the other the same as base
    const cand = [scaled(doc, 3), scaled(doc, 1)].map((d) => poolRounds([d]).doc);
    const pooled = compareReports(poolRounds(base).doc, poolRounds(cand).doc);
    expect(pooled.regressions).toBeGreaterThan(0);
    const cmp = roundCheck(pooled, base, cand);
    expect(cmp.regressions).toBe(0);
    expect(cmp.outcome).toBe('no-regression');
    expect(cmp.rows.some((r) => /rounds overlap/.test(r.note ?? ''))).toBe(true);
  });
  it('rounds in order but closer than their own spread: not counted, with the t test in the note', async () => {
    const doc = poolRounds([await load()]).doc;
    // every candidate round above every base round (the 1-in-6 ordering of an A/A), +10 %
    // on average, while the base rounds themselves differ by 10 %
    const base = [scaled(doc, 1), scaled(doc, 1.1)].map((d) => poolRounds([d]).doc);
    const cand = [scaled(doc, 1.12), scaled(doc, 1.2)].map((d) => poolRounds([d]).doc);
    const pooled = compareReports(poolRounds(base).doc, poolRounds(cand).doc);
    expect(pooled.regressions).toBeGreaterThan(0);
    const cmp = roundCheck(pooled, base, cand);
    expect(cmp.regressions).toBe(0);
    expect(cmp.rows.some((r) => /differ by less than their own spread .*t = 1\.\d\d, df 2, critical 4\.30/.test(r.note ?? ''))).toBe(true);
  });
  it("roundTTest: Student's t on the rounds' statistics, at the comparison's confidence", () => {
    // means 1.5 and 3.5, pooled variance 0.5, se √0.5: t = 2√2; t(0.975, 2) = 4.303
    const r = roundTTest({ base: [1, 2], candidate: [3, 4] }, 0.95)!;
    expect(r.t).toBeCloseTo(2 * Math.SQRT2, 10);
    expect(r.df).toBe(2);
    expect(r.critical).toBeCloseTo(4.3027, 4);
    expect(r.significant).toBe(false);
    // a consistent shift well beyond the spread
    expect(roundTTest({ base: [1, 1.01, 1.02], candidate: [1.5, 1.52, 1.49] }, 0.95)!.significant).toBe(true);
    // at 80 % the bar is lower: t(0.9, 2) = 1.886
    expect(roundTTest({ base: [1, 2], candidate: [3, 4] }, 0.8)!.significant).toBe(true);
    // identical rounds: no spread, a difference is beyond it and none is not
    expect(roundTTest({ base: [2, 2], candidate: [3, 3] }, 0.95)!.t).toBe(Infinity);
    expect(roundTTest({ base: [2, 2], candidate: [2, 2] }, 0.95)!.significant).toBe(false);
    // not formed: a side with one round, or a round without a value
    expect(roundTTest({ base: [1], candidate: [3, 4] }, 0.95)).toBeUndefined();
    expect(roundTTest({ base: [1, null], candidate: [3, 4] }, 0.95)).toBeUndefined();
  });
  it('roundsAgree needs every round on one side, and values on every round', () => {
    expect(roundsAgree({ base: [1, 2], candidate: [3, 4] }, true)).toBe(true);
    expect(roundsAgree({ base: [1, 3.5], candidate: [3, 4] }, true)).toBe(false);
    expect(roundsAgree({ base: [3, 4], candidate: [1, 2] }, false)).toBe(true);
    expect(roundsAgree({ base: [1, null], candidate: [3, 4] }, true)).toBe(false);
  });
});
