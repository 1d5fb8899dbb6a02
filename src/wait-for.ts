// The one way the kit waits: poll a condition until it yields a value or the deadline
// passes. No sleeps elsewhere. On timeout the error names what was awaited and the last
// thing that went wrong (the condition's last error or its last reported state), so a
// stuck wait explains itself.
import { inspect } from 'node:util';
import { InfrastructureError } from './infrastructure-error.js';

export interface WaitOptions {
  /** deadline in ms (take it from TIMEOUTS) */
  timeout: number;
  /**
   * pause between attempts in ms (take it from TIMEOUTS), or a backoff computed from the
   * number of failed attempts so far and the last error (e.g. an API's Retry-After)
   */
  interval: number | ((attempt: number, lastError: unknown) => number);
  /** what is awaited, for the error: "3 loadgen pods Ready" */
  what: string;
  /** AbortSignal that ends the wait early (the error names the reason) */
  signal?: AbortSignal;
}

/** Thrown by waitFor when the deadline passes. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError: unknown,
    readonly lastState: string | undefined,
  ) {
    const last = lastError !== undefined ? `; last error: ${lastError instanceof Error ? lastError.message : typeof lastError === 'string' ? lastError : inspect(lastError)}` : lastState !== undefined ? `; last state: ${lastState}` : '';
    super(`${what}: not done after ${timeoutMs / 1000} s${last}`);
  }
}

/** Thrown from a condition: stop waiting at once and rethrow `reason` (waiting would not help). */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
  constructor(readonly reason: Error) {
    super(reason.message);
  }
}

/**
 * What a condition returns: the value when done; `undefined` or `false` to try again, or
 * `{ pending: state }` to try again and remember `state` for the timeout message.
 */
export type Attempt<T> = T | undefined | false | { pending: string };

const isPending = (x: unknown): x is { pending: string } => typeof x === 'object' && x !== null && 'pending' in x && Object.keys(x).length === 1;

/** A pause that a signal can cut short. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Polls `condition` every `interval` ms until it returns a value (anything but undefined,
 * false or { pending }). A condition that throws is tried again; the last error is in the
 * timeout message. Throw StopWaiting(e) to give up at once with e; an InfrastructureError
 * (retried within its own deadline already) also ends the wait at once.
 */
export async function waitFor<T>(condition: () => Attempt<T> | Promise<Attempt<T>>, o: WaitOptions): Promise<T> {
  if (!(o.timeout >= 0) || (typeof o.interval === 'number' && !(o.interval > 0))) {
    throw new RangeError(`waitFor(${o.what}): timeout must be >= 0 and interval > 0, got ${o.timeout} and ${String(o.interval)}`);
  }
  const deadline = performance.now() + o.timeout;
  let lastError: unknown;
  let lastState: string | undefined;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new Error(`${o.what}: aborted (${String(o.signal.reason)})`);
    try {
      const r = await condition();
      if (isPending(r)) {
        lastState = r.pending;
        lastError = undefined;
      } else if (r !== undefined && r !== false) return r;
    } catch (e) {
      if (e instanceof StopWaiting) throw e.reason;
      // it spent its own retries and deadline already: waiting longer here would not help
      if (e instanceof InfrastructureError) throw e;
      lastError = e;
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new WaitTimeoutError(o.what, o.timeout, lastError, lastState);
    const interval = typeof o.interval === 'number' ? o.interval : Math.max(0, o.interval(attempt, lastError));
    await pause(Math.min(interval, left), o.signal);
  }
}
