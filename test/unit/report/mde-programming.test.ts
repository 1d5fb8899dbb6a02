// The +1-Service programming resolution of `kube-sli ab`, from recorded benches
// (test/fixtures/ab/mde-programming/: A/A runs and runs with each kube-proxy rules write
// delayed 25 ms or 50 ms, each ab at its default rounds on a fresh lab, the one-more-Service
// case alone): tallied as `npm run bench -- ab-tally` does, so the figures the README
// quotes come from these files.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictedMdeLines, readMdeRuns } from '../../../bench/ab-mde.bench.js';
import { gateFalseAlarms, median, tallyMde } from '../../../src/report/mde.js';

const DIR = join(import.meta.dirname, '../../fixtures/ab/mde-programming');
const P50 = 'network_programming_latency_seconds{source="prober",case="one-more-service",services="100"} p50';

describe('+1-Service programming p50: A/A runs and runs at sync=25ms and sync=50ms', async () => {
  const parts = await Promise.all(['sequential', 'second', 'aa', 'sync-25ms'].map((d) => readMdeRuns(join(DIR, d))));
  const runs = parts.flatMap((p) => p.runs);
  const row = tallyMde(runs).find((r) => r.key === P50)!;

  it('every run kept has a verdict', () => {
    expect(parts.flatMap((p) => p.failed)).toEqual([]);
    expect(runs).toHaveLength(25);
  });
  it('A/A: the row was never flagged and the gate never failed', () => {
    expect(row.aa).toMatchObject({ n: 13, k: 0 });
    expect(gateFalseAlarms(runs)).toEqual([{ suite: 'suites/programming-latency.slo.test.ts', k: 0, n: 13 }]);
  });
  it('sync=25ms (+19.9 % measured) was flagged in 10 of 10: the MDE is at or below it, inside the 20 % target', () => {
    const s25 = row.sizes.find((s) => s.size.amount === 25)!;
    expect(s25).toMatchObject({ n: 10, k: 10 });
    expect(median(s25.changes)).toBeCloseTo(0.199, 3);
    expect(row.mde).toMatchObject({ reached: true, size: { kind: 'sync', amount: 25 } });
    const s50 = row.sizes.find((s) => s.size.amount === 50)!;
    expect(s50).toMatchObject({ n: 2, k: 2 });
  });
  it('the rounds are tight: sd 0.8 % of the mean, so the 5 % tolerance is the floor', async () => {
    const lines = await predictedMdeLines(runs);
    expect(lines.find((l) => l.includes('round-to-round spread'))).toMatch(/sd 0\.8 % of the mean .*never below the comparison's tolerance, 5 %/);
  });
});
