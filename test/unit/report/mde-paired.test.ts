// The first-packet resolution of `kube-sli ab --paired`, from a recorded bench (test/fixtures/
// ab/mde-paired/: A/A runs and runs with 200 nftables rules injected, each ab --paired at its
// default 4 runs on a fresh lab, 2,000 connections per client): tallied as `npm run bench --
// ab-tally` does, so the figures the README quotes come from these files. compare.json holds
// the verdicts of the shipped paired test (node effect removed; `npm run bench -- ab-rejudge`
// from the full rounds), compare.recorded.json what ab wrote then (the plain paired t).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedSides, pairedSpreadLines, readMdeRuns } from '../../../bench/ab-mde.bench.js';
import { statValue } from '../../../src/report/compare.js';
import { gateFalseAlarms, median, tallyMde } from '../../../src/report/mde.js';
import { roundTTest } from '../../../src/report/rounds.js';
import type { ComparisonDocument } from '../../../src/report/types.js';

const DIR = join(import.meta.dirname, '../../fixtures/ab/mde-paired');
const P50 = 'first_packet_latency_seconds{source="capture",path="same-node",services="100"} p50';
const RUNS = 8;

describe(`first-packet p50, ab --paired: ${RUNS} A/A runs and ${RUNS} runs at rules=200`, async () => {
  const { runs, failed } = await readMdeRuns(DIR);
  const [row] = tallyMde(runs);

  it('every run kept has a verdict, and compares the same-node row only', () => {
    expect(runs).toHaveLength(2 * RUNS);
    expect(failed).toEqual([]);
    expect(row!.key).toBe(P50);
    expect(runs.every((r) => r.cmp.rows.every((x) => x.seriesId.includes('path="same-node"')))).toBe(true);
  });
  it('A/A: the row was never flagged and no run failed the gate', () => {
    expect(row!.aa).toMatchObject({ n: RUNS, k: 0 });
    expect(gateFalseAlarms(runs)).toEqual([{ suite: 'suites/first-packet-latency.slo.test.ts', k: 0, n: RUNS }]);
  });
  it('rules=200: +9.2 % (median), flagged 5 of 8 by the shipped test: below 9 in 10, the MDE is not reached', () => {
    const s = row!.sizes[0]!;
    expect(s).toMatchObject({ size: { kind: 'rules', amount: 200 }, n: RUNS, k: 5 });
    expect(median(s.changes)).toBeCloseTo(0.0921, 3);
    expect(row!.mde.reached).toBe(false);
  });
  it("ab's own verdicts then (the plain paired t, df 3): 6 of 8 at rules=200, 0 A/A", async () => {
    const recorded = await Promise.all(runs.map(async (r) => JSON.parse(await readFile(join(r.dir!, 'compare.recorded.json'), 'utf8')) as ComparisonDocument));
    const flagged = (sized: boolean) => recorded.filter((c, i) => (runs[i]!.size !== undefined) === sized && c.rows.some((x) => `${x.seriesId} ${x.statistic}` === P50 && x.verdict === 'regression')).length;
    expect(flagged(true)).toBe(6);
    expect(flagged(false)).toBe(0);
  });
  it("pairing: a round's level moves by 7.8 %, the difference of its two sides by 3.2 % (sd over the A/A rounds)", async () => {
    const lines = await pairedSpreadLines(runs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`paired A/A, ${RUNS} runs \\(${4 * RUNS} rounds\\): a round's level moves by sd 7.8 % from round to round; the difference of its two sides, measured at once, by sd 3.2 %`));
  });
  it("every flagged row's round-level t, recomputed from the kept rounds' p50s, is beyond its critical value", async () => {
    for (const r of runs.filter((x) => x.cmp.rows.some((y) => y.verdict === 'regression'))) {
      const sides = (await pairedSides(r.dir!))!;
      const p = (d: (typeof sides.base)[number]) => statValue(d.series.find((x) => `${x.id} p50` === P50)!, 'p50');
      const t = roundTTest({ base: sides.base.map(p), candidate: sides.candidate.map(p) }, 0.95, 'paired')!;
      expect(t.df).toBe(2);
      expect(t.significant).toBe(true);
    }
  });
});
