// kube-sli ab --paired without a lab: the run plan over the nodes, the split of a paired
// round's report into its two sides, and the paired round-level test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedPlan, parseAbArgs } from '../../../src/cli/ab-command.js';
import { EXIT, UsageError } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';
import type { KubeProxyChoice } from '../../../src/lab/kube-proxy-choice.js';
import { pairedOrder, splitPairedRound } from '../../../src/report/paired.js';
import { pairedT, roundCheck, roundsAgree, roundTTest } from '../../../src/report/rounds.js';
import { buildSeries } from '../../../src/report/series.js';
import { compareReports } from '../../../src/report/compare.js';
import type { ReportDocument, SeriesRecord } from '../../../src/report/types.js';

const series = (labels: Record<string, string>, samples: number[]): SeriesRecord => buildSeries({ sli: 'first_packet_latency_seconds', source: 'capture', labels, samples });
// a report the SLO suites wrote, its series replaced
const recorded = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'report', 'slo-suite', 'connection-total-latency.report.json'), 'utf8')) as ReportDocument;
const doc = (s: SeriesRecord[]): ReportDocument => ({ ...recorded, series: s });
const ramp = (from: number, n: number, step = 1e-7): number[] => Array.from({ length: n }, (_, i) => from + i * step);

describe('kube-sli ab --paired arguments and plan', () => {
  it('defaults to 6 runs; odd runs or an odd number of nodes are refused', () => {
    expect(parseAbArgs(['--base', 'lab', '--candidate', 'lab', '--paired'])).toMatchObject({ paired: true, rounds: 6 });
    expect(parseAbArgs(['--base', 'lab', '--candidate', 'lab'])).toMatchObject({ paired: false, rounds: 2 });
    expect(() => parseAbArgs(['--base', 'lab', '--candidate', 'lab', '--paired', '--rounds', '3'])).toThrow(UsageError);
    expect(() => parseAbArgs(['--base', 'lab', '--candidate', 'lab', '--paired', '--rounds', '3'])).toThrow(/must be even/);
    expect(() => parseAbArgs(['--base', 'lab', '--candidate', 'lab', '--paired', '--nodes', '3'])).toThrow(/--nodes 3 with --paired must be even/);
  });
  it('a suite that cannot split by node: exit 2 before anything starts, naming the one that can', async () => {
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errs.push(m);
    try {
      expect(await main(['ab', '--base', 'lab', '--candidate', 'lab', '--paired', 'suites/programming-latency.slo.test.ts'])).toBe(EXIT.invalidConfig);
    } finally {
      console.error = orig;
    }
    expect(errs.join('\n')).toMatch(/suites\/programming-latency\.slo\.test\.ts: --paired measures only suites\/first-packet-latency\.slo\.test\.ts .*run this suite without --paired/);
  });
  it('every node runs each side equally often, in the A B B A pattern', () => {
    expect(pairedOrder(4)).toEqual([0, 1, 1, 0]);
    expect(pairedOrder(6)).toEqual([0, 1, 1, 0, 0, 1]);
    const a = { version: 'A' } as KubeProxyChoice;
    const b = { version: 'B' } as KubeProxyChoice;
    const plan = pairedPlan(2, ['n1', 'n0'], { base: a, candidate: b });
    expect(plan.map((p) => p.what)).toEqual(['base on n0, candidate on n1', 'base on n1, candidate on n0']);
    const first = plan[0]!;
    if (first.side !== 'paired' || typeof first.choice !== 'function') throw new Error('a paired plan');
    expect([first.choice('n0').version, first.choice('n1').version]).toEqual(['A', 'B']);
    expect(() => pairedPlan(2, ['n0', 'n1', 'n2'], { base: a, candidate: b })).toThrow(/even number of nodes; the lab has 3/);
  });
});

describe('splitPairedRound', () => {
  it("gives each side its nodes' series without the node label, and names what it could not attribute", () => {
    const d = doc([
      series({ services: '100', path: 'same-node', clientNode: 'n0' }, ramp(40e-6, 300)),
      series({ services: '100', path: 'same-node', clientNode: 'n1' }, ramp(50e-6, 300)),
      series({ services: '100' }, ramp(45e-6, 600)),
      series({ services: '100', path: 'same-node', clientNode: 'n9' }, ramp(45e-6, 10)),
    ]);
    const s = splitPairedRound(d, new Set(['n0']), new Set(['n1']));
    expect(s.base.series.map((x) => x.id)).toEqual(['first_packet_latency_seconds{source="capture",path="same-node",services="100"}']);
    expect(s.candidate.series.map((x) => x.id)).toEqual(s.base.series.map((x) => x.id));
    expect(s.base.series[0]!.summary.p50).toBeCloseTo(40e-6 + 149.5e-7, 12);
    expect(s.candidate.series[0]!.summary.p50).toBeCloseTo(50e-6 + 149.5e-7, 12);
    expect(s.base.series[0]!.notes?.some((n) => /measured on n0/.test(n.text))).toBe(true);
    expect(s.unattributed).toEqual(['first_packet_latency_seconds{source="capture",services="100"}']);
    expect(s.strangers).toEqual(['n9']);
  });
  it('pools the series of several nodes of one side', () => {
    const d = doc([series({ clientNode: 'n0' }, ramp(40e-6, 100)), series({ clientNode: 'n2' }, ramp(40e-6, 50)), series({ clientNode: 'n1' }, ramp(50e-6, 100))]);
    const s = splitPairedRound(d, new Set(['n0', 'n2']), new Set(['n1', 'n3']));
    expect(s.base.series[0]!.summary.count).toBe(150);
    expect(s.candidate.series[0]!.summary.count).toBe(100);
  });
});

describe('the paired round-level test', () => {
  it("paired t of the runs' differences with the node effect removed, df runs − 2", () => {
    // differences 1, 1.2, 0.8, 1 with the candidate on node halves 1 0 0 1: Δ 1, node effect 0,
    // residuals 0, 0.2, −0.2, 0: se = √(0.08 / 2 / 4) = 0.1, t = 10
    const r = pairedT([10, 20, 30, 40], [11, 21.2, 30.8, 41]);
    expect(r.df).toBe(2);
    expect(r.nodeEffect).toBeCloseTo(0, 12);
    expect(r.t).toBeCloseTo(10, 8);
    // the same values as two independent samples: the rounds' own spread drowns the shift
    expect(roundTTest({ base: [10, 20, 30, 40], candidate: [11, 21.2, 30.8, 41] }, 0.95)!.significant).toBe(false);
    expect(roundTTest({ base: [10, 20, 30, 40], candidate: [11, 21.2, 30.8, 41] }, 0.95, 'paired')!.significant).toBe(true);
  });
  it('a node that is slower whoever runs there: its effect is estimated and removed, not taken for spread', () => {
    // Δ = 1 and one node 3 slower: differences 4.1, −2, −2.1, 4 (candidate on the slow node in runs 1 and 4)
    const base = [10, 10, 10, 10];
    const cand = [14.1, 8, 7.9, 14];
    const r = pairedT(base, cand);
    expect(r.nodeEffect).toBeCloseTo(3.05, 10);
    expect(r.t).toBeGreaterThan(20);
    expect(roundTTest({ base, candidate: cand }, 0.95, 'paired')!.significant).toBe(true);
    // each run alone would say the sides swap places; every swap (runs 1-2, 3-4) moves the same way
    expect(roundsAgree({ base, candidate: cand }, true, 'paired')).toBe(true);
    // fewer than 4 runs: no t test
    expect(roundTTest({ base: [10, 10], candidate: [11, 11] }, 0.95, 'paired')).toBeUndefined();
    expect(() => pairedT([1, 2], [2, 3])).toThrow(/at least 4/);
  });
  it('agreement is per swap: every two runs (each node once on each side) move the same way', () => {
    expect(roundsAgree({ base: [10, 20], candidate: [11, 21] }, true, 'paired')).toBe(true);
    // sequentially these overlap, paired they agree
    expect(roundsAgree({ base: [10, 20], candidate: [11, 21] }, true)).toBe(false);
    expect(roundsAgree({ base: [10, 20], candidate: [11, 19] }, true, 'paired')).toBe(false);
    expect(roundsAgree({ base: [10, 20], candidate: [11] }, true, 'paired')).toBe(false);
  });
  it('a shift every pair shows is a regression; one that changes sign is not counted, and says so', () => {
    const mk = (f: number[]) => f.map((x) => doc([series({ services: '100' }, ramp(40e-6 * x, 300))]));
    const base = mk([1, 1.2, 0.9, 1.1]);
    const worse = mk([1.3, 1.56, 1.17, 1.43]);
    const pooled = (ds: ReportDocument[]) => doc([series({ services: '100' }, ds.flatMap((d) => d.series[0]!.reservoir.values))]);
    const hit = roundCheck(compareReports(pooled(base), pooled(worse)), base, worse, 'paired');
    expect(hit.rows.find((r) => r.statistic === 'p50')!.verdict).toBe('regression');
    expect(hit.rows.find((r) => r.statistic === 'p50')!.note).toMatch(/paired t of the runs' differences, node effect removed, t = 13\.\d\d, df 2, critical 4\.30/);
    // the second swap moves the other way
    const mixed = mk([1.8, 1.5, 0.8, 1.05]);
    const miss = roundCheck(compareReports(pooled(base), pooled(mixed)), base, mixed, 'paired');
    const row = miss.rows.find((r) => r.statistic === 'p50')!;
    expect(row.verdict).toBe('no-significant-change');
    expect(row.note).toMatch(/pooled samples said regression, but the swaps disagree/);
  });
});
