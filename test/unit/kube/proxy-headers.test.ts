// proxyRequest sends the caller's extra headers (the loadgen's control token) with the
// kubeconfig's credentials; checked against a real HTTP listener on loopback.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { kubeClients } from '../../../src/kube/clients.js';
import { FactsError, podCidrsOf } from '../../../src/kube/facts.js';
import { proxyRequest } from '../../../src/kube/proxy.js';

let server: http.Server;
let dir: string;
const seen: http.IncomingHttpHeaders[] = [];
const paths: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    paths.push(req.url ?? '');
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  dir = mkdtempSync(join(tmpdir(), 'ksli-proxy-'));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'config'),
    `apiVersion: v1
kind: Config
current-context: c
clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: api-credential } }]
contexts: [{ name: c, context: { cluster: c, user: u } }]
`,
  );
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('proxyRequest headers', () => {
  it('sends extra headers beside the credentials, to the pods/proxy path', async () => {
    const clients = kubeClients(join(dir, 'config'));
    const r = await proxyRequest(clients, { kind: 'pod', namespace: 'ns', name: 'client-0', port: 8090 }, '/runs/r1', { headers: { 'x-kube-sli-token': 'secret-token-123456' } });
    expect(r.status).toBe(200);
    expect(paths.at(-1)).toBe('/api/v1/namespaces/ns/pods/client-0%3A8090/proxy/runs/r1');
    expect(seen.at(-1)!['x-kube-sli-token']).toBe('secret-token-123456');
    expect(seen.at(-1)!.authorization).toBe('Bearer api-credential');
  });
});

describe('podCidrsOf', () => {
  const node = (spec: k8s.V1NodeSpec): k8s.V1Node => ({ metadata: { name: 'n' }, spec });
  it('takes SLI_POD_CIDR, else the Nodes podCIDRs, and says which', () => {
    const sources: Record<string, string> = {};
    expect(podCidrsOf([node({ podCIDRs: ['10.244.0.0/24'] }), node({ podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] }), node({ podCIDR: '10.244.0.0/24' })], {}, sources)).toEqual([
      '10.244.0.0/24',
      '10.244.1.0/24',
      'fd00:10:244:1::/64',
    ]);
    expect(sources.podCidrs).toBe('Node spec.podCIDRs');
    expect(podCidrsOf([], { SLI_POD_CIDR: '10.0.0.0/16, 10.1.0.0/16' }, sources)).toEqual(['10.0.0.0/16', '10.1.0.0/16']);
    expect(sources.podCidrs).toBe('env SLI_POD_CIDR');
  });
  it('without either, an error naming SLI_POD_CIDR', () => {
    expect(() => podCidrsOf([node({})], {}, {})).toThrow(FactsError);
    expect(() => podCidrsOf([node({})], {}, {})).toThrow(/set SLI_POD_CIDR/);
  });
});
