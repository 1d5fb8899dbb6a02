// The egress CONNECT proxy program (src/lab/network/egress-proxy-main.ts) without a
// namespace: its request parsing, its allow list (src/net/cidr.ts) and the proxy itself on
// a unix socket in a temp dir, connecting to a loopback server. The namespace side runs in
// test/lab/network.test.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr } from '../../../src/net/cidr.js';
import { createConnectProxy, isAllowedTarget, parseConnectRequest } from '../../../src/lab/network/egress-proxy-main.js';
import { netnsProgramArgv, tsxLoaderUrl } from '../../../src/lab/network/netns-program.js';

describe('parseConnectRequest', () => {
  it('reads the target of a CONNECT request', () => {
    expect(parseConnectRequest('CONNECT 10.244.1.2:8080 HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual({ host: '10.244.1.2', port: 8080 });
  });
  it('reads an IPv6 target in brackets (the apiserver dials net.JoinHostPort)', () => {
    expect(parseConnectRequest('CONNECT [fd00:10:244:1::5]:8090 HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual({ host: 'fd00:10:244:1::5', port: 8090 });
    expect(parseConnectRequest('CONNECT fd00::5:8090 HTTP/1.1\r\n\r\n')).toBeUndefined();
    expect(parseConnectRequest('CONNECT [fd00::5 HTTP/1.1\r\n\r\n')).toBeUndefined();
  });
  it('refuses other methods, ports out of range and missing ports', () => {
    expect(parseConnectRequest('GET / HTTP/1.1\r\n\r\n')).toBeUndefined();
    expect(parseConnectRequest('CONNECT 10.244.1.2:0 HTTP/1.1\r\n\r\n')).toBeUndefined();
    expect(parseConnectRequest('CONNECT 10.244.1.2:65536 HTTP/1.1\r\n\r\n')).toBeUndefined();
    expect(parseConnectRequest('CONNECT 10.244.1.2 HTTP/1.1\r\n\r\n')).toBeUndefined();
  });
});

describe('isAllowedTarget', () => {
  const allow = ['10.200.0.0/24', '10.244.1.7/16'].map((c) => parseCidr(c));
  it('allows addresses inside the ranges, the whole range even when written with host bits', () => {
    expect(isAllowedTarget('10.200.0.9', allow)).toBe(true);
    // the hand-written arithmetic it replaces started this range at 10.244.1.7
    expect(isAllowedTarget('10.244.0.1', allow)).toBe(true);
  });
  it('refuses addresses outside, and host names (the proxy resolves nothing)', () => {
    expect(isAllowedTarget('192.0.2.1', allow)).toBe(false);
    expect(isAllowedTarget('10.201.0.1', allow)).toBe(false);
    expect(isAllowedTarget('localhost', allow)).toBe(false);
  });
});

describe('the proxy on a unix socket', () => {
  let dir: string;
  let proxy: Server;
  let backend: Server;
  let backendPort: number;
  const socketPath = (): string => join(dir, 'egress.sock');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksli-egress-'));
    backend = createServer((s) => s.once('data', (d) => s.end(`echo ${d.toString()}`)));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    backendPort = (backend.address() as { port: number }).port;
    proxy = createConnectProxy([parseCidr('127.0.0.0/8')]);
    await new Promise<void>((r) => proxy.listen(socketPath(), () => r()));
  });
  afterAll(async () => {
    await new Promise((r) => proxy.close(r));
    await new Promise((r) => backend.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  function ask(request: string, payload?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = createConnection(socketPath());
      let out = '';
      let sent = false;
      s.on('connect', () => s.write(request));
      s.on('data', (d) => {
        out += d.toString();
        if (payload !== undefined && !sent && out.startsWith('HTTP/1.1 200') && out.includes('\r\n\r\n')) {
          sent = true;
          s.write(payload);
        }
      });
      s.on('end', () => resolve(out)).on('error', reject);
    });
  }

  it('tunnels to an allowed address', async () => {
    const out = await ask(`CONNECT 127.0.0.1:${backendPort} HTTP/1.1\r\n\r\n`, 'hello');
    expect(out).toBe('HTTP/1.1 200 Connection established\r\n\r\necho hello');
  });
  it('answers 403 outside the allowed ranges, 405 to anything but CONNECT, 502 when the target refuses', async () => {
    expect(await ask('CONNECT 192.0.2.1:443 HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 Forbidden[\s\S]*192\.0\.2\.1 is outside the lab/);
    expect(await ask('GET / HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 405 /);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    expect(await ask(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 502 [\s\S]*ECONNREFUSED/);
  });
});

describe('netns programs', () => {
  it('run the module through the kit\'s own tsx loader', () => {
    expect(existsSync(fileURLToPath(tsxLoaderUrl()))).toBe(true);
    const url = new URL('../../../src/lab/network/egress-proxy-main.ts', import.meta.url);
    expect(netnsProgramArgv('ksli-x-fabric', url)).toEqual([
      'ip', 'netns', 'exec', 'ksli-x-fabric', process.execPath, '--import', tsxLoaderUrl(), fileURLToPath(url),
    ]);
  });
});
