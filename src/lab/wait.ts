// The lab's one way to wait: poll a condition until it yields a value or a deadline
// passes. The error names what was awaited and the last reason it was not there yet.
export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** what is awaited, for the error: "node0 Ready" */
  what: string;
  /** an exception from the condition ends the wait at once (default: it is the last
   * reason and the wait goes on) */
  failFast?: boolean;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/** Resolves with the first value the condition returns that is not undefined/false. */
export async function waitFor<T>(cond: () => Promise<T | undefined | false>, o: WaitOptions): Promise<T> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (o.failFast) throw e;
      last = (e as Error).message;
    }
    if (Date.now() - t0 >= o.timeoutMs) throw new WaitTimeoutError(`timed out after ${o.timeoutMs} ms waiting for ${o.what}${last ? ` (last: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}
