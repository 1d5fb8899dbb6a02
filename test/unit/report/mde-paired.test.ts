// The first-packet resolution of `kube-sli ab --paired`, from recorded benches: A/A runs and
// runs with 200 nftables rules injected, each `kube-sli ab --paired` on a fresh lab at 2,000
// connections per client, tallied as `npm run bench -- ab-tally` does, so the figures the
// README quotes come from these files.
// - test/fixtures/ab/mde-paired/: 4 runs per A/B (the default then). compare.json holds the
//   verdicts of the shipped paired test (node effect removed; `npm run bench -- ab-rejudge`
//   from the full rounds), compare.recorded.json what ab wrote then (the plain paired t).
// - test/fixtures/ab/mde-paired6/: 6 runs per A/B, the default now; compare.json is ab's own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedSides, pairedSpreadLines, readMdeRuns } from '../../../bench/ab-mde.bench.js';
import { statValue } from '../../../src/report/compare.js';
import { gateFalseAlarms, median, tallyMde } from '../../../src/report/mde.js';
import { roundTTest } from '../../../src/report/rounds.js';
import type { ComparisonDocument } from '../../../src/report/types.js';

const P50 = 'first_packet_latency_seconds{source="capture",path="same-node",services="100"} p50';

interface Bench {
  dir: string;
  /** paired runs per A/B */
  perAb: number;
  /** A/B runs of each kind (A/A, rules=200) */
  runs: number;
  aaFlagged: number;
  rulesFlagged: number;
  rulesMedian: number;
  reached: boolean;
  /** sd % of a round's level and of the difference of its two sides, over the A/A rounds */
  level: string;
  diff: string;
  /** ab's own verdicts when they were made by an older test (compare.recorded.json) */
  recorded?: { rules: number; aa: number };
}

const BENCHES: Bench[] = [
  { dir: 'mde-paired', perAb: 4, runs: 8, aaFlagged: 0, rulesFlagged: 5, rulesMedian: 0.0921, reached: false, level: '7.8', diff: '3.2', recorded: { rules: 6, aa: 0 } },
  { dir: 'mde-paired6', perAb: 6, runs: 10, aaFlagged: 0, rulesFlagged: 10, rulesMedian: 0.088, reached: true, level: '8.1', diff: '3.0' },
];

describe.each(BENCHES)('first-packet p50, ab --paired at $perAb runs: $runs A/A runs and $runs at rules=200 ($dir)', async (b) => {
  const { runs, failed } = await readMdeRuns(join(import.meta.dirname, '../../fixtures/ab', b.dir));
  const [row] = tallyMde(runs);

  it('every run kept has a verdict, and compares the same-node row only', () => {
    expect(runs).toHaveLength(2 * b.runs);
    expect(failed).toEqual([]);
    expect(row!.key).toBe(P50);
    expect(runs.every((r) => r.cmp.rows.every((x) => x.seriesId.includes('path="same-node"')))).toBe(true);
  });
  it('A/A: how often the row was flagged and a run failed the gate', () => {
    expect(row!.aa).toMatchObject({ n: b.runs, k: b.aaFlagged });
    expect(gateFalseAlarms(runs)).toEqual([{ suite: 'suites/first-packet-latency.slo.test.ts', k: b.aaFlagged, n: b.runs }]);
  });
  it(`rules=200: the measured change and how often it was flagged; the MDE ${b.reached ? 'is' : 'is not'} reached`, () => {
    const s = row!.sizes[0]!;
    expect(s).toMatchObject({ size: { kind: 'rules', amount: 200 }, n: b.runs, k: b.rulesFlagged });
    expect(median(s.changes)).toBeCloseTo(b.rulesMedian, 3);
    expect(row!.mde.reached).toBe(b.reached);
  });
  it.runIf(b.recorded)("ab's own verdicts then (compare.recorded.json)", async () => {
    const recorded = await Promise.all(runs.map(async (r) => JSON.parse(await readFile(join(r.dir!, 'compare.recorded.json'), 'utf8')) as ComparisonDocument));
    const flagged = (sized: boolean) => recorded.filter((c, i) => (runs[i]!.size !== undefined) === sized && c.rows.some((x) => `${x.seriesId} ${x.statistic}` === P50 && x.verdict === 'regression')).length;
    expect(flagged(true)).toBe(b.recorded!.rules);
    expect(flagged(false)).toBe(b.recorded!.aa);
  });
  it("pairing: how much a round's level moves, and the difference of its two sides (sd over the A/A rounds)", async () => {
    const lines = await pairedSpreadLines(runs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`paired A/A, ${b.runs} runs \\(${b.perAb * b.runs} rounds\\): a round's level moves by sd ${b.level} % from round to round; the difference of its two sides, measured at once, by sd ${b.diff} %`));
  });
  it("every flagged row's round-level t, recomputed from the kept rounds' p50s, is beyond its critical value (df = runs − 2)", async () => {
    const flagged = runs.filter((x) => x.cmp.rows.some((y) => y.verdict === 'regression'));
    expect(flagged.length).toBe(b.rulesFlagged + b.aaFlagged);
    for (const r of flagged) {
      const sides = (await pairedSides(r.dir!))!;
      const p = (d: (typeof sides.base)[number]) => statValue(d.series.find((x) => `${x.id} p50` === P50)!, 'p50');
      const t = roundTTest({ base: sides.base.map(p), candidate: sides.candidate.map(p) }, 0.95, 'paired')!;
      expect(t.df).toBe(b.perAb - 2);
      expect(t.significant).toBe(true);
    }
  });
});
