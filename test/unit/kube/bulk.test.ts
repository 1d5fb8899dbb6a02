import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { bulk, BulkError } from '../../../src/kube/bulk.js';

// ApiException as the client raises it; Retry-After 0.001 s keeps the backoff short
const apiError = (code: number): k8s.ApiException<string> => new k8s.ApiException(code, `HTTP ${code}`, JSON.stringify({ message: `status ${code}` }), { 'retry-after': '0.001' });

describe('bulk', () => {
  it('tries a throttled or failing request again until it succeeds, counting the retries', async () => {
    const calls = new Map<number, number>();
    const r = await bulk([0, 1, 2], async (x) => {
      const n = (calls.get(x) ?? 0) + 1;
      calls.set(x, n);
      if (x === 1 && n < 3) throw apiError(n === 1 ? 429 : 503);
    });
    expect(r.done).toBe(3);
    expect(r.retries).toBe(2);
    expect(r.throttled).toBe(1);
    expect(calls.get(1)).toBe(3);
  });

  it('a tolerated status counts as done; a permanent error fails at once, naming the item', async () => {
    let calls = 0;
    await expect(bulk([0], async () => void (calls++, (() => { throw apiError(409); })()), { tolerate: [409] })).resolves.toMatchObject({ done: 1 });
    calls = 0;
    const e = await bulk([0], async () => {
      calls++;
      throw apiError(422);
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BulkError);
    expect((e as Error).message).toMatch(/item 0.*422: status 422/);
    expect(calls).toBe(1);
  });

  it('gives up after the attempts allowed', async () => {
    let calls = 0;
    const e = await bulk([0], async () => {
      calls++;
      throw apiError(500);
    }, { attempts: 3 }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/500: status 500/);
    expect(calls).toBe(3);
  });
});
