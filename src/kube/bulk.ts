// Creating or deleting thousands of objects fast without hurting the API server: bounded
// concurrency, retry with backoff on 429 (honouring Retry-After), 409 on create is success
// when the object already exists, 5xx retried a few times; progress while it runs.
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../wait-for.js';
import * as k8s from '@kubernetes/client-node';
import { apiMessage, apiStatus } from './clients.js';

/** requests in flight unless told otherwise */
export const DEFAULT_BULK_CONCURRENCY = 32;

export interface BulkOptions {
  /** requests in flight (default DEFAULT_BULK_CONCURRENCY) */
  concurrency?: number;
  /** attempts per item before giving up (default 6) */
  attempts?: number;
  /** called at most every progressEveryMs (default 2 s) and at the end */
  onProgress?: (done: number, total: number, ratePerSecond: number) => void;
  progressEveryMs?: number;
  /** treat 409 Conflict / AlreadyExists as done (create) or 404 as done (delete) */
  tolerate?: number[];
}

export interface BulkResult {
  done: number;
  seconds: number;
  perSecond: number;
  retries: number;
  throttled: number;
}

export class BulkError extends Error {
  constructor(
    message: string,
    readonly failures: { index: number; status?: number; message: string }[],
  ) {
    super(message);
  }
}

function retryAfterMs(e: unknown, attempt: number): number {
  if (e instanceof k8s.ApiException) {
    const ra = Number(e.headers?.['retry-after']);
    if (Number.isFinite(ra) && ra > 0) return ra * 1000;
  }
  return Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

export async function bulk<T>(items: readonly T[], op: (item: T, index: number) => Promise<unknown>, o: BulkOptions = {}): Promise<BulkResult> {
  const concurrency = o.concurrency ?? DEFAULT_BULK_CONCURRENCY;
  const attempts = o.attempts ?? 6;
  const tolerate = new Set(o.tolerate ?? []);
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  let retries = 0;
  let throttled = 0;
  let lastReport = t0;
  const failures: BulkError['failures'] = [];
  const report = (force: boolean): void => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastReport < (o.progressEveryMs ?? 2000))) return;
    lastReport = now;
    o.onProgress(done, items.length, done / Math.max(1e-3, (now - t0) / 1000));
  };
  const worker = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const i = next++;
      let attempt = 0;
      try {
        // transient errors (throttling, 5xx, no answer) are tried again after a backoff
        await waitFor(
          async () => {
            try {
              await op(items[i] as T, i);
              return true;
            } catch (e) {
              const status = apiStatus(e);
              if (status !== undefined && tolerate.has(status)) return true;
              const transient = status === 429 || (status !== undefined && status >= 500) || status === undefined;
              if (status === 429) throttled++;
              if (!transient || ++attempt >= attempts) throw new StopWaiting(e as Error);
              retries++;
              throw e;
            }
          },
          { timeout: TIMEOUTS.bulkItemMs, interval: (n, e) => retryAfterMs(e, n), what: `item ${i}` },
        );
      } catch (e) {
        const cause = e instanceof WaitTimeoutError ? e.lastError : e;
        failures.push({ index: i, status: apiStatus(cause), message: apiMessage(cause) });
        return;
      }
      done++;
      report(false);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  report(true);
  if (failures.length > 0) {
    const f = failures[0]!;
    throw new BulkError(`${failures.length} of ${items.length} requests failed; first (item ${f.index}): ${f.message}`, failures);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { done, seconds, perSecond: done / Math.max(1e-6, seconds), retries, throttled };
}
