// The loadgen is confined and answers only its runner: checked on loopback with real
// sockets. 127.0.0.1/32 plays the cluster's ranges; 127.0.0.2 (also loopback on Linux)
// plays an address outside them, with a real listener that must never see a connection.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/exit-codes.js';
import { loadgenCommand } from '../../../src/cli/loadgen-command.js';
import { CidrError } from '../../../src/net/cidr.js';
import { ConfinementError, confineTo } from '../../../src/workload/confine.js';
import { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER, ControlAuthError, newControlToken } from '../../../src/workload/control-auth.js';
import { type LoadgenHandle, type ProbeView, type RunView, startLoadgen } from '../../../src/workload/loadgen.js';
import { type ServerHandle, startServer } from '../../../src/workload/server.js';

const TOKEN = newControlToken();
let lg: LoadgenHandle;
let inside: ServerHandle;
let outside: net.Server;
let outsidePort = 0;
let outsideAccepted = 0;

beforeAll(async () => {
  inside = await startServer(0, '127.0.0.1');
  outside = net.createServer((s) => {
    outsideAccepted++;
    s.destroy();
  });
  await new Promise<void>((r) => outside.listen(0, '127.0.0.2', () => r()));
  outsidePort = (outside.address() as net.AddressInfo).port;
  lg = await startLoadgen({ port: 0, host: '127.0.0.1', token: TOKEN, allow: ['127.0.0.1/32', 'fd00:10:96::/112'] });
});
afterAll(async () => {
  await lg?.close();
  await inside?.close();
  await new Promise<void>((r) => (outside ? outside.close(() => r()) : r()));
});

async function call<T>(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: T }> {
  const res = await fetch(`${lg.url}${path}`, {
    method,
    headers: token === null ? {} : { [CONTROL_TOKEN_HEADER]: token },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
}

describe('control port: only the runner with the token', () => {
  it('refuses every endpoint but /healthz without the token, or with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/time'],
      ['POST', '/runs'],
      ['GET', '/runs/r1'],
      ['POST', '/probes'],
      ['DELETE', '/probes/p1'],
    ] as const) {
      const none = await call<{ error: string }>(method, path, undefined, null);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.error).toMatch(/missing x-kube-sli-token header/);
      const wrong = await call<{ error: string }>(method, path, undefined, newControlToken());
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(wrong.body.error).toMatch(/wrong x-kube-sli-token/);
    }
    expect((await call('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await call('GET', '/time')).status).toBe(200);
  });
  it('starts nothing for a request without the token', async () => {
    const r = await call('POST', '/runs', { mode: 'requests', targets: [{ host: '127.0.0.1', port: inside.port }], connections: 1 }, null);
    expect(r.status).toBe(401);
    expect((await call('GET', '/runs/r1')).status).toBe(404);
  });
  it('refuses to start without a token worth the name', async () => {
    await expect(startLoadgen({ port: 0, host: '127.0.0.1', token: '', allow: ['127.0.0.1/32'] })).rejects.toThrow(ControlAuthError);
    await expect(startLoadgen({ port: 0, host: '127.0.0.1', token: 'short', allow: ['127.0.0.1/32'] })).rejects.toThrow(/at least 16 characters in KUBE_SLI_LOADGEN_TOKEN/);
  });
});

describe('confinement: only the allowed CIDRs', () => {
  it('refuses a run to an address outside them, before any connection', async () => {
    const r = await call<{ error: string }>('POST', '/runs', {
      mode: 'requests',
      targets: [
        { host: '127.0.0.1', port: inside.port },
        { host: '127.0.0.2', port: outsidePort },
      ],
      connections: 4,
    });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe("targets[1].host 127.0.0.2 is outside the cluster's Service and pod CIDRs (127.0.0.1/32, fd00:10:96::/112): the loadgen connects only inside the cluster");
    const probe = await call<{ error: string }>('POST', '/probes', { host: '127.0.0.2', port: outsidePort, timeoutMs: 500 });
    expect(probe.status).toBe(403);
    expect(probe.body.error).toMatch(/^host 127\.0\.0\.2 is outside/);
    const stream = await call<{ error: string }>('POST', '/runs', { mode: 'stream', targets: [{ host: '127.0.0.2', port: outsidePort }], streams: 1, durationMs: 100 });
    expect(stream.status).toBe(403);
    expect(outsideAccepted).toBe(0);
  });
  it('refuses DNS names, which could resolve anywhere', async () => {
    const r = await call<{ error: string }>('POST', '/runs', { mode: 'requests', targets: [{ host: 'localhost', port: inside.port }], connections: 1 });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/targets\[0\]\.host "localhost" is not an IP address: .*give the Service's ClusterIP or a pod IP/);
  });
  it('runs and probes inside them as before', async () => {
    const run = await call<{ id: string }>('POST', '/runs', { mode: 'requests', targets: [{ host: '127.0.0.1', port: inside.port }], connections: 3 });
    expect(run.status).toBe(202);
    let view: RunView | undefined;
    await vi.waitFor(async () => {
      view = (await call<RunView>('GET', `/runs/${run.body.id}`)).body;
      expect(view.state).toBe('done');
    });
    expect(view!.results).toHaveLength(3);
    expect(view!.results.every((x) => !('error' in x) || x.error === undefined)).toBe(true);
    const probe = await call<{ id: string }>('POST', '/probes', { host: '127.0.0.1', port: inside.port, timeoutMs: 2000 });
    expect(probe.status).toBe(202);
    await vi.waitFor(async () => expect((await call<ProbeView>('GET', `/probes/${probe.body.id}`)).body.state).toBe('succeeded'));
  });
});

describe('confineTo', () => {
  it('checks IPv4 and IPv6, and IPv4-mapped addresses', () => {
    const c = confineTo(['10.96.0.0/12', '10.244.0.0/16', 'fd00:10:96::/112']);
    expect(() => c.check('10.96.0.10', 'host')).not.toThrow();
    expect(() => c.check('10.244.3.7', 'host')).not.toThrow();
    expect(() => c.check('fd00:10:96::a', 'host')).not.toThrow();
    expect(() => c.check('::ffff:10.96.0.10', 'host')).not.toThrow();
    expect(() => c.check('10.112.0.1', 'host')).toThrow(ConfinementError);
    expect(() => c.check('8.8.8.8', 'host')).toThrow(/host 8\.8\.8\.8 is outside/);
    expect(() => c.check('fd00:10:97::1', 'host')).toThrow(ConfinementError);
  });
  it('needs at least one valid range', () => {
    expect(() => confineTo([])).toThrow(/no allowed CIDR: give the cluster's Service and pod CIDRs/);
    expect(() => confineTo(['10.96.0.0/33'])).toThrow(CidrError);
  });
});

describe('kube-sli loadgen: token and ranges are required', () => {
  it('names the missing input and the fix', async () => {
    vi.stubEnv(CONTROL_TOKEN_ENV, '');
    vi.stubEnv('KUBE_SLI_LOADGEN_ALLOW', '');
    try {
      await expect(loadgenCommand(['--allow-cidr', '10.96.0.0/12', '--listen', '127.0.0.1:0'])).rejects.toThrow(/KUBE_SLI_LOADGEN_TOKEN/);
      vi.stubEnv(CONTROL_TOKEN_ENV, TOKEN);
      await expect(loadgenCommand(['--listen', '127.0.0.1:0'])).rejects.toThrow(UsageError);
      await expect(loadgenCommand(['--listen', '127.0.0.1:0'])).rejects.toThrow(/no allowed CIDR/);
      await expect(loadgenCommand(['--allow-cidr', 'cluster', '--listen', '127.0.0.1:0'])).rejects.toThrow(/invalid CIDR "cluster"/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
