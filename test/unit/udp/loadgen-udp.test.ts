// The loadgen's "udp" runs against the kit server's UDP echo on loopback: real sockets,
// one source port per exchange, replies timed, silence counted as loss and ICMP errors
// as failures.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../../../src/workload/server.js';
import { startUdpRun } from '../../../src/workload/loadgen/udp-run.js';
import { parseRunSpec } from '../../../src/workload/loadgen.js';
import type { UdpExchangeResult, UdpRunSpec, UdpSummary } from '../../../src/workload/loadgen.js';

let kit: ServerHandle;
let silent: dgram.Socket;
let silentPort: number;
let closedPort: number;

const bound = (s: dgram.Socket): Promise<number> => new Promise((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));

beforeAll(async () => {
  kit = await startServer(0, '127.0.0.1');
  silent = dgram.createSocket('udp4');
  silentPort = await bound(silent); // receives, never answers
  const gone = dgram.createSocket('udp4');
  closedPort = await bound(gone);
  await new Promise<void>((r) => gone.close(() => r()));
});
afterAll(async () => {
  await kit.close();
  silent.close();
});

const spec = (body: object): UdpRunSpec => parseRunSpec({ mode: 'udp', portFirst: 41000, portCount: 2000, ...body }) as UdpRunSpec;

describe('loadgen udp runs', () => {
  it('times every exchange to the echo, each from its own source port', async () => {
    const run = startUdpRun('u1', spec({ targets: [{ host: '127.0.0.1', port: kit.port }], exchanges: 100, rate: 1000 }));
    await run.settled;
    const results = run.results as UdpExchangeResult[];
    expect(run.summary()).toMatchObject({ ok: 100, lost: 0, failed: 0 });
    expect(run.stoppedBy).toBe('exchanges');
    expect(new Set(results.map((r) => r.localPort)).size).toBe(100);
    expect(results.every((r) => r.rttSeconds! > 0 && r.rttSeconds! < 1 && r.sentNs !== undefined)).toBe(true);
  });

  it('counts silence past the timeout as lost and an ICMP port-unreachable as failed', async () => {
    const run = startUdpRun('u2', spec({ targets: [{ host: '127.0.0.1', port: silentPort }, { host: '127.0.0.1', port: closedPort }], exchanges: 10, rate: 200, timeoutMs: 100 }));
    await run.settled;
    const s = run.summary() as UdpSummary;
    expect(s).toMatchObject({ ok: 0, lost: 5, failed: 5 });
    const results = run.results as UdpExchangeResult[];
    expect(results.filter((r) => r.target === 0).every((r) => r.error === 'timeout')).toBe(true);
    expect(results.filter((r) => r.target === 1).every((r) => r.error === 'ECONNREFUSED')).toBe(true);
  });

  it('never sends ahead of its open-loop schedule (50 exchanges at 100/s span 0.49 s at least), and says how late it sent', async () => {
    const t0 = performance.now();
    const run = startUdpRun('u3', spec({ targets: [{ host: '127.0.0.1', port: kit.port }], exchanges: 50, rate: 100 }));
    await run.settled;
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(490);
    const s = run.summary() as UdpSummary;
    expect(s.ok).toBe(50);
    expect(s.maxLateSeconds).toBeGreaterThanOrEqual(0);
    expect((run.results as UdpExchangeResult[]).every((r) => r.lateSeconds <= s.maxLateSeconds)).toBe(true);
  });
});
