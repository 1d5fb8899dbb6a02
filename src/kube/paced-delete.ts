// Deleting thousands of labelled objects at the API server's pace, with progress. A
// collection delete (DELETE …/services?labelSelector=…&limit=N) deletes at most N objects
// and returns: the API server lists one page and deletes it itself (--delete-collection-
// workers, default 1), which spares it N requests, and the kit learns how fast it goes.
// The page grows or shrinks so that each request takes about CHUNK_PACE.targetSeconds,
// far below the API server's 60 s request timeout that a collection delete of every
// Service at once runs into. Services, EndpointSlices and pods support deletecollection
// in Kubernetes v1.34 (api/discovery/api__v1.json, apis__discovery.k8s.io__v1.json); an
// API server that answers 405 gets one delete per object (bulk: bounded concurrency,
// 429 backoff).
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../wait-for.js';
import { bulk, type BulkResult } from './bulk.js';
import { apiMessage, apiStatus, type KubeClients } from './clients.js';

export const CHUNK_PACE = {
  /** objects in the first request: small, until the server's pace is known */
  first: 100,
  min: 20,
  max: 5000,
  /** a request should take about this long */
  targetSeconds: 10,
} as const;

/**
 * The next page size: as many objects as the server deleted in `targetSeconds` during the
 * last request, at most twice the last size (one fast page proves little), within
 * [min, max]. A failed request (seconds undefined) halves it.
 */
export function nextChunkSize(last: number, seconds: number | undefined, pace: { min: number; max: number; targetSeconds: number } = CHUNK_PACE): number {
  const want = seconds === undefined ? last / 2 : Math.min(2 * last, (last / Math.max(seconds, 1e-3)) * pace.targetSeconds);
  return Math.round(Math.max(pace.min, Math.min(pace.max, want)));
}

export type PacedKind = 'services' | 'endpointslices' | 'pods';

const NOUN: Record<PacedKind, string> = { services: 'Services', endpointslices: 'EndpointSlices', pods: 'pods' };

export interface PacedDeleteOptions {
  /** called at most every TIMEOUTS.progressEveryMs and at the end: "deleted 4,000/10,000 Services" */
  onProgress?: (line: string) => void;
}

export interface PacedDeleteResult {
  kind: PacedKind;
  /** objects found at the start */
  total: number;
  seconds: number;
  requests: number;
  /** true: one delete per object (the API server has no collection delete for the kind) */
  oneByOne: boolean;
}

function names(c: KubeClients, kind: PacedKind, namespace: string, labelSelector: string, limit: number, _continue?: string): Promise<{ items: { metadata?: { name?: string } }[]; metadata?: { _continue?: string } }> {
  switch (kind) {
    case 'services':
      return c.core.listNamespacedService({ namespace, labelSelector, limit, _continue });
    case 'endpointslices':
      return c.discovery.listNamespacedEndpointSlice({ namespace, labelSelector, limit, _continue });
    case 'pods':
      return c.core.listNamespacedPod({ namespace, labelSelector, limit, _continue });
  }
}

async function listNames(c: KubeClients, kind: PacedKind, namespace: string, labelSelector: string): Promise<string[]> {
  const out: string[] = [];
  let cont: string | undefined;
  do {
    const page = await names(c, kind, namespace, labelSelector, 1000, cont);
    out.push(...page.items.map((i) => i.metadata!.name!));
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

function deleteChunk(c: KubeClients, kind: PacedKind, namespace: string, labelSelector: string, limit: number): Promise<unknown> {
  switch (kind) {
    case 'services':
      return c.core.deleteCollectionNamespacedService({ namespace, labelSelector, limit });
    case 'endpointslices':
      return c.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector, limit });
    case 'pods':
      return c.core.deleteCollectionNamespacedPod({ namespace, labelSelector, limit });
  }
}

function deleteOne(c: KubeClients, kind: PacedKind, namespace: string, name: string): Promise<unknown> {
  switch (kind) {
    case 'services':
      return c.core.deleteNamespacedService({ namespace, name });
    case 'endpointslices':
      return c.discovery.deleteNamespacedEndpointSlice({ namespace, name });
    case 'pods':
      return c.core.deleteNamespacedPod({ namespace, name });
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Deletes every object of `kind` matching `labelSelector` in `namespace`, page by page at
 * the server's pace (above), and returns once a list finds none left. Transient failures
 * (429, 5xx, no answer) are tried again with a smaller page until TIMEOUTS.deleteChunkMs.
 */
export async function pacedDelete(c: KubeClients, kind: PacedKind, namespace: string, labelSelector: string, o: PacedDeleteOptions = {}): Promise<PacedDeleteResult> {
  const t0 = performance.now();
  const noun = NOUN[kind];
  const total = (await listNames(c, kind, namespace, labelSelector)).length;
  let deleted = 0;
  let requests = 0;
  let lastLine = t0;
  let lastCount = -1;
  const progress = (force: boolean): void => {
    const now = performance.now();
    if (!o.onProgress || (!force && now - lastLine < TIMEOUTS.progressEveryMs) || deleted === lastCount) return;
    lastLine = now;
    lastCount = deleted;
    const s = (now - t0) / 1000;
    o.onProgress(`deleted ${fmt(deleted)}/${fmt(total)} ${noun} in ${namespace} (${(deleted / Math.max(s, 1e-3)).toFixed(0)}/s)`);
  };
  if (total === 0) return { kind, total, seconds: 0, requests, oneByOne: false };
  let chunk: number = CHUNK_PACE.first;
  for (;;) {
    // the server deletes one page per request: what is left after it answered, the next
    // request finds (also objects made meanwhile, or left by a request that failed half-way)
    const left = (await names(c, kind, namespace, labelSelector, 1)).items.length;
    if (left === 0) break;
    let failedAttempts = 0;
    try {
      await waitFor(
        async () => {
          const started = performance.now();
          try {
            requests++;
            await deleteChunk(c, kind, namespace, labelSelector, chunk);
          } catch (e) {
            const status = apiStatus(e);
            if (status === 405) throw new StopWaiting(Object.assign(new Error('405'), { oneByOne: true }));
            const transient = status === undefined || status === 429 || status >= 500;
            if (!transient) throw new StopWaiting(new Error(`collection delete of ${noun} in ${namespace} (${labelSelector}): ${apiMessage(e)}`));
            failedAttempts++;
            chunk = nextChunkSize(chunk, undefined);
            throw e;
          }
          // a page deletes min(chunk, what is left): the count for the progress line
          deleted = Math.min(total, deleted + chunk);
          chunk = nextChunkSize(chunk, (performance.now() - started) / 1000);
          return true;
        },
        { timeout: TIMEOUTS.deleteChunkMs, interval: (n) => Math.min(5_000, 250 * 2 ** n), what: `collection delete of ${noun} in ${namespace} (${labelSelector})` },
      );
    } catch (e) {
      if ((e as { oneByOne?: boolean }).oneByOne) {
        const r = await deleteOneByOne(c, kind, namespace, labelSelector, o, total, t0);
        return { kind, total, seconds: r.seconds, requests: requests + r.done, oneByOne: true };
      }
      throw e instanceof WaitTimeoutError ? new Error(`${e.message} (${failedAttempts} failed requests); kube-sli gc removes what is left`, { cause: e }) : e;
    }
    progress(false);
  }
  deleted = total;
  progress(true);
  return { kind, total, seconds: (performance.now() - t0) / 1000, requests, oneByOne: false };
}

async function deleteOneByOne(c: KubeClients, kind: PacedKind, namespace: string, labelSelector: string, o: PacedDeleteOptions, total: number, t0: number): Promise<BulkResult> {
  const noun = NOUN[kind];
  const all = await listNames(c, kind, namespace, labelSelector);
  return bulk(all, (name) => deleteOne(c, kind, namespace, name), {
    concurrency: 32,
    tolerate: [404],
    progressEveryMs: TIMEOUTS.progressEveryMs,
    onProgress: (done, n) => o.onProgress?.(`deleted ${fmt(total - n + done)}/${fmt(total)} ${noun} in ${namespace}, one by one (no collection delete here) (${((total - n + done) / Math.max((performance.now() - t0) / 1000, 1e-3)).toFixed(0)}/s)`),
  });
}
