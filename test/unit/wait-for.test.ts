import { describe, expect, it } from 'vitest';
import { StopWaiting, waitFor, WaitTimeoutError } from '../../src/wait-for.js';

describe('waitFor', () => {
  it('returns the first value the condition yields', async () => {
    let calls = 0;
    const v = await waitFor(() => (++calls >= 3 ? `done after ${calls}` : undefined), { timeout: 5000, interval: 1, what: 'three calls' });
    expect(v).toBe('done after 3');
    expect(calls).toBe(3);
  });

  it('tries a throwing condition again', async () => {
    let calls = 0;
    const v = await waitFor(
      () => {
        if (++calls < 3) throw new Error('not yet');
        return calls;
      },
      { timeout: 5000, interval: 1, what: 'flaky' },
    );
    expect(v).toBe(3);
  });

  it('on timeout names what it waited for and the last error', async () => {
    let calls = 0;
    const e = await waitFor(
      () => {
        throw new Error(`refused #${++calls}`);
      },
      { timeout: 30, interval: 5, what: 'Service 10.96.0.7:80 programmed' },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect((e as Error).message).toContain('Service 10.96.0.7:80 programmed');
    expect((e as Error).message).toContain(`last error: refused #${calls}`);
    expect(calls).toBeGreaterThan(1);
  });

  it('on timeout reports the last pending state', async () => {
    const e = await waitFor(() => ({ pending: '1/3 Ready' }), { timeout: 20, interval: 5, what: 'pods' }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/^pods: not done after 0.02 s; last state: 1\/3 Ready$/);
  });

  it('StopWaiting ends the wait at once with its error', async () => {
    let calls = 0;
    const stop = new Error('image not found');
    const e = await waitFor(
      () => {
        calls++;
        throw new StopWaiting(stop);
      },
      { timeout: 5000, interval: 1, what: 'pods' },
    ).catch((x: unknown) => x);
    expect(e).toBe(stop);
    expect(calls).toBe(1);
  });

  it('a backoff interval gets the attempt number and the last error', async () => {
    const seen: [number, string][] = [];
    let calls = 0;
    await waitFor(
      () => {
        if (++calls < 3) throw new Error(`e${calls}`);
        return true;
      },
      { timeout: 5000, interval: (n, e) => (seen.push([n, (e as Error).message]), 1), what: 'backoff' },
    );
    expect(seen).toEqual([
      [0, 'e1'],
      [1, 'e2'],
    ]);
  });

  it('rejects a non-positive interval', async () => {
    await expect(waitFor(() => true, { timeout: 10, interval: 0, what: 'x' })).rejects.toThrow(/interval > 0/);
  });
});
