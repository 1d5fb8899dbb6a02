// The network-ready arithmetic on timelines recorded on the lab's real nodes
// (test/fixtures/network-ready/recorded.json, made by record.run.ts beside it: the suite's
// own runPhase, steady and flux, and one pod whose program never listens). Expected values
// are worked out here from the recorded raw instants, not taken from the recorded results.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { conditionSeconds, phaseFigures, phaseFromJson, phaseToJson, type PhaseResult, type PodRecord } from '../../../measurements/pod-network-ready.js';
import { creationWindow, failureRatio, networkReadySeconds, podReadySample, READY_SOURCES, readyThroughput, type PodTimeline } from '../../../src/sli/network-ready.js';
import { histogramDelta } from '../../../src/sli/prometheus.js';
import { quantile } from '../../../src/sli/index.js';

interface Recording {
  recorded: string;
  cluster: { nodes: string[]; podNetworkReadyMs: number; probeIntervalMs: number };
  probers: Record<string, { offsetNs: string; uncertaintyNs: string }>;
  steady: unknown;
  flux: unknown;
  neverReady: unknown;
}

const rec = JSON.parse(readFileSync(new URL('../../fixtures/network-ready/recorded.json', import.meta.url), 'utf8')) as Recording;
const steady = phaseFromJson(rec.steady);
const flux = phaseFromJson(rec.flux);
const never = phaseFromJson(rec.neverReady);
const measured = [...steady.pods, ...flux.pods];
const S = 1_000_000_000n;
const MS = 1_000_000n;

/** a deep copy of a recorded timeline to change */
const copy = (t: PodTimeline): PodTimeline => structuredClone(t);
const seconds = (ns: bigint): number => Number(ns) / 1e9;

describe('the recording', () => {
  test('holds every pod of each phase, measured without error, and reads back as it was written', () => {
    expect(steady.pods.length).toBeGreaterThanOrEqual(5);
    expect(flux.pods.length).toBeGreaterThanOrEqual(5);
    expect(never.pods).toHaveLength(1);
    for (const p of [...measured, ...never.pods]) expect(p.error).toBeUndefined();
    expect(phaseFromJson(phaseToJson(steady))).toEqual(steady);
    // bigint instants and the +Inf bucket survive the round trip
    expect(typeof steady.pods[0]!.timeline.createSentNs).toBe('bigint');
    expect(steady.kubelet.before[0]!.podStart!.buckets.at(-1)!.le).toBe(Infinity);
  });
});

describe('creation window on recorded pods', () => {
  test.each(measured.map((p) => [p.name, p] as const))('%s: the create call and the watch event bound it; creationTimestamp narrows it only when it agrees', (_name, p) => {
    const t = p.timeline;
    const w = creationWindow(t);
    // worked out: [sent, min(returned, ADDED arrival)] ∩ [cts, cts + 1 s] when they overlap
    const lo = t.createSentNs!;
    const hi = t.createReturnedNs! < t.addedSeenNs! ? t.createReturnedNs! : t.addedSeenNs!;
    const c = BigInt(t.creationTimestampS!) * S;
    const overlaps = lo < c + S && c <= hi;
    expect(w.fromNs).toBe(overlaps && c > lo ? c : lo);
    expect(w.toNs).toBe(overlaps && c + S < hi ? c + S : hi);
    expect(w.toNs - w.fromNs).toBeGreaterThan(0n);
    if (overlaps) expect(w.toNs - w.fromNs).toBeLessThanOrEqual(S);
  });

  test('worked by hand: nr-20442-0, creationTimestamp caps the window\'s end', () => {
    const p = steady.pods.find((x) => x.name === 'nr-20442-0')!;
    // sent …234.976579191, returned …235.038476083, ADDED …235.058890410, creationTimestamp …234 (s)
    const s = podReadySample(p.timeline);
    expect(s.window).toMatchObject({ fromNs: 1_795_968_234_976_579_191n, toNs: 1_795_968_235_000_000_000n, basis: 'create sent + create returned + watch ADDED + creationTimestamp' });
    // pod-ip: …238.049887947 on node0's prober, offset 1.818157 ms → …238.048069790 on the runner's clock
    expect(s.seconds['pod-ip']).toBe(3.071490599);
    // 23.420809 ms window + 10 ms interval + 3.197712 ms offset uncertainty
    expect(s.resolutionSeconds['pod-ip']).toBe(0.036618521);
  });

  test('worked by hand: nr-20442-11, a 1.9 s create call under flux, creationTimestamp narrows the start', () => {
    const p = flux.pods.find((x) => x.name === 'nr-20442-11')!;
    // sent …252.141929009, returned …254.047159167, creationTimestamp …253: created in [253, 254)
    const s = podReadySample(p.timeline);
    expect(s.window.fromNs).toBe(1_795_968_253_000_000_000n);
    expect(s.window.toNs).toBe(1_795_968_254_000_000_000n);
    // service: …259.687713716 on node0's prober − 1.818157 ms − 253
    expect(s.seconds.service).toBe(6.685895559);
    // without creationTimestamp the window starts at the create call: 0.858070991 s longer, never shorter
    const t = copy(p.timeline);
    delete t.creationTimestampS;
    expect(podReadySample(t).seconds.service).toBe(7.54396655);
  });
});

describe('latency per source on recorded pods', () => {
  test.each(measured.map((p) => [p.name, p] as const))('%s: first success on the prober\'s clock, mapped by its offset, from the window start', (_name, p) => {
    const s = podReadySample(p.timeline);
    expect(s.missing).toEqual([]);
    expect(s.clockError).toBeUndefined();
    for (const src of READY_SOURCES) {
      const r = p.timeline.ready[src]!;
      const expected = seconds(r.ns - r.offsetNs - s.window.fromNs);
      expect(s.seconds[src]).toBe(expected);
      expect(expected).toBeGreaterThan(0);
      expect(expected).toBeLessThan(rec.cluster.podNetworkReadyMs / 1000);
      expect(s.resolutionSeconds[src]).toBe(seconds(s.window.toNs - s.window.fromNs + BigInt(rec.cluster.probeIntervalMs) * MS + r.uncertaintyNs));
    }
    // the pod-ip probe starts once the IP arrived in a watch event: it cannot succeed earlier
    const ip = p.timeline.ready['pod-ip']!;
    expect(seconds(ip.ns - ip.offsetNs + ip.uncertaintyNs - p.timeline.createSentNs!)).toBeGreaterThanOrEqual(p.ipSeenSeconds!);
    expect(networkReadySeconds(s)).toBe(Math.max(...READY_SOURCES.map((k) => s.seconds[k]!)));
    // what the run itself computed from the same timeline
    expect(s).toEqual(p.sample);
  });
});

describe('clock offset', () => {
  const p = steady.pods[0]!;
  const base = podReadySample(p.timeline);

  test.each([2_500n * MS, -2_500n * MS])('a prober clock off by %s ns, its offset estimated: the same latency', (d) => {
    const t = copy(p.timeline);
    for (const src of READY_SOURCES) {
      t.ready[src]!.ns += d;
      t.ready[src]!.offsetNs += d;
    }
    const s = podReadySample(t);
    expect(s.seconds).toEqual(base.seconds);
    expect(s.clockError).toBeUndefined();
  });

  test('the recorded offsets are applied: ignoring them moves each latency by exactly the offset', () => {
    const t = copy(p.timeline);
    for (const src of READY_SOURCES) t.ready[src]!.offsetNs = 0n;
    const s = podReadySample(t);
    for (const src of READY_SOURCES) expect(s.seconds[src]! - base.seconds[src]!).toBeCloseTo(seconds(p.timeline.ready[src]!.offsetNs), 9);
  });

  test('a prober clock 10 s behind, not corrected: successes before creation, a clock error, the samples kept as measured', () => {
    const t = copy(p.timeline);
    for (const src of READY_SOURCES) t.ready[src]!.ns -= 10_000n * MS;
    const s = podReadySample(t);
    expect(s.clockError).toMatch(/^pod nr-20442-0: pod-ip succeeded [\d.]+ ms before the pod was created .*egress.*service.*the clocks disagree$/);
    for (const src of READY_SOURCES) expect(s.seconds[src]).toBeCloseTo(base.seconds[src]! - 10, 9);
  });

  test('a prober clock behind by less than the latency, not corrected: undetectable, the latency shrinks by exactly that', () => {
    const t = copy(p.timeline);
    for (const src of READY_SOURCES) t.ready[src]!.ns -= 2_500n * MS;
    const s = podReadySample(t);
    expect(s.clockError).toBeUndefined();
    expect(s.seconds['pod-ip']).toBeCloseTo(base.seconds['pod-ip']! - 2.5, 9);
  });

  test('an API server clock 3 s ahead: creationTimestamp is set aside, the runner\'s instants stand, latency never shrinks', () => {
    for (const q of measured) {
      const t = copy(q.timeline);
      t.creationTimestampS! += 3;
      const w = creationWindow(t);
      expect(w.notes.join(' ')).toMatch(/API server's clock differs/);
      expect(w.fromNs).toBe(t.createSentNs);
      const s = podReadySample(t);
      for (const src of READY_SOURCES) expect(s.seconds[src]!).toBeGreaterThanOrEqual(q.sample!.seconds[src]!);
    }
  });
});

describe('missing events', () => {
  const p = steady.pods[0]!;
  const base = podReadySample(p.timeline);

  test('no watch event: the create call alone bounds the window', () => {
    const t = copy(p.timeline);
    delete t.addedSeenNs;
    const s = podReadySample(t);
    expect(s.window.basis).not.toMatch(/watch/);
    expect(s.window.fromNs).toBe(base.window.fromNs);
    expect(s.window.toNs).toBeGreaterThanOrEqual(base.window.toNs);
    expect(s.seconds).toEqual(base.seconds);
  });

  test('no create call (a pod someone else created): creationTimestamp\'s second, capped by the watch event', () => {
    const t = copy(p.timeline);
    delete t.createSentNs;
    delete t.createReturnedNs;
    const w = creationWindow(t);
    expect(w.fromNs).toBe(BigInt(t.creationTimestampS!) * S);
    expect(w.toNs).toBe(t.addedSeenNs! < w.fromNs + S ? t.addedSeenNs : w.fromNs + S);
    expect(w.basis).toBe('watch ADDED + creationTimestamp');
  });

  test('only the watch event: a 1 s window before it, said in a note', () => {
    const t = copy(p.timeline);
    delete t.createSentNs;
    delete t.createReturnedNs;
    delete t.creationTimestampS;
    const s = podReadySample(t);
    expect(s.window.fromNs).toBe(t.addedSeenNs! - S);
    expect(s.window.notes.join(' ')).toMatch(/no create-sent instant/);
    for (const src of READY_SOURCES) expect(s.resolutionSeconds[src]!).toBeGreaterThan(1);
  });

  test('a source whose success was never recorded (its log unreadable): missing, so the pod is not network-ready', () => {
    const t = copy(p.timeline);
    delete t.ready.egress;
    const s = podReadySample(t);
    expect(s.missing).toEqual(['egress']);
    expect(s.seconds['pod-ip']).toBe(base.seconds['pod-ip']);
    expect(networkReadySeconds(s)).toBeUndefined();
  });
});

describe('a pod that never becomes network-ready (recorded: its program never listens nor connects)', () => {
  const p: PodRecord = never.pods[0]!;

  test('it was scheduled, got an IP and was Ready by its conditions (no readiness probe), yet no source ever succeeded', () => {
    expect(p.node).toBeDefined();
    expect(p.ipSeenSeconds).toBeGreaterThan(0);
    expect(conditionSeconds(p.conditions, 'Ready')).toBeGreaterThanOrEqual(0);
    const s = podReadySample(p.timeline);
    expect(s.missing).toEqual([...READY_SOURCES]);
    expect(s.seconds).toEqual({});
    expect(networkReadySeconds(s)).toBeUndefined();
    expect(p.readyAtS).toBeUndefined();
    expect(p.failed).toMatch(new RegExp(`^never pod-ip, egress, service within ${rec.cluster.podNetworkReadyMs / 1000} s \\(node ${p.node}\\)$`));
  });

  test('it counts as a failure, and leaves the latency quantiles of the pods that did become ready alone', () => {
    expect(phaseFigures(never).failed).toBe(1);
    expect(failureRatio(never.pods.length, 1)).toBe(1);
    const both: PhaseResult = { ...steady, pods: [...steady.pods, ...never.pods] };
    const f = phaseFigures(both);
    expect(f.failed).toBe(1);
    expect(f.p99).toEqual(phaseFigures(steady).p99);
    expect(failureRatio(both.pods.length, f.failed)).toBeCloseTo(1 / (steady.pods.length + 1), 12);
  });
});

describe('phase figures on the recorded phases', () => {
  test.each([['steady', steady] as const, ['flux', flux] as const])('%s: p50/p99 per source over the pods, throughput (n − 1) over the ready span', (_n, r) => {
    const f = phaseFigures(r);
    for (const src of READY_SOURCES) {
      const xs = r.pods.map((p) => podReadySample(p.timeline).seconds[src]!);
      expect(f.p50[src]).toBe(quantile(xs, 0.5));
      expect(f.p99[src]).toBe(quantile(xs, 0.99));
    }
    const readyAt = r.pods.map((p) => {
      const s = podReadySample(p.timeline);
      return seconds(s.window.fromNs) + networkReadySeconds(s)!;
    });
    expect(f.throughput).toBeCloseTo((readyAt.length - 1) / (Math.max(...readyAt) - Math.min(...readyAt)), 9);
    expect(readyThroughput(readyAt)).toBe(f.throughput);
    expect(f.failed).toBe(0);
  });
});

describe('beside it: conditions and the kubelets\' histograms, recorded', () => {
  test.each(measured.map((p) => [p.name, p] as const))('%s: PodScheduled → Ready from the recorded conditions', (_name, p) => {
    const at = (type: string): number => new Date(p.conditions!.find((c) => c.type === type && c.status === 'True')!.lastTransitionTime!).getTime() / 1000;
    expect(conditionSeconds(p.conditions, 'Ready')).toBe(at('Ready') - at('PodScheduled'));
    expect(p.toReady).toBe(at('Ready') - at('PodScheduled'));
    expect(conditionSeconds(p.conditions, 'NoSuchCondition')).toBeUndefined();
  });

  test.each([['steady', steady] as const, ['flux', flux] as const, ['neverReady', never] as const])('%s: the pod-start and sandbox histogram deltas over the nodes count the pods the phase started', (_n, r) => {
    let starts = 0;
    let sandboxes = 0;
    for (const b of r.kubelet.before) {
      const a = r.kubelet.after.find((x) => x.node === b.node)!;
      const d = histogramDelta(b.podStart!, a.podStart!);
      expect(d.reset).toBe(false);
      starts += d.histogram.count;
      sandboxes += histogramDelta(b.runPodSandbox!, a.runPodSandbox!).histogram.count;
    }
    expect(starts).toBe(r.pods.length);
    expect(sandboxes).toBe(r.pods.length);
  });
});
