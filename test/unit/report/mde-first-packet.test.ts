// The first-packet resolution of `kube-sli ab`, from a recorded bench (test/fixtures/ab/
// mde-first-packet/: 10 A/A runs and 10 runs with 200 nftables rules injected, each ab at its
// default rounds on a fresh lab): tallied as `npm run bench -- ab-tally` does, so the
// figures the README quotes come from these files.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictedMdeLines, readMdeRuns } from '../../../bench/ab-mde.bench.js';
import { gateFalseAlarms, MDE_SLIS, median, sliRows, tallyMde } from '../../../src/report/mde.js';

const DIR = join(import.meta.dirname, '../../fixtures/ab/mde-first-packet');
const P50 = 'first_packet_latency_seconds{source="capture",services="100"} p50';

describe('first-packet p50: 10 A/A runs and 10 runs at rules=200', async () => {
  const { runs, failed } = await readMdeRuns(DIR);
  const [row] = tallyMde(runs);

  it('every run kept has a verdict', () => {
    expect(runs).toHaveLength(20);
    expect(failed).toEqual([]);
  });
  it('A/A: the row was never flagged, and the gate failed 1 run of 10 (a client p99 row, while the machine also compiled)', () => {
    expect(row!.key).toBe(P50);
    expect(row!.aa).toMatchObject({ n: 10, k: 0 });
    expect(gateFalseAlarms(runs)).toEqual([{ suite: 'suites/first-packet-latency.slo.test.ts', k: 1, n: 10 }]);
    const failing = runs.filter((r) => r.size === undefined && r.exitCode === 1);
    expect(failing.map((r) => r.dir!.split('/').at(-1))).toEqual(['02-aa-first-packet-latency']);
    expect(failing[0]!.cmp.rows.filter((r) => r.verdict === 'regression').map((r) => `${r.seriesId} ${r.statistic}`)).toEqual(['first_packet_latency_seconds{source="client",services="100"} p99']);
  });
  it('without the round checks the pooled bootstrap would have failed 7 of the 10 A/A runs', () => {
    const aa = runs.filter((r) => r.size === undefined);
    const pooledRegression = aa.filter((r) => r.cmp.rows.some((x) => x.verdict === 'regression' || /pooled samples said regression/.test(x.note ?? '')));
    expect(pooledRegression).toHaveLength(7);
  });
  it('rules=200 measured +15 % (median) and was flagged in none of 10: the MDE is not reached, far above the 10 % target', () => {
    const s = row!.sizes[0]!;
    expect(s).toMatchObject({ size: { kind: 'rules', amount: 200 }, n: 10, k: 0 });
    expect(median(s.changes)).toBeCloseTo(0.152, 3);
    expect(row!.mde.reached).toBe(false);
    // the A/A changes of the same row span more than the injected effect
    expect(Math.min(...row!.aa.changes)).toBeLessThan(-0.15);
    expect(Math.max(...row!.aa.changes)).toBeGreaterThan(0.25);
  });
  it('the round spread of the A/A runs predicts the miss: sd 14 % of the mean, 6.8 sds at 2 rounds per side', async () => {
    const lines = await predictedMdeLines(runs);
    const spread = lines.find((l) => l.includes('round-to-round spread'))!;
    expect(spread).toMatch(/over 10 A\/A runs \(40 rounds\): sd 14\.1 % of the mean/);
    expect(spread).toMatch(/rounds per side 2: 6\.8 sd = 96 %; 3: 3\.6 sd = 51 %; 4: 3\.4 sd = 48 %/);
    expect(lines.find((l) => l.includes('each round position'))).toMatch(/1: -5\.0 %, 2: -1\.0 %, 3: \+3\.9 %, 4: \+2\.1 %/);
  });
  it('every run compared exactly one row of the SLI', () => {
    expect(runs.every((r) => sliRows(MDE_SLIS[0]!, r.cmp).length === 1)).toBe(true);
  });
});
