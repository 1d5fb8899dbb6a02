// Reads (and small POSTs) into the cluster through the API server's proxy subresources:
// pods/proxy, nodes/proxy, services/proxy. The kit reads agent flows, loadgen results and
// kube-proxy metrics this way, so the same code works on a cloud cluster and on the lab.
// client-node has typed helpers for these but they return bodies as strings without
// status or headers, and they open a TLS connection per call; this is one https.request
// with the kubeconfig's credentials and a keep-alive agent.
//
// A loaded API server answers its proxy late (no answer within the per-request timeout)
// or with a 5xx of its own (503 when it cannot reach the pod, 504 when the pod answered too
// late): reads (GET, and requests the caller marks idempotent) are tried again with
// exponential backoff and jitter ("Exponential Backoff And Jitter", AWS Architecture
// Blog, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) until
// TIMEOUTS.proxyReadMs. A read still failing then is an InfrastructureError: the run
// could not measure, which the reporter turns into exit code 3.
import { InfrastructureError } from '../infrastructure-error.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../wait-for.js';
import http from 'node:http';
import https from 'node:https';
import type { KubeClients } from './clients.js';

export type ProxyTarget =
  | { kind: 'pod'; namespace: string; name: string; port: number; scheme?: 'http' | 'https' }
  | { kind: 'node'; name: string; port?: number; scheme?: 'http' | 'https' }
  | { kind: 'service'; namespace: string; name: string; port: number | string; scheme?: 'http' | 'https' };

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class ProxyError extends Error {
  override name = 'ProxyError';
  constructor(
    message: string,
    readonly status?: number,
    /** the request got no answer within its timeout */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

const enc = encodeURIComponent;

function hostPart(scheme: string | undefined, name: string, port: number | string | undefined): string {
  const s = scheme && scheme !== 'http' ? `${scheme}:` : '';
  return enc(`${s}${name}${port === undefined ? '' : `:${port}`}`);
}

/** API path of a proxied request, e.g. /api/v1/namespaces/ns/pods/p:8090/proxy/runs/r1 */
export function proxyPath(t: ProxyTarget, path: string): string {
  const rest = path.startsWith('/') ? path : `/${path}`;
  switch (t.kind) {
    case 'pod':
      return `/api/v1/namespaces/${enc(t.namespace)}/pods/${hostPart(t.scheme, t.name, t.port)}/proxy${rest}`;
    case 'service':
      return `/api/v1/namespaces/${enc(t.namespace)}/services/${hostPart(t.scheme, t.name, t.port)}/proxy${rest}`;
    case 'node':
      return `/api/v1/nodes/${hostPart(t.scheme, t.name, t.port)}/proxy${rest}`;
  }
}

export function describeTarget(t: ProxyTarget): string {
  return t.kind === 'node' ? `node ${t.name}:${t.port ?? 'kubelet'}` : `${t.kind} ${t.namespace}/${t.name}:${t.port}`;
}

const agents = new WeakMap<KubeClients, https.Agent>();

export interface ProxyRequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  /** JSON-encoded when not a string */
  body?: unknown;
  timeoutMs?: number;
  /** extra request headers; pods/proxy forwards them (but drops Authorization) */
  headers?: Record<string, string>;
  /** try again on timeouts, broken connections, 429 and 5xx until deadlineMs (default: GET;
   * a POST that may safely be repeated opts in, a read with its own fallback opts out) */
  retry?: boolean;
  /** how long to keep trying (default TIMEOUTS.proxyReadMs); each attempt has timeoutMs */
  deadlineMs?: number;
}

/** What went wrong with one attempt. */
export type ProxyFailure =
  | { kind: 'timeout' }
  /** the connection to the API server failed (reset, refused) */
  | { kind: 'network'; message: string }
  | { kind: 'status'; status: number; retryAfterSeconds?: number };

export interface RetryPolicy {
  /** pause before the second attempt (before jitter) */
  firstDelayMs: number;
  /** the pause doubles per attempt up to this */
  maxDelayMs: number;
  /** no attempt starts after this much time since the first */
  deadlineMs: number;
}

export const PROXY_RETRY: Omit<RetryPolicy, 'deadlineMs'> = { firstDelayMs: 250, maxDelayMs: 8000 };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; why: string };

/**
 * Whether attempt `attempt` (0 = the first) that failed with `f`, `elapsedMs` after the
 * first attempt started, is tried again, and after which pause: timeouts, broken
 * connections, 429 and every 5xx are; other answers are the target's own and final.
 * The pause is the capped exponential with "equal jitter" (half fixed, half random), or the
 * server's Retry-After when it names one; never past the deadline.
 */
export function proxyRetryDecision(f: ProxyFailure, attempt: number, elapsedMs: number, p: RetryPolicy, random: () => number = Math.random): RetryDecision {
  if (f.kind === 'status' && f.status !== 429 && f.status < 500) return { retry: false, why: `HTTP ${f.status} is the target's answer, not a transient failure` };
  const backoff = Math.min(p.maxDelayMs, p.firstDelayMs * 2 ** attempt);
  const delayMs = f.kind === 'status' && f.retryAfterSeconds !== undefined && f.retryAfterSeconds > 0 ? Math.min(p.maxDelayMs, f.retryAfterSeconds * 1000) : backoff / 2 + (backoff / 2) * random();
  if (elapsedMs + delayMs >= p.deadlineMs) return { retry: false, why: `the next attempt would start after the ${p.deadlineMs / 1000} s deadline` };
  return { retry: true, delayMs };
}

function failureText(f: ProxyFailure, timeoutMs: number): string {
  return f.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : f.kind === 'network' ? (f.message.split(': ').at(-1) ?? f.message) : `HTTP ${f.status}`;
}

/**
 * One request through the API server's proxy. Reads (GET, unless `retry: false`; a POST with `retry: true`) are tried
 * again on timeouts, broken connections, 429 and 5xx until `deadlineMs`; then an
 * InfrastructureError names every attempt's failure. Other answers are returned as they are.
 */
export async function proxyRequest(clients: KubeClients, target: ProxyTarget, path: string, o: ProxyRequestOptions = {}): Promise<ProxyResponse> {
  const method = o.method ?? 'GET';
  const timeoutMs = o.timeoutMs ?? TIMEOUTS.proxyRequestMs;
  if (!(o.retry ?? method === 'GET')) return attempt(clients, target, path, o, timeoutMs);
  const policy: RetryPolicy = { ...PROXY_RETRY, deadlineMs: o.deadlineMs ?? TIMEOUTS.proxyReadMs };
  const what = `${method} ${describeTarget(target)}${path}`;
  const t0 = performance.now();
  /** each failed attempt: what kind of failure, and the last one in full */
  const seen: string[] = [];
  let last = '';
  let lastStatus: number | undefined;
  let delayMs = 0;
  const giveUp = (why: string): InfrastructureError => {
    const elapsed = ((performance.now() - t0) / 1000).toFixed(1);
    const counts = [...new Set(seen)].map((k) => `${seen.filter((x) => x === k).length}× ${k}`).join(', ');
    return new InfrastructureError(`${what} through the API server's proxy failed ${seen.length} times in ${elapsed} s (${why}): ${counts}; last: ${last}`, {
      cause: new ProxyError(last, lastStatus),
    });
  };
  try {
    return await waitFor(
      async () => {
        const timeout = Math.max(1, Math.min(timeoutMs, policy.deadlineMs - (performance.now() - t0)));
        let failure: ProxyFailure;
        let answer: ProxyResponse | undefined;
        try {
          answer = await attempt(clients, target, path, o, timeout);
          if (answer.status !== 429 && answer.status < 500) return answer;
          const ra = Number(answer.headers['retry-after']);
          failure = { kind: 'status', status: answer.status, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterSeconds: ra } : {}) };
          lastStatus = answer.status;
        } catch (e) {
          if (!(e instanceof ProxyError)) throw new StopWaiting(e as Error);
          failure = e.timedOut ? { kind: 'timeout' } : { kind: 'network', message: e.message };
        }
        seen.push(failureText(failure, timeout));
        last = answer ? `HTTP ${answer.status}: ${answer.text.trim().slice(0, 300)}` : failure.kind === 'network' ? failure.message : seen.at(-1)!;
        const d = proxyRetryDecision(failure, seen.length - 1, performance.now() - t0, policy);
        if (!d.retry) throw new StopWaiting(giveUp(d.why));
        delayMs = d.delayMs;
        throw new ProxyError(last, lastStatus);
      },
      { timeout: policy.deadlineMs, interval: () => delayMs, what },
    );
  } catch (e) {
    throw e instanceof WaitTimeoutError ? giveUp(`not answered within the ${policy.deadlineMs / 1000} s deadline`) : e;
  }
}

async function attempt(clients: KubeClients, target: ProxyTarget, path: string, o: ProxyRequestOptions, timeoutMs: number): Promise<ProxyResponse> {
  const cluster = clients.config.getCurrentCluster();
  // not a ProxyError: nothing to try again
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(proxyPath(target, path), cluster.server);
  const opts: https.RequestOptions = { method: o.method ?? 'GET', headers: {} };
  await clients.config.applyToHTTPSOptions(opts);
  let agent = agents.get(clients);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized });
    agents.set(clients, agent);
  }
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { ...o.headers, ...(opts.headers as Record<string, string>) };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise<ProxyResponse>((resolve, reject) => {
    const request = url.protocol === 'http:' ? http.request : https.request;
    const req = request(url, { method: opts.method, headers, agent: url.protocol === 'https:' ? agent : undefined, auth: opts.auth }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(new ProxyError(`${o.method ?? 'GET'} ${describeTarget(target)}${path}: the answer broke off: ${e.message}`)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new ProxyError(`${o.method ?? 'GET'} ${describeTarget(target)}${path}: no answer within ${timeoutMs} ms`, undefined, true)));
    req.on('error', (e) => reject(e instanceof ProxyError ? e : new ProxyError(`${o.method ?? 'GET'} ${describeTarget(target)}${path} via ${cluster.server}: ${e.message}`)));
    req.end(body);
  });
}

/** proxyRequest that wants a 2xx; the error quotes the answer. */
export async function proxyText(clients: KubeClients, target: ProxyTarget, path: string, o: ProxyRequestOptions = {}): Promise<string> {
  const r = await proxyRequest(clients, target, path, o);
  if (r.status < 200 || r.status >= 300) {
    throw new ProxyError(`${o.method ?? 'GET'} ${describeTarget(target)}${path}: HTTP ${r.status}: ${r.text.trim().slice(0, 300)}`, r.status);
  }
  return r.text;
}

export async function proxyJson<T>(clients: KubeClients, target: ProxyTarget, path: string, o: ProxyRequestOptions = {}): Promise<T> {
  const text = await proxyText(clients, target, path, o);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ProxyError(`${describeTarget(target)}${path}: answer is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Frees the keep-alive connections (end of a run). */
export function closeProxyAgent(clients: KubeClients): void {
  agents.get(clients)?.destroy();
  agents.delete(clients);
}
