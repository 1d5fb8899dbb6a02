import { describe, expect, test } from 'vitest';
import { creationWindow, failureRatio, networkReadySeconds, podReadySample, readyThroughput, type PodTimeline } from '../../../src/sli/network-ready.js';

const MS = 1_000_000n;
const S = 1_000_000_000n;
// 2026-11-29T12:00:00.400Z on the runner's clock
const T0 = 1_795_953_600n * S + 400n * MS;

/** A pod created at T0 (create call 4 ms), seen ADDED 6 ms later, ready per source at the given ms after T0 (runner's clock). */
function timeline(o: Partial<PodTimeline> & { readyMs?: Partial<Record<'pod-ip' | 'egress' | 'service', number>>; offsetNs?: bigint; uncertaintyNs?: bigint } = {}): PodTimeline {
  const off = o.offsetNs ?? 0n;
  const ready: PodTimeline['ready'] = {};
  for (const [k, v] of Object.entries(o.readyMs ?? { 'pod-ip': 900, egress: 700, service: 1200 })) {
    // the prober's clock reads runner + offset
    ready[k as 'pod-ip'] = { ns: T0 + BigInt(v) * MS + off, offsetNs: off, uncertaintyNs: o.uncertaintyNs ?? 2n * MS, attempts: 30 };
  }
  return {
    pod: 'nr-1',
    createSentNs: T0,
    createReturnedNs: T0 + 4n * MS,
    addedSeenNs: T0 + 6n * MS,
    creationTimestampS: 1_795_953_600,
    probeIntervalNs: 10n * MS,
    ready,
    ...o,
  };
}

describe('creation window', () => {
  test('the runner\'s create call bounds it; creationTimestamp agrees and does not widen it', () => {
    const w = creationWindow(timeline());
    expect(w.fromNs).toBe(T0);
    expect(w.toNs).toBe(T0 + 4n * MS);
    expect(w.basis).toBe('create sent + create returned + watch ADDED + creationTimestamp');
    expect(w.notes).toEqual([]);
  });

  test('creationTimestamp narrows the window when the call straddles a second', () => {
    // sent at .998, returned at 1.010: the API stamped 12:00:01, so creation >= 1.000
    const sent = 1_795_953_600n * S + 998n * MS;
    const w = creationWindow(timeline({ createSentNs: sent, createReturnedNs: sent + 12n * MS, addedSeenNs: sent + 15n * MS, creationTimestampS: 1_795_953_601 }));
    expect(w.fromNs).toBe(1_795_953_601n * S);
    expect(w.toNs).toBe(sent + 12n * MS);
  });

  test('an API server clock 3 s ahead: creationTimestamp is set aside with a note, the runner\'s instants stand', () => {
    const w = creationWindow(timeline({ creationTimestampS: 1_795_953_603 }));
    expect(w.fromNs).toBe(T0);
    expect(w.toNs).toBe(T0 + 4n * MS);
    expect(w.notes.join(' ')).toMatch(/API server's clock differs/);
  });

  test('missing events: only the watch event → a 1 s window before it; only creationTimestamp → its second', () => {
    const onlyWatch = creationWindow({ pod: 'p', addedSeenNs: T0, ready: {}, probeIntervalNs: 10n * MS });
    expect(onlyWatch.toNs - onlyWatch.fromNs).toBe(S);
    expect(onlyWatch.notes.join(' ')).toMatch(/no create-sent instant/);
    const onlyCts = creationWindow({ pod: 'p', creationTimestampS: 1_795_953_600, ready: {}, probeIntervalNs: 10n * MS });
    expect(onlyCts).toMatchObject({ fromNs: 1_795_953_600n * S, toNs: 1_795_953_601n * S, basis: 'creationTimestamp' });
    expect(() => creationWindow({ pod: 'p', ready: {}, probeIntervalNs: 10n * MS })).toThrow(/no creation instant/);
  });

  test('a response before its request is a broken recording', () => {
    expect(() => creationWindow(timeline({ createReturnedNs: T0 - MS }))).toThrow(/before the create was sent/);
  });
});

describe('pod network-ready sample', () => {
  test('latency per source from the window start, with its resolution', () => {
    const s = podReadySample(timeline());
    expect(s.seconds).toEqual({ 'pod-ip': 0.9, egress: 0.7, service: 1.2 });
    // 4 ms window + 10 ms interval + 2 ms offset uncertainty
    expect(s.resolutionSeconds['pod-ip']).toBeCloseTo(0.016, 9);
    expect(s.missing).toEqual([]);
    expect(networkReadySeconds(s)).toBe(1.2);
    expect(s.clockError).toBeUndefined();
  });

  test('a prober clock 250 ms ahead of the runner is mapped back', () => {
    const s = podReadySample(timeline({ offsetNs: 250n * MS }));
    expect(s.seconds['pod-ip']).toBe(0.9);
    expect(s.seconds.service).toBe(1.2);
  });

  test('a success before creation beyond the offset uncertainty is a clock error, kept as measured', () => {
    // the offset was estimated 50 ms wrong: the prober's success maps to 40 ms before creation
    const t = timeline({ readyMs: { 'pod-ip': 10, egress: 700, service: 1200 } });
    t.ready['pod-ip']!.offsetNs = 50n * MS;
    const s = podReadySample(t);
    expect(s.seconds['pod-ip']).toBeCloseTo(-0.04, 9);
    expect(s.clockError).toMatch(/pod-ip succeeded 40.0 ms before the pod was created/);
  });

  test('a pod that never becomes ready on one source: missing, no network-ready latency', () => {
    const s = podReadySample(timeline({ readyMs: { egress: 700 } }));
    expect(s.missing).toEqual(['pod-ip', 'service']);
    expect(s.seconds).toEqual({ egress: 0.7 });
    expect(networkReadySeconds(s)).toBeUndefined();
  });

  test('a first attempt that already succeeds is marked as an upper bound', () => {
    const t = timeline();
    t.ready['pod-ip']!.attempts = 1;
    expect(podReadySample(t).firstTry).toEqual(['pod-ip']);
  });
});

describe('throughput and failures', () => {
  test('(n − 1) over the span of ready instants', () => {
    expect(readyThroughput([10, 10.5, 11, 11.5, 12])).toBe(2);
    expect(readyThroughput([10])).toBeNaN();
    expect(readyThroughput([3, 3])).toBeNaN();
  });

  test('failed over created, NaN when nothing was created', () => {
    expect(failureRatio(20, 1)).toBe(0.05);
    expect(failureRatio(0, 0)).toBeNaN();
  });
});
