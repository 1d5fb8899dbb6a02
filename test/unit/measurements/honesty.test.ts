// What a result says it measured: clock errors, sources, the flows counted, the endpoints
// written, failed connections. Recorder runs for real (it only attaches results to a
// task's meta and prints the verdict line).
import { describe, expect, it, vi } from 'vitest';
import { loadRunConfig } from '../../../src/config/knobs.js';
import { SLI } from '../../../src/config/profiles.js';
import { syntheticEndpointSlice } from '../../../src/kube/services.js';
import type { FlowJson } from '../../../src/agent/records.js';
import { fillerEndpoints, fillerServiceSet } from '../../../fixtures/big-service.js';
import { enoughCaptured, pick } from '../../../fixtures/measure.js';
import { programmingSample } from '../../../fixtures/programming.js';
import { Recorder } from '../../../fixtures/results.js';
import { unitTarget } from '../support/target.js';
import { judgeProgramming } from '../../../measurements/network-programming-latency.js';
import { judgeScaling, scalingInputs, type FirstPacketPoint } from '../../../measurements/first-packet-latency.js';
import { judgeFailedConnections } from '../../../measurements/failed-connections.js';
import { dataplaneEnds } from '../../../measurements/last-service-latency.js';

const config = loadRunConfig({});
const target = unitTarget('nftables');
const recorder = (): Recorder => new Recorder({ meta: {} }, target, config);

vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

describe('ENDPOINTS_PER_SERVICE', () => {
  const pods = ['10.244.1.5', '10.244.2.9'];

  it('5 endpoints per Service yield EndpointSlices with 5 endpoints: the pods, then addresses that never receive traffic', () => {
    const perService = loadRunConfig({ ENDPOINTS_PER_SERVICE: '5' }).workload.endpointsPerService;
    const spec = fillerServiceSet({ namespace: 'ns', session: 's', first: 0, count: 3, perService, podIps: pods, targetPort: 8080 });
    const slice = syntheticEndpointSlice(spec, 2);
    const ips = slice.endpoints.map((e) => e.addresses[0]!);
    expect(ips).toHaveLength(5);
    expect(ips.slice(0, 2).sort()).toEqual([...pods].sort());
    for (const ip of ips.slice(2)) expect(ip).toMatch(/^198\.(18|19)\./);
    expect(fillerEndpoints(0, 5, pods).reachable).toBe(false);
  });

  it('up to the number of pods, every endpoint is a real pod and the Service may be connected to', () => {
    expect(fillerEndpoints(3, 1, pods)).toEqual({ ips: [pods[1]], reachable: true });
    expect(fillerEndpoints(0, 2, pods)).toEqual({ ips: pods, reachable: true });
  });
});

describe('network programming latency', () => {
  const offset = { offsetNs: 0n, uncertaintyNs: 200_000n };
  const ok = (s: number) => programmingSample(1_000_000_000n, 1_000_000_000n + BigInt(Math.round(s * 1e9)), offset, 3, '10.96.0.9');

  it('a negative latency is kept as measured and flagged as a clock error, not clamped to 0', () => {
    const s = programmingSample(2_000_000_000n, 1_990_000_000n, offset, 1, '10.96.0.9');
    expect(s.seconds).toBeCloseTo(-0.01, 9);
    expect(s.clockError).toMatch(/clocks disagree/);
    expect(ok(0.2).clockError).toBeUndefined();
  });

  it('a negative programming latency gives inconclusive', () => {
    const samples = [...Array.from({ length: 12 }, () => ok(0.1)), programmingSample(2_000_000_000n, 1_990_000_000n, offset, 1, '10.96.0.9')];
    const j = judgeProgramming(recorder(), config.slos[SLI.programming], samples, { case: 'new-service' });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.verdict.reason).toMatch(/clock error/);
  });

  it('judges the profile SLO as written: fewer samples than it needs is inconclusive, not a max<=30s pass', () => {
    const j = judgeProgramming(recorder(), config.slos[SLI.programming], [ok(0.5)], { case: 'many-endpoints' });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.line).toContain('p(99)<=30s');
    const enough = judgeProgramming(recorder(), config.slos[SLI.programming], Array.from({ length: config.slos[SLI.programming].minSamples }, () => ok(0.5)), { case: 'many-endpoints' });
    expect(enough.verdict.status).toBe('pass');
  });
});

describe('first-packet latency scaling ratio', () => {
  const point = (services: number, source: 'capture' | 'client', v: number): FirstPacketPoint => ({ services, source, samples: Array.from({ length: 2000 }, (_, i) => v * (1 + (i % 10) / 100)), count: { failed: 0, attempted: 2000 }, notes: [] });

  it('a ratio across sources is inconclusive', () => {
    const r = scalingInputs(point(100, 'capture', 40e-6), point(1000, 'client', 200e-6), { lo: 100, hi: 1000 });
    expect(r.invalid).toMatch(/capture.*client/);
    const j = judgeScaling(recorder(), config.slos[SLI.firstPacketScaling], point(100, 'capture', 40e-6), point(1000, 'client', 41e-6), { lo: 100, hi: 1000 });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.verdict.reason).toMatch(/across sources/);
  });

  it('the same source is judged, and declared', () => {
    const j = judgeScaling(recorder(), config.slos[SLI.firstPacketScaling], point(100, 'capture', 40e-6), point(1000, 'capture', 41e-6), { lo: 100, hi: 1000 });
    expect(j.verdict.status).toBe('pass');
    expect(j.line).toContain('{capture');
  });

  it('a missing point is inconclusive, naming it', () => {
    const j = judgeScaling(recorder(), config.slos[SLI.firstPacketScaling], undefined, point(1000, 'capture', 41e-6), { lo: 100, hi: 1000 });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.verdict.reason).toMatch(/at 100 Services/);
  });
});

describe('measureConnections counts only its own flows', () => {
  const flow = (vip: string, port: number): FlowJson => ({ source: 'capture', clientAddr: '10.244.1.2', clientPort: 40000, vipAddr: vip, vipPort: port, synNs: '1', synRetransmits: 0 });
  const targets = [{ host: '10.96.0.10', port: 80 }];

  it('flows to other Services do not make a measurement complete', () => {
    const others = Array.from({ length: 5 }, () => flow('10.96.0.99', 80));
    expect(enoughCaptured(others, targets, 2)).toBe(false);
    expect(enoughCaptured([...others, flow('10.96.0.10', 80)], targets, 2)).toBe(false);
    expect(enoughCaptured([...others, flow('10.96.0.10', 80), flow('10.96.0.10', 80)], targets, 2)).toBe(true);
    expect(pick([flow('10.96.0.10', 8080)], targets).capture).toHaveLength(0);
  });
});

describe('failed connections', () => {
  it('one failed connection of 2000 fails the default profile', () => {
    const task = { meta: {} as Record<string, unknown> };
    const j = judgeFailedConnections(new Recorder(task, target, config), config.slos[SLI.failedConnections], { failed: 1, attempted: 2000, firstError: 'connect ECONNREFUSED 10.96.3.4:80' });
    expect(j.verdict.status).toBe('fail');
    expect(JSON.stringify(task.meta)).toContain('1 of 2000 connections failed (first: connect ECONNREFUSED 10.96.3.4:80)');
  });

  it('none attempted is inconclusive', () => {
    expect(judgeFailedConnections(recorder(), config.slos[SLI.failedConnections], { failed: 0, attempted: 0 }).verdict.status).toBe('inconclusive');
  });

  it('both profiles judge it with zero allowed', () => {
    for (const profile of ['default', 'strict']) expect(loadRunConfig({ SLI_PROFILE: profile }).slos[SLI.failedConnections].thresholds).toEqual(['max<=0']);
  });
});

describe('first and last Service in the dataplane', () => {
  const listing = {
    mode: 'iptables' as const,
    ordered: true,
    services: [
      { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
      { ip: '10.96.9.9', protocol: 'tcp', port: 80 },
      { ip: '10.96.1.1', protocol: 'tcp', port: 80 },
      { ip: '10.96.5.5', protocol: 'tcp', port: 80 },
      { ip: '10.96.7.7', protocol: 'tcp', port: 80 },
    ],
  };

  it('takes the ends of the rule order among the Services a client may reach, not creation order', () => {
    const reachable = ['10.96.1.1', '10.96.5.5', '10.96.9.9'].map((host) => ({ host, port: 80 }));
    const e = dataplaneEnds(listing, reachable);
    expect(e?.first.host).toBe('10.96.9.9');
    expect(e?.last.host).toBe('10.96.5.5');
    expect([e?.firstIndex, e?.lastIndex]).toEqual([1, 3]);
  });

  it('needs two reachable Services', () => {
    expect(dataplaneEnds(listing, [{ host: '10.96.1.1', port: 80 }])).toBeUndefined();
  });
});
