// The agent's GET /kube-proxy/metrics: kube-proxy's metrics (often bound to 127.0.0.1, so
// only reachable from the node's namespace) relayed as they are, 502 with the reason when
// kube-proxy cannot be read. The route's handler is tested behind its own server (the whole
// agent needs root and a collector); the CLI flag is checked for bad input.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_KUBE_PROXY_METRICS_URL, kubeProxyMetricsRelay } from '../../../src/agent/agent.js';
import { AGENT_USAGE } from '../../../src/cli/agent-command.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';

const FIXTURE = readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy/metrics-nftables-after.txt'), 'utf8');
const PROM_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const listen = async (handler: http.RequestListener): Promise<{ server: http.Server; url: string }> => {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};
const close = (s: http.Server) => new Promise((r) => { s.closeAllConnections(); s.close(r); });

describe('kubeProxyMetricsRelay', () => {
  let kubeProxy: { server: http.Server; url: string };
  const servers: http.Server[] = [];
  beforeAll(async () => {
    kubeProxy = await listen((req, res) => {
      if (req.url === '/metrics') res.writeHead(200, { 'content-type': PROM_TYPE }).end(FIXTURE);
      else if (req.url === '/hang') return; // never answers
      else res.writeHead(500).end('internal error\n');
    });
  });
  afterAll(async () => {
    for (const s of [kubeProxy.server, ...servers]) await close(s);
  });
  const agent = async (target: string, timeoutMs?: number): Promise<string> => {
    const relay = kubeProxyMetricsRelay(target, timeoutMs);
    const a = await listen((_req, res) => relay(res));
    servers.push(a.server);
    return a.url;
  };

  it('relays the body and content type as kube-proxy served them', async () => {
    const r = await fetch(await agent(`${kubeProxy.url}/metrics`));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(PROM_TYPE);
    expect(await r.text()).toBe(FIXTURE);
  });

  it('502 naming the URL and status when kube-proxy answers an error', async () => {
    const r = await fetch(await agent(`${kubeProxy.url}/other`));
    expect(r.status).toBe(502);
    expect(await r.text()).toBe(`kube-proxy metrics at ${kubeProxy.url}/other answered HTTP 500: internal error\n`);
  });

  it('502 with the reason when nothing listens', async () => {
    const gone = await listen(() => undefined);
    await close(gone.server);
    const r = await fetch(await agent(`${gone.url}/metrics`));
    expect(r.status).toBe(502);
    expect(await r.text()).toMatch(new RegExp(`^kube-proxy metrics at ${gone.url}/metrics unreachable: .*ECONNREFUSED`));
  });

  it('502 when kube-proxy does not answer in time', async () => {
    const r = await fetch(await agent(`${kubeProxy.url}/hang`, 200));
    expect(r.status).toBe(502);
    expect(await r.text()).toMatch(/unreachable: .*(timeout|aborted)/i);
  });
});

describe('kube-sli agent --kube-proxy-metrics', () => {
  const errors: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
  });

  it('is documented with its default', () => {
    expect(DEFAULT_KUBE_PROXY_METRICS_URL).toBe('http://127.0.0.1:10249/metrics');
    expect(AGENT_USAGE).toContain('--kube-proxy-metrics <url>');
    expect(AGENT_USAGE).toContain('/kube-proxy/metrics');
    expect(AGENT_USAGE).toContain(DEFAULT_KUBE_PROXY_METRICS_URL);
  });

  it.each(['not a url', 'ftp://127.0.0.1:10249/metrics'])('refuses %j before touching anything (exit 2)', async (url) => {
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    expect(await main(['agent', '--service-cidr', '10.96.0.0/12', '--kube-proxy-metrics', url])).toBe(EXIT.invalidConfig);
    expect(errors.join('\n')).toMatch(/kube-proxy metrics URL .* is not an http\(s\) URL/);
  });
});
