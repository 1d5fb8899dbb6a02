// The retry policy of reads through the API server's proxy: which failures are tried
// again, the backoff schedule, and the deadline. Pure: proxyRetryDecision decides, the
// caller only waits.
import { describe, expect, it } from 'vitest';
import { PROXY_RETRY, proxyRetryDecision, type ProxyFailure, type RetryPolicy } from '../../../src/kube/proxy.js';
import { InfrastructureError, infrastructureCause } from '../../../src/infrastructure-error.js';
import { WaitTimeoutError, waitFor } from '../../../src/wait-for.js';

const policy: RetryPolicy = { firstDelayMs: 250, maxDelayMs: 8000, deadlineMs: 180_000 };
const status = (s: number, retryAfterSeconds?: number): ProxyFailure => ({ kind: 'status', status: s, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });

describe('proxyRetryDecision', () => {
  it('tries timeouts, broken connections, 429 and every 5xx again', () => {
    for (const f of [{ kind: 'timeout' } as const, { kind: 'network', message: 'ECONNRESET' } as const, status(429), status(500), status(502), status(503), status(504)]) {
      expect(proxyRetryDecision(f, 0, 0, policy).retry, JSON.stringify(f)).toBe(true);
    }
  });

  it("takes any other answer as the target's own, final", () => {
    for (const s of [400, 401, 403, 404, 409]) {
      const d = proxyRetryDecision(status(s), 0, 0, policy);
      expect(d).toEqual({ retry: false, why: `HTTP ${s} is the target's answer, not a transient failure` });
    }
  });

  it('backs off exponentially from firstDelayMs, capped at maxDelayMs, with equal jitter', () => {
    const at = (attempt: number, r: number) => {
      const d = proxyRetryDecision({ kind: 'timeout' }, attempt, 0, policy, () => r);
      if (!d.retry) throw new Error(d.why);
      return d.delayMs;
    };
    // random 0: half the step; random 1 (exclusive in Math.random): the whole step
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => at(n, 0))).toEqual([125, 250, 500, 1000, 2000, 4000, 4000, 4000]);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => at(n, 1))).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000]);
    expect(at(2, 0.5)).toBe(750);
    expect(PROXY_RETRY).toEqual({ firstDelayMs: 250, maxDelayMs: 8000 });
  });

  it("honours the server's Retry-After, capped at maxDelayMs", () => {
    expect(proxyRetryDecision(status(429, 2), 0, 0, policy, () => 0)).toEqual({ retry: true, delayMs: 2000 });
    expect(proxyRetryDecision(status(503, 60), 0, 0, policy, () => 0)).toEqual({ retry: true, delayMs: 8000 });
  });

  it('never starts an attempt past the deadline', () => {
    expect(proxyRetryDecision({ kind: 'timeout' }, 0, 179_800, policy, () => 0).retry).toBe(true); // 179.925 s < 180 s
    const d = proxyRetryDecision({ kind: 'timeout' }, 0, 179_900, policy, () => 0);
    expect(d).toEqual({ retry: false, why: 'the next attempt would start after the 180 s deadline' });
    expect(proxyRetryDecision(status(503), 3, 200_000, policy).retry).toBe(false);
  });

  it('a read within the default deadline gets at least ~25 attempts against a server that never answers in time', () => {
    // worst case for the schedule: every attempt fails at once, with the largest jitter
    let elapsed = 0;
    let attempts = 1;
    for (let n = 0; ; n++) {
      const d = proxyRetryDecision(status(504), n, elapsed, policy, () => 0.999999);
      if (!d.retry) break;
      elapsed += d.delayMs;
      attempts++;
    }
    expect(attempts).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(policy.deadlineMs);
  });
});

describe('InfrastructureError', () => {
  it('is found through the errors that wrap it, also as vitest serialized them', () => {
    const infra = new InfrastructureError('GET pod ns/prober-0:8090/probes/p1 failed 9 times');
    expect(infrastructureCause(infra)?.message).toMatch(/failed 9 times/);
    expect(infrastructureCause(new Error('outer', { cause: infra }))?.message).toMatch(/failed 9 times/);
    expect(infrastructureCause(new WaitTimeoutError('loadgen run done', 1000, infra, undefined))?.message).toMatch(/failed 9 times/);
    // the shape a worker's error arrives in at the reporter: a plain object
    const serialized = JSON.parse(JSON.stringify({ name: 'WaitTimeoutError', message: 'x', lastError: { ...infra, message: infra.message } })) as unknown;
    expect(infrastructureCause(serialized)?.message).toMatch(/failed 9 times/);
    expect(infrastructureCause(new Error('HTTP 404'))).toBeUndefined();
    expect(infrastructureCause(new WaitTimeoutError('pods Ready', 1000, new Error('refused'), undefined))).toBeUndefined();
  });

  it('ends a wait at once: its own retries and deadline are spent', async () => {
    let calls = 0;
    const e = await waitFor(
      () => {
        calls++;
        throw new InfrastructureError('API server proxy unavailable');
      },
      { timeout: 5000, interval: 1, what: 'probe done' },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfrastructureError);
    expect(calls).toBe(1);
  });
});
