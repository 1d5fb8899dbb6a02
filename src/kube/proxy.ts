// Reads (and small POSTs) into the cluster through the API server's proxy subresources:
// pods/proxy, nodes/proxy, services/proxy. The kit reads agent flows, loadgen results and
// kube-proxy metrics this way, so the same code works on a cloud cluster and on the lab.
// client-node has typed helpers for these but they return bodies as strings without
// status or headers, and they open a TLS connection per call; this is one https.request
// with the kubeconfig's credentials and a keep-alive agent.
import { TIMEOUTS } from '../timeouts.js';
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
}

export async function proxyRequest(clients: KubeClients, target: ProxyTarget, path: string, o: ProxyRequestOptions = {}): Promise<ProxyResponse> {
  const cluster = clients.config.getCurrentCluster();
  if (!cluster) throw new ProxyError('the kubeconfig has no current cluster');
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
  const timeoutMs = o.timeoutMs ?? TIMEOUTS.proxyRequestMs;
  return new Promise<ProxyResponse>((resolve, reject) => {
    const request = url.protocol === 'http:' ? http.request : https.request;
    const req = request(url, { method: opts.method, headers, agent: url.protocol === 'https:' ? agent : undefined, auth: opts.auth }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new ProxyError(`${o.method ?? 'GET'} ${describeTarget(target)}${path}: no answer within ${timeoutMs} ms`)));
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
