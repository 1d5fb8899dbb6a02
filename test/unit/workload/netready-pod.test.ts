// The network-ready pod's program, run as the pod runs it (plain node): it listens, and its
// egress prober keeps trying a VIP until one connect completes, then logs the instant.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { waitFor } from '../../../src/wait-for.js';

const SCRIPT = fileURLToPath(new URL('../../../src/workload/netready-pod.mjs', import.meta.url));
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});

function start(env: Record<string, string>): { lines: Record<string, unknown>[] } {
  const child = spawn(process.execPath, [SCRIPT, '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const out = { lines: [] as Record<string, unknown>[] };
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) out.lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return out;
}

test('listens, and reports the first egress success once the target starts answering', async () => {
  // a free port nothing listens on yet: the prober's first attempts are refused
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const out = start({ KUBE_SLI_EGRESS_PROBE: `127.0.0.1:${port}` });
  const listening = await waitFor(() => out.lines.find((l) => 'listening' in l) ?? { pending: 'no listening line' }, { timeout: 10_000, interval: 20, what: 'listening line' });
  expect(BigInt(listening.epochNs as string)).toBeGreaterThan(0n);
  // it answers a handshake
  await new Promise<void>((resolve, reject) => net.connect(listening.listening as number, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(); }).once('error', reject));
  await waitFor(() => (out.lines.length >= 1 ? true : { pending: '' }), { timeout: 5000, interval: 20, what: 'output' });
  expect(out.lines.some((l) => 'egress' in l)).toBe(false);
  const up = net.createServer((s) => s.end());
  servers.push(up);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  await new Promise<void>((r) => up.listen(port, '127.0.0.1', r));
  const line = await waitFor(() => out.lines.find((l) => 'egress' in l) ?? { pending: 'no egress line' }, { timeout: 10_000, interval: 20, what: 'egress line' });
  const e = line.egress as { firstSuccessNs: string; firstAttemptNs: string; attempts: number; target: string };
  expect(e.target).toBe(`127.0.0.1:${port}`);
  expect(e.attempts).toBeGreaterThan(1);
  // within a few probe intervals of the target starting to answer (10 ms interval; a loaded machine gets slack)
  expect(Number(BigInt(e.firstSuccessNs) - t0) / 1e6).toBeGreaterThanOrEqual(-5);
  expect(Number(BigInt(e.firstSuccessNs) - t0) / 1e6).toBeLessThan(1000);
  expect(BigInt(e.firstAttemptNs)).toBeLessThan(BigInt(e.firstSuccessNs));
});

test('a malformed target is refused with the variable named', async () => {
  const child = spawn(process.execPath, [SCRIPT, '0'], { env: { ...process.env, KUBE_SLI_EGRESS_PROBE: 'no-port' }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  expect(code).not.toBe(0);
  expect(err).toMatch(/KUBE_SLI_EGRESS_PROBE="no-port": give host:port/);
});
