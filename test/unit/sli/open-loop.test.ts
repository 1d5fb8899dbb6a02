import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { behindSchedule, intervalRates, openLoopStats, quantile, schedule, type RequestRecord } from '../../../src/sli/index.js';
import { lagCheck, repeatCheck, toRecords, type PathFigures } from '../../../measurements/request-overhead.js';
import type { HttpRequestTuple } from '../../../src/workload/loadgen.js';

// A real recording (test/fixtures/overhead/record-stall.mts): open loop at 500 req/s on one
// kept-alive connection for 2 s; the server held its 200th response for 200 ms.
const recorded = JSON.parse(readFileSync(new URL('../../fixtures/overhead/stall.json', import.meta.url), 'utf8')) as {
  results: HttpRequestTuple[];
  spec: { ratePerSecond: number; durationMs: number };
  stalledRequest: number;
};

describe('wrk2 schedule', () => {
  test('request j is due at j / rate on connection j mod connections', () => {
    const s = schedule(1000, 4, 10_000);
    expect(s).toEqual([
      [0, 4000, 8000],
      [1000, 5000, 9000],
      [2000, 6000],
      [3000, 7000],
    ]);
  });

  test('bad input is refused', () => {
    expect(() => schedule(0, 1, 1000)).toThrow(/must all be positive/);
    expect(() => schedule(10, 0, 1000)).toThrow(/must all be positive/);
  });
});

describe('open-loop latency on a recorded stall', () => {
  const records = toRecords(recorded.results);
  const st = openLoopStats(records, { ratePerSecond: recorded.spec.ratePerSecond, durationUs: recorded.spec.durationMs * 1000, lateUs: 1000 });

  test('every request due in the run was sent and answered', () => {
    expect(st.requested).toBe(1000);
    expect(st.completed).toBe(1000);
    expect(st.failed).toBe(0);
  });

  test('counted from the due time, the requests queued behind the stall show their wait', () => {
    // ~100 requests were due during the 200 ms stall (500/s); the first half waited over 100 ms
    const slow = st.latencyUs.filter((l) => l >= 100_000).length;
    expect(slow).toBeGreaterThanOrEqual(40);
    expect(quantile(st.latencyUs, 0.99)).toBeGreaterThan(100_000);
  });

  test('counted from the send, as a closed-loop client would, the stall is one slow response', () => {
    const slow = st.serviceUs.filter((l) => l >= 100_000).length;
    expect(slow).toBe(1);
    expect(quantile(st.serviceUs, 0.99)).toBeLessThan(50_000);
  });

  test('the queueing is the system\'s, not the generator\'s: the sends behind the stall waited for their connection, not for the generator', () => {
    const stalled = recorded.stalledRequest - 1;
    expect(records[stalled]!.doneUs! - records[stalled]!.sentUs).toBeGreaterThanOrEqual(200_000);
    const queued = records.slice(stalled + 1).filter((r) => r.sentUs - r.dueUs > 100_000);
    expect(queued.length).toBeGreaterThanOrEqual(40);
    for (const r of queued) expect(r.sentUs - Math.max(r.dueUs, r.freeUs)).toBeLessThan(1000);
  });
});

describe('the generator falling behind', () => {
  // 1000/s on one connection, 100 µs per response; 5 % of sends are 5 ms late on a free connection
  const records: RequestRecord[] = Array.from({ length: 1000 }, (_, j) => {
    const dueUs = j * 1000;
    const sentUs = dueUs + (j % 20 === 0 ? 5000 : 10);
    return { dueUs, sentUs, freeUs: dueUs - 900, doneUs: sentUs + 100 };
  });
  const st = openLoopStats(records, { ratePerSecond: 1000, durationUs: 1e6, lateUs: 1000 });

  test('its lag is measured apart from latency', () => {
    expect(st.lateShare).toBeCloseTo(0.05, 5);
    expect(quantile(st.lagUs, 0.5)).toBe(10);
  });

  test('is a reason not to judge, never a silent pass', () => {
    expect(behindSchedule(st, { lateUs: 1000, maxLateShare: 0.01 })).toMatch(/fell behind its schedule: 5\.00 % of requests were sent more than 1000 µs after/);
    // taken out of each request's latency, the lag leaves the system's own 100 µs
    expect(Math.max(...st.latencyLessLagUs)).toBe(100);
    expect(quantile(st.latencyUs, 0.99)).toBeGreaterThan(5000);
    expect(behindSchedule(st, { lateUs: 1000, maxLateShare: 0.1 })).toBeUndefined();
  });

  test('requests never sent are counted and make the run unfit', () => {
    const cut = openLoopStats(records.slice(0, 900), { ratePerSecond: 1000, durationUs: 1e6, lateUs: 1000, unsent: 100 });
    expect(cut.requested).toBe(1000);
    expect(behindSchedule(cut, { lateUs: 1000, maxLateShare: 0.1 })).toMatch(/did not sustain the rate: 100 of 1000 requests due in the run were never sent/);
  });

  test('a failed request has no latency and counts as failed', () => {
    const f = openLoopStats([{ dueUs: 0, sentUs: 0, freeUs: 0 }, { dueUs: 1000, sentUs: 1000, freeUs: 0, doneUs: 1100 }], { ratePerSecond: 1000, durationUs: 2000, lateUs: 1000 });
    expect(f.failed).toBe(1);
    expect(f.latencyUs).toEqual([100]);
  });
});

describe('interval rates', () => {
  test('completions per interval as a rate, without the first and last interval', () => {
    const done = [10, 20, 150, 160, 170, 250, 260, 390];
    expect(intervalRates(done, 100, 400)).toEqual([30_000, 20_000]);
  });
});

describe('a p99 ratio verdict beside the generator\'s lag', () => {
  const slo = { sli: 'clusterip_request_p99_ratio', thresholds: ['ratio<=3'], minSamples: 100 };
  const fig = (path: PathFigures['path'], latency: number, lag: number, o: Partial<PathFigures> = {}): PathFigures => ({
    path,
    mode: 'open',
    runs: 1,
    requests: 1000,
    failed: 0,
    perSecond: 500,
    intervalRates: [],
    latency: Array.from({ length: 1000 }, (_, i) => latency + i * 1e-7),
    latencyLessLag: Array.from({ length: 1000 }, (_, i) => latency - lag + i * 1e-7),
    latencyPerRun: [Array.from({ length: 1000 }, (_, i) => latency + i * 1e-7)],
    ...o,
  });
  const host = fig('host-network', 0.001, 0, { late: 'host-network: the generator fell behind its schedule: 5.00 %' });

  test('inconclusive when the lag could have decided it', () => {
    // 5 ms measured, of which 4 ms was the generator's: fail as measured, pass without the lag
    const c = lagCheck(slo, fig('cluster-ip', 0.005, 0.004), host);
    expect(c.invalid).toMatch(/with each request's own lag taken out the verdict would be pass \(ratio 1\.0\d+, measured 4\.\d+\)/);
  });

  test('the verdict stands, with the lag reported, when it could not have', () => {
    const c = lagCheck(slo, fig('cluster-ip', 0.010, 0.001), host);
    expect(c.invalid).toBeUndefined();
    expect(c.notes.join()).toMatch(/the verdict is the same with each request's own lag taken out/);
  });

  test('requests never sent are always inconclusive', () => {
    const c = lagCheck(slo, fig('cluster-ip', 0.010, 0, { unsustained: 'cluster-ip: the generator did not sustain the rate' }), fig('host-network', 0.001, 0));
    expect(c.invalid).toMatch(/did not sustain the rate/);
  });

  test('no lag, nothing to say', () => {
    expect(lagCheck(slo, fig('cluster-ip', 0.002, 0), fig('host-network', 0.001, 0))).toEqual({ notes: [] });
  });
});

describe('a failed p99 ratio must be reproduced by every repeat', () => {
  const slo = { sli: 'clusterip_request_p99_ratio', thresholds: ['ratio<=3'], minSamples: 100 };
  // constructed runs of 1,000 requests: ~1 ms each; a stalled run has its last 5 % queued 50 ms
  const run = (ms: number, stalled = false): number[] => Array.from({ length: 1000 }, (_, i) => (stalled && i >= 950 ? 0.05 : ms / 1000) + i * 1e-8);
  const figs = (path: PathFigures['path'], runs: number[][]): PathFigures => ({
    path,
    mode: 'open',
    runs: runs.length,
    requests: runs.flat().length,
    failed: 0,
    perSecond: 500,
    intervalRates: [],
    latency: runs.flat(),
    latencyLessLag: runs.flat(),
    latencyPerRun: runs,
  });
  const host = figs('host-network', [run(1), run(1)]);

  test('one run\'s stall fails the pooled ratio, but not the other repeat: inconclusive, with each ratio', () => {
    const c = repeatCheck(slo, figs('cluster-ip', [run(1, true), run(1)]), host);
    expect(c.ratios[0]).toBeGreaterThan(3);
    expect(c.ratios[1]).toBeCloseTo(1, 3);
    expect(c.invalid).toMatch(/the pooled p99 ratio fails but 1 of 2 repeats do not \(repeat 1: \d+\.\d{3}, repeat 2: 1\.000\)/);
  });

  test('a slow path in every repeat fails as measured', () => {
    expect(repeatCheck(slo, figs('cluster-ip', [run(1, true), run(1, true)]), host).invalid).toBeUndefined();
    expect(repeatCheck(slo, figs('cluster-ip', [run(5), run(5)]), host).invalid).toBeUndefined();
  });

  test('a repeat too small for an interval of its own still confirms by its ratio', () => {
    const few = (ms: number): number[] => run(ms).slice(0, 300);
    const slo500 = { ...slo, minSamples: 500 };
    const c = repeatCheck(slo500, figs('cluster-ip', [few(50), few(50)]), figs('host-network', [few(1), few(1)]));
    expect(c.invalid).toBeUndefined();
    expect(c.ratios.every((x) => x > 3)).toBe(true);
  });

  test('a pass stands on the pooled samples', () => {
    const c = repeatCheck(slo, figs('cluster-ip', [run(1.5), run(1)]), host);
    expect(c.invalid).toBeUndefined();
    expect(c.ratios[0]).toBeCloseTo(1.5, 2);
  });
});
