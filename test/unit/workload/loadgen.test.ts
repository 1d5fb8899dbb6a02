import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadgenCommand } from '../../../src/cli/loadgen-command.js';
import { UsageError } from '../../../src/cli/exit-codes.js';
import { nowEpochNs } from '../../../src/workload/clock.js';
import { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER, newControlToken } from '../../../src/workload/control-auth.js';
import {
  LOADGEN_LIMITS,
  type LoadgenConnectionResult,
  type LoadgenHandle,
  type ProbeView,
  type RunView,
  type StreamRecord,
  type StreamSummary,
  startLoadgen,
} from '../../../src/workload/loadgen.js';
import { MAX_RESPONSE_BYTES } from '../../../src/workload/protocol.js';
import { type ServerHandle, startServer } from '../../../src/workload/server.js';

const LOOPBACK = '127.0.0.1';
const TOKEN = newControlToken();
let kit: ServerHandle;
let kit2: ServerHandle;
let lg: LoadgenHandle;

beforeAll(async () => {
  kit = await startServer(0, LOOPBACK);
  kit2 = await startServer(0, LOOPBACK);
  lg = await startLoadgen({ port: 0, host: LOOPBACK, token: TOKEN, allow: ['127.0.0.0/8'] });
});
afterAll(async () => {
  await lg?.close();
  await kit?.close();
  await kit2?.close();
});

async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${lg.url}${path}`, {
    method,
    headers: { [CONTROL_TOKEN_HEADER]: TOKEN },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if (res.headers.get('content-type')?.includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T };
}

/** Polls fn until it returns a value, failing the test at the deadline. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, deadlineMs = 4000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(spec: unknown, path = '/runs'): Promise<string> {
  const r = await call<{ id: string }>('POST', path, spec);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body.id;
}

async function finished(id: string, deadlineMs?: number): Promise<RunView> {
  return until(
    `run ${id} done`,
    async () => {
      const r = await call<RunView>('GET', `/runs/${id}?limit=${LOADGEN_LIMITS.pageSize}`);
      expect(r.status).toBe(200);
      return r.body.state === 'done' ? r.body : undefined;
    },
    deadlineMs,
  );
}

async function probeDone(id: string, deadlineMs?: number): Promise<ProbeView> {
  return until(
    `probe ${id} done`,
    async () => {
      const r = await call<ProbeView>('GET', `/probes/${id}`);
      expect(r.status).toBe(200);
      return r.body.state === 'running' ? undefined : r.body;
    },
    deadlineMs,
  );
}

/** A loopback port with nothing listening: connects to it are refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, LOOPBACK, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const target = (port: number): { host: string; port: number } => ({ host: LOOPBACK, port });

describe('loadgen control API', () => {
  it('answers /healthz and /time on the shared epoch clock, and lists endpoints on 404', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, body: 'ok' });
    const before = nowEpochNs();
    const t = await call<{ epochNs: string }>('GET', '/time');
    const after = nowEpochNs();
    expect(t.status).toBe(200);
    expect(t.body.epochNs).toMatch(/^\d+$/);
    expect(BigInt(t.body.epochNs) >= before && BigInt(t.body.epochNs) <= after).toBe(true);
    const nf = await call<{ error: string }>('GET', '/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error).toMatch(/POST \/runs.*POST \/probes/);
    expect((await call('GET', '/runs/r999')).status).toBe(404);
    expect((await call('DELETE', '/probes/p999')).status).toBe(404);
    expect((await call('PUT', '/runs')).status).toBe(405);
  });

  it.each([
    [{ mode: 'requests', targets: [target(80)], connections: 'x' }, /connections must be a positive integer.*\(got "x"\)/],
    [{ mode: 'requests', targets: [target(80)], connections: 0 }, /connections must be a positive integer/],
    [{ mode: 'requests', targets: [target(80)] }, /connections is required unless durationMs/],
    [{ mode: 'requests', targets: [target(80)], connections: 1, concurrency: 5000 }, /concurrency .*at most 1000 \(got 5000\)/],
    [{ mode: 'requests', targets: [], connections: 1 }, /targets must be an array of 1 to 64/],
    [{ mode: 'requests', targets: [{ host: LOOPBACK, port: 70000 }], connections: 1 }, /targets\[0\]\.port must be/],
    [{ mode: 'requests', targets: [{ port: 80 }], connections: 1 }, /targets\[0\]\.host must be/],
    [{ mode: 'requests', targets: [target(80)], connections: 1, concurency: 2 }, /unknown field "concurency"/],
    [{ mode: 'requests', targets: [target(80)], connections: 1, path: 'bytes/1' }, /path must start with "\/"/],
    [{ mode: 'requests', targets: [target(80)], connections: 1, path: '/a b' }, /path must .*no spaces/],
    [{ mode: 'stream', targets: [target(80)], streams: 1 }, /durationMs is required/],
    [{ mode: 'stream', targets: [target(80)], streams: 1, durationMs: 3_600_000, intervalMs: 1 }, /intervalMs 1 gives 3600000 intervals/],
    [{ mode: 'flood', targets: [target(80)] }, /mode must be "requests", "stream", "http" or "udp" \(got "flood"\)/],
    ['{not json', /must be JSON/],
    [[1, 2], /request body must be a JSON object/],
  ])('rejects a bad run with 400 naming the field: %j', async (spec, message) => {
    const r = await call<{ error: string }>('POST', '/runs', spec);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(message);
  });

  it.each([
    [{ port: 80 }, /host must be an IP address or DNS name/],
    [{ host: LOOPBACK }, /port is required/],
    [{ host: LOOPBACK, port: 80, intervalMs: -5 }, /intervalMs must be a positive integer/],
    [{ host: LOOPBACK, port: 80, timeout: 5 }, /unknown field "timeout"/],
  ])('rejects a bad probe with 400 naming the field: %j', async (spec, message) => {
    const r = await call<{ error: string }>('POST', '/probes', spec);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(message);
  });
});

describe('requests mode', () => {
  it('spreads connections round-robin over the targets and counts failures per target', async () => {
    const refused = await closedPort();
    const id = await start({ mode: 'requests', targets: [target(kit.port), target(refused)], connections: 10, concurrency: 3, path: '/bytes/1000' });
    const run = await finished(id);
    const results = run.results as LoadgenConnectionResult[];
    expect(run.mode).toBe('requests');
    expect(run.stoppedBy).toBe('connections');
    expect(run.summary).toEqual({ ok: 5, failed: 5, cancelled: 0 });
    expect(run.total).toBe(10);
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of results) {
      expect(r.target).toBe(r.seq % 2);
      if (r.target === 0) {
        expect(r.error).toBeUndefined();
        expect(r.bytesReceived).toBeGreaterThan(1000);
        expect(r.localPort).toBeGreaterThan(0);
      } else {
        expect(r.error).toMatch(/ECONNREFUSED/);
      }
    }
    expect(BigInt(run.endedNs!)).toBeGreaterThanOrEqual(BigInt(run.startedNs));
  });

  it('pages results with ?since', async () => {
    const id = await start({ mode: 'requests', targets: [target(kit.port)], connections: 25, concurrency: 5, path: '/bytes/10' });
    await finished(id);
    const seqs: number[] = [];
    let since = 0;
    for (let page = 0; page < 10; page++) {
      const r = await call<RunView>('GET', `/runs/${id}?since=${since}&limit=10`);
      expect(r.body.results.length).toBeLessThanOrEqual(10);
      seqs.push(...(r.body.results as LoadgenConnectionResult[]).map((x) => x.seq));
      expect(r.body.next).toBe(since + r.body.results.length);
      since = r.body.next;
      if (since === r.body.total) break;
    }
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect((await call('GET', `/runs/${id}?since=-1`)).status).toBe(400);
  });

  it('keeps starting connections for durationMs when given', async () => {
    const durationMs = 300;
    const id = await start({ mode: 'requests', targets: [target(kit.port)], concurrency: 2, durationMs, path: '/bytes/100' });
    const run = await finished(id);
    const results = run.results as LoadgenConnectionResult[];
    expect(run.stoppedBy).toBe('duration');
    expect(run.summary.failed).toBe(0);
    expect(results.length).toBeGreaterThan(10);
    const started = BigInt(run.startedNs);
    const lastStart = results.reduce((m, r) => (BigInt(r.startNs) > m ? BigInt(r.startNs) : m), 0n);
    // nothing starts after the deadline (1 ms of slack for the bookkeeping in between)
    expect(lastStart - started).toBeLessThan(BigInt(durationMs + 1) * 1_000_000n);
    expect(BigInt(run.endedNs!) - started).toBeGreaterThanOrEqual(BigInt(durationMs) * 1_000_000n);
  });

  it('treats connections as an upper bound in durationMs mode', async () => {
    const id = await start({ mode: 'requests', targets: [target(kit.port)], connections: 3, durationMs: 60_000, path: '/bytes/1' });
    const run = await finished(id);
    expect(run.stoppedBy).toBe('connections');
    expect(run.summary).toEqual({ ok: 3, failed: 0, cancelled: 0 });
  });

  it('DELETE cancels a running run: no new connections, then done', async () => {
    const id = await start({ mode: 'requests', targets: [target(kit.port)], concurrency: 2, durationMs: 60_000, path: '/bytes/100' });
    await until('some results', async () => ((await call<RunView>('GET', `/runs/${id}`)).body.total > 5 ? true : undefined));
    const t0 = Date.now();
    const del = await call<RunView>('DELETE', `/runs/${id}`);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(del.status).toBe(200);
    expect(del.body.state).toBe('done');
    expect(del.body.stoppedBy).toBe('cancelled');
    const after = await call<RunView>('GET', `/runs/${id}`);
    expect(after.body.state).toBe('done');
    expect(after.body.total).toBe(del.body.summary.ok + del.body.summary.failed + (del.body.summary as { cancelled: number }).cancelled);
    expect(BigInt(after.body.endedNs!) - BigInt(after.body.startedNs)).toBeLessThan(10_000_000_000n);
  });
});

describe('stream mode', () => {
  it('reads S long streams for durationMs on one interval grid, spread over the targets', async () => {
    const durationMs = 600;
    const intervalMs = 100;
    const id = await start({
      mode: 'stream',
      targets: [target(kit.port), target(kit2.port)],
      streams: 4,
      durationMs,
      intervalMs,
      path: `/bytes/${MAX_RESPONSE_BYTES}`,
    });
    const run = await finished(id);
    const streams = run.results as StreamRecord[];
    expect(run.stoppedBy).toBe('duration');
    expect(streams.map((s) => s.target)).toEqual([0, 1, 0, 1]);
    expect((run.summary as StreamSummary).failures).toBe(0);
    for (const s of streams) {
      expect(s.intervals).toHaveLength(durationMs / intervalMs);
      expect(s.intervals.reduce((a, b) => a + b, 0)).toBe(s.bytesReceived);
      expect(s.bytesReceived).toBeGreaterThan(0);
      expect(s.reconnects).toBe(0);
      expect(s.failures).toBe(0);
      expect(s.localPort).toBeGreaterThan(0);
      expect(s.connections).toHaveLength(1);
      expect(s.connections[0]!.end).toBe('stopped');
      expect(s.seconds!).toBeGreaterThanOrEqual(durationMs / 1000 - 0.01);
      // data flowed through most of the run, not only at its start
      expect(s.intervals.filter((b) => b > 0).length).toBeGreaterThanOrEqual(durationMs / intervalMs - 2);
    }
    const bytes = streams.map((s) => s.bytesReceived);
    // Fairness-ish: no stream starved. Loose on purpose: on loopback the kit server's
    // write loop (it writes while the socket accepts) lets a stream get ~20x another's.
    expect(Math.min(...bytes)).toBeGreaterThan(Math.max(...bytes) / 100);
    expect((run.summary as StreamSummary).bytesReceived).toBe(bytes.reduce((a, b) => a + b, 0));
  });

  it('reconnects without counting a failure when a body completes early', async () => {
    const id = await start({ mode: 'stream', targets: [target(kit.port)], streams: 2, durationMs: 300, intervalMs: 50, path: '/bytes/1000' });
    const run = await finished(id);
    for (const s of run.results as StreamRecord[]) {
      expect(s.reconnects).toBeGreaterThan(0);
      expect(s.failures).toBe(0);
      expect(s.connections[0]!.end).toBe('complete');
    }
  });

  it('counts failures and keeps the first errors when the target refuses', async () => {
    const refused = await closedPort();
    const id = await start({ mode: 'stream', targets: [target(refused)], streams: 2, durationMs: 400, intervalMs: 100 });
    const run = await finished(id);
    expect((run.summary as StreamSummary).failed).toBe(2);
    for (const s of run.results as StreamRecord[]) {
      expect(s.failures).toBeGreaterThan(1);
      expect(s.reconnects).toBeGreaterThan(0);
      expect(s.errors.length).toBe(Math.min(10, s.failures));
      expect(s.error).toMatch(/ECONNREFUSED/);
      expect(s.bytesReceived).toBe(0);
    }
  });

  it('counts a server that closes mid-body as a failure', async () => {
    // announces a big body, sends a little, then closes: a backend going away mid-stream
    const quitter = net.createServer((sock) => {
      sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n' + 'a'.repeat(100)));
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => quitter.listen(0, LOOPBACK, () => r()));
    try {
      const port = (quitter.address() as net.AddressInfo).port;
      const id = await start({ mode: 'stream', targets: [target(port)], streams: 1, durationMs: 200, intervalMs: 50 });
      const run = await finished(id);
      const s = (run.results as StreamRecord[])[0]!;
      expect(s.failures).toBeGreaterThan(0);
      expect(s.errors[0]).toMatch(/before the response was complete/);
      expect(s.bytesReceived).toBeGreaterThan(100);
    } finally {
      quitter.close();
    }
  });

  it('DELETE stops the streams', async () => {
    const id = await start({ mode: 'stream', targets: [target(kit.port)], streams: 2, durationMs: 60_000, intervalMs: 1000 });
    await until('bytes flowing', async () => {
      const r = await call<RunView>('GET', `/runs/${id}`);
      return (r.body.summary as StreamSummary).bytesReceived > 0 ? true : undefined;
    });
    const del = await call<RunView>('DELETE', `/runs/${id}`);
    expect(del.body.state).toBe('done');
    expect(del.body.stoppedBy).toBe('cancelled');
    const run = await call<RunView>('GET', `/runs/${id}`);
    for (const s of run.body.results as StreamRecord[]) {
      expect(s.connections.at(-1)!.end).toBe('stopped');
      expect(s.seconds!).toBeLessThan(10);
    }
  });
});

describe('probes', () => {
  it('succeeds against a listening port', async () => {
    const id = await start({ host: LOOPBACK, port: kit.port, timeoutMs: 2000 }, '/probes');
    const p = await probeDone(id);
    expect(p.state).toBe('succeeded');
    expect(p.attempts).toBeGreaterThanOrEqual(1);
    expect(BigInt(p.firstSuccessNs!)).toBeGreaterThanOrEqual(BigInt(p.firstAttemptNs!));
    expect(p.intervalMs).toBe(10);
  });

  it('times out against a refusing port after several attempts', async () => {
    const port = await closedPort();
    const id = await start({ host: LOOPBACK, port, timeoutMs: 300, intervalMs: 10 }, '/probes');
    const p = await probeDone(id);
    expect(p.state).toBe('timedout');
    expect(p.attempts).toBeGreaterThan(1);
    expect(p.firstSuccessNs).toBeUndefined();
    expect(p.lastError).toMatch(/ECONNREFUSED/);
    expect(BigInt(p.endedNs!) - BigInt(p.startedNs)).toBeGreaterThanOrEqual(300_000_000n);
  });

  it('succeeds once a server starts listening on the port', async () => {
    const port = await closedPort();
    const id = await start({ host: LOOPBACK, port, timeoutMs: 4000, intervalMs: 10 }, '/probes');
    await until('refused attempts', async () => {
      const p = (await call<ProbeView>('GET', `/probes/${id}`)).body;
      expect(p.state).toBe('running');
      return p.attempts >= 3 ? true : undefined;
    });
    const beforeListen = nowEpochNs();
    const late = await startServer(port, LOOPBACK);
    try {
      const p = await probeDone(id);
      expect(p.state).toBe('succeeded');
      expect(p.attempts).toBeGreaterThan(3);
      expect(BigInt(p.firstSuccessNs!)).toBeGreaterThan(beforeListen);
      // 10 ms interval: found well within a second of the listener appearing
      expect(BigInt(p.firstSuccessNs!) - beforeListen).toBeLessThan(1_000_000_000n);
    } finally {
      await late.close();
    }
  });

  it('DELETE cancels a probe', async () => {
    const port = await closedPort();
    const id = await start({ host: LOOPBACK, port, timeoutMs: 60_000 }, '/probes');
    const del = await call<ProbeView>('DELETE', `/probes/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.state).toBe('cancelled');
    const attempts = del.body.attempts;
    // no attempt after the cancel: a later read shows the same count
    await new Promise((r) => setTimeout(r, 50));
    expect((await call<ProbeView>('GET', `/probes/${id}`)).body.attempts).toBe(attempts);
  });
});

describe('retention', () => {
  it(`evicts completed runs beyond the last ${LOADGEN_LIMITS.retained}`, async () => {
    const refused = await closedPort();
    const ids: string[] = [];
    for (let i = 0; i <= LOADGEN_LIMITS.retained; i++) {
      const id = await start({ mode: 'requests', targets: [target(refused)], connections: 1 });
      await finished(id);
      ids.push(id);
    }
    expect((await call('GET', `/runs/${ids[0]}`)).status).toBe(404);
    expect((await call('GET', `/runs/${ids[1]}`)).status).toBe(200);
    expect((await call('GET', `/runs/${ids.at(-1)}`)).status).toBe(200);
  });
});

describe('loadgenCommand', () => {
  it('rejects bad flags with a UsageError', async () => {
    await expect(loadgenCommand(['--listen', 'nowhere'])).rejects.toThrow(UsageError);
    await expect(loadgenCommand(['--listen', '127.0.0.1:70000'])).rejects.toThrow(/port 0-65535/);
    await expect(loadgenCommand(['--bogus'])).rejects.toThrow(UsageError);
  });
  it('reports a listen port in use as a UsageError', async () => {
    vi.stubEnv(CONTROL_TOKEN_ENV, TOKEN);
    try {
      await expect(loadgenCommand(['--listen', `${LOOPBACK}:${lg.port}`, '--allow-cidr', '127.0.0.0/8'])).rejects.toThrow(/in use/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
