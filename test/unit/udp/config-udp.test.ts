// UDP knobs and SLOs: validated before anything touches a cluster, each error naming the
// knob and the fix; the loss arithmetic of measurements/udp-loss.ts.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadRunConfig } from '../../../src/config/knobs.js';
import { loadProfile, SLI, validateProfiles } from '../../../src/config/profiles.js';
import { behindSchedule, countUdpLoss, udpLossSamples } from '../../../measurements/udp-loss.js';
import { udpRunSpec } from '../../../fixtures/measure-udp.js';
import { parseRunSpec, ValidationError } from '../../../src/workload/loadgen.js';
import type { UdpExchangeResult } from '../../../src/workload/loadgen.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadRunConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('UDP knobs', () => {
  it('defaults: 200 exchanges/s per client, CONN_PER_CLIENT exchanges, 1 s timeout', () => {
    expect(loadRunConfig({}).workload).toMatchObject({ udpRate: 200, udpExchanges: 2000, udpTimeoutMs: 1000 });
    expect(loadRunConfig({ CONN_PER_CLIENT: '300' }).workload.udpExchanges).toBe(300);
    expect(loadRunConfig({ CONN_PER_CLIENT: '300', UDP_EXCHANGES: '50' }).workload.udpExchanges).toBe(50);
  });

  it.each([
    [{ UDP_RATE: '0' }, /env UDP_RATE="0": must be a positive integer/],
    [{ UDP_RATE: 'fast' }, /env UDP_RATE="fast": must be a positive integer/],
    [{ UDP_RATE: '20001' }, /env UDP_RATE=20001: at most 20000 exchanges\/s per client; add clients \(CLIENTS\)/],
    [{ UDP_TIMEOUT_MS: '30000' }, /env UDP_TIMEOUT_MS=30000: at most 25000 ms, below conntrack's 30 s UDP timeout/],
    [{ UDP_EXCHANGES: '40001' }, /env UDP_EXCHANGES=40001: at most 40000 UDP exchanges per client .* set UDP_EXCHANGES lower/],
    [{ CONN_PER_CLIENT: '50000' }, /CONN_PER_CLIENT \(UDP_EXCHANGES defaults to it\)=50000/],
    [{ UDP_RATE: '5000', UDP_TIMEOUT_MS: '1000' }, /UDP_RATE 5000\/s × UDP_TIMEOUT_MS 1000 ms may keep 5000 exchanges waiting per client, more than the loadgen's 1000: lower UDP_RATE or UDP_TIMEOUT_MS/],
  ])('%j is refused with the knob and the fix', (env, message) => {
    expect(problems(env).join('\n')).toMatch(message);
  });

  it('the loadgen spec of the workload passes the loadgen\'s own validation', () => {
    const w = loadRunConfig({ UDP_RATE: '400', UDP_TIMEOUT_MS: '2000', CONN_PER_CLIENT: '300' }).workload;
    const spec = udpRunSpec(w, [{ host: '10.96.0.10', port: 53 }]);
    expect(parseRunSpec(spec)).toEqual(spec);
    expect(spec).toMatchObject({ exchanges: 300, rate: 400, timeoutMs: 2000, concurrency: 816 });
  });

  it('the loadgen refuses a bad UDP run, naming the field', () => {
    const bad = (body: object): string => {
      try {
        parseRunSpec({ mode: 'udp', targets: [{ host: '10.96.0.10', port: 53 }], exchanges: 10, rate: 10, ...body });
      } catch (e) {
        if (e instanceof ValidationError) return e.message;
        throw e;
      }
      return '';
    };
    expect(bad({ rate: 0 })).toMatch(/^rate must be a positive integer, at most 20000 \(got 0\)/);
    expect(bad({ timeoutMs: 60_000 })).toMatch(/^timeoutMs must be a positive integer, at most 25000/);
    expect(bad({ payloadBytes: 9000 })).toMatch(/^payloadBytes must be a positive integer, at most 1400/);
    expect(bad({ portFirst: 60000, portCount: 10000 })).toMatch(/portFirst 60000 \+ portCount 10000 runs past port 65535: lower portCount to at most 5536/);
    expect(bad({ exchanges: undefined })).toMatch(/exchanges is required: give how many request\/response exchanges to make/);
  });
});

describe('UDP SLOs', () => {
  it('both profiles judge both UDP SLIs, and they validate', () => {
    validateProfiles();
    expect(loadProfile('default')[SLI.udpFirstPacket].thresholds).toEqual(['p(99)<100ms']);
    expect(loadProfile('default')[SLI.udpLoss].thresholds).toEqual(['max<=0.001']);
    expect(loadProfile('default')[SLI.udpLoss].origin).toMatch(/the kit's bound/);
    expect(loadProfile('strict')[SLI.udpLoss].thresholds).toEqual(['max<=0']);
  });
});

describe('UDP loss arithmetic', () => {
  const ex = (over: Partial<UdpExchangeResult>): UdpExchangeResult => ({ seq: 0, target: 0, lateSeconds: 0, sentNs: '1', rttSeconds: 0.0002, ...over });

  it('lost / sent; never-sent exchanges are outside the ratio', () => {
    const c = countUdpLoss([ex({}), ex({ rttSeconds: 2.5, error: 'timeout' }), ex({ rttSeconds: undefined, error: 'timeout' }), ex({ rttSeconds: undefined, error: 'ECONNREFUSED' }), ex({ sentNs: undefined, rttSeconds: undefined, error: 'bind: EADDRINUSE' })]);
    // a reply read after the timeout (a starved client) is lost all the same
    expect(c).toMatchObject({ sent: 4, lost: 3, unsent: 1, errors: { ECONNREFUSED: 1, 'bind: EADDRINUSE': 1 } });
    expect(udpLossSamples(c)).toEqual([0.75]);
    expect(udpLossSamples(countUdpLoss([]))).toEqual([]);
  });

  it('a generator that cannot keep the rate makes the verdict inconclusive; a short stall does not', () => {
    // 300 exchanges at 200/s: a 1.5 s schedule, bound max(50 ms, 150 ms)
    const onTime = countUdpLoss(Array.from({ length: 300 }, (_, i) => ex({ seq: i, lateSeconds: 0.001 })));
    expect(behindSchedule(onTime, 200, 300)).toBeUndefined();
    // one 300 ms stall the generator recovers from: the first 30 requests late, then on time
    const stall = countUdpLoss(Array.from({ length: 300 }, (_, i) => ex({ seq: i, lateSeconds: i < 30 ? 0.3 - i / 200 : 0.001 })));
    expect(stall.lateP99).toBeGreaterThan(0.2);
    expect(behindSchedule(stall, 200, 300)).toBeUndefined();
    // it can only send 150/s: every request later than the one before, the last 0.5 s late
    const slow = countUdpLoss(Array.from({ length: 300 }, (_, i) => ex({ seq: i, lateSeconds: i / 150 - i / 200 })));
    expect(behindSchedule(slow, 200, 300)).toMatch(/fell behind their schedule of 200 exchanges\/s \(requests left 249\.2 ms late on average, p99 .* bound 150\.0 ms\)/);
  });
});

describe('UDP path figures (the request-overhead bench\'s UDP row)', () => {
  it('quantiles over answered exchanges, loss over sent ones', async () => {
    const { udpPathFigures } = await import('../../../fixtures/measure-udp.js');
    const rows: UdpExchangeResult[] = Array.from({ length: 1000 }, (_, i) => ({ seq: i, target: 0, lateSeconds: 0, sentNs: String(i), rttSeconds: (i + 1) / 1e6 }));
    rows.push({ seq: 1000, target: 0, lateSeconds: 0, sentNs: '1000', error: 'timeout' });
    const f = udpPathFigures('ClusterIP', rows);
    expect(f).toMatchObject({ path: 'ClusterIP', sent: 1001, answered: 1000 });
    expect(f.lossRatio).toBeCloseTo(1 / 1001, 12);
    expect(f.p50Seconds).toBeCloseTo(500.5e-6, 12);
    expect(f.p99Seconds).toBeCloseTo(990.01e-6, 12);
    expect(f.p999Seconds).toBeCloseTo(999.001e-6, 12);
  });
});
