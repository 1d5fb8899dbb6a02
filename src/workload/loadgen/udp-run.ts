// The "udp" run engine: request/response exchanges (the shape of DNS) on an open-loop
// schedule. Exchange i is due at start + i/rate whatever the earlier ones do; it binds a
// socket to the next source port of the cycle, connects it to its target (so an ICMP
// error comes back as a socket error), sends one datagram and waits up to timeoutMs for
// the first reply. One source port per exchange means one conntrack entry and one
// boundary-capture exchange per exchange, keyed by the same 5-tuple. At most
// `concurrency` exchanges wait at once; beyond it the next one waits and its lateness
// against the schedule is recorded, so a client that fell behind says so.
import dgram from 'node:dgram';
import net from 'node:net';
import { nowEpochNs } from '../clock.js';
import { atHrtime } from './timing.js';
import type { Run, UdpExchangeResult, UdpRunSpec, UdpSummary } from './types.js';
import { newRun } from './run-registry.js';

// continues across runs: a port comes back only after the whole range was used
let portCursor = 0;

/** The next source port of the cycle [first, first + count). */
export function nextPort(first: number, count: number): number {
  const p = first + (portCursor % count);
  portCursor = (portCursor + 1) % count;
  return p;
}

const BIND_TRIES = 8;

export function startUdpRun(id: string, spec: UdpRunSpec): Run {
  const results: UdpExchangeResult[] = [];
  const counts: UdpSummary = { ok: 0, lost: 0, failed: 0, cancelled: 0, maxLateSeconds: 0 };
  const run = newRun(id, spec, results, () => ({ ...counts }));
  const { controller } = run;
  const payload = Buffer.alloc(spec.payloadBytes, 0x71);
  const t0 = process.hrtime.bigint();
  const periodNs = 1e9 / spec.rate;
  let inFlight = 0;
  let wake: (() => void) | undefined;

  const exchange = async (seq: number, dueNs: bigint): Promise<void> => {
    const target = seq % spec.targets.length;
    const t = spec.targets[target]!;
    const late = Number(process.hrtime.bigint() - dueNs) / 1e9;
    const lateSeconds = Math.max(0, late);
    if (lateSeconds > counts.maxLateSeconds) counts.maxLateSeconds = lateSeconds;
    const r: UdpExchangeResult = { seq, target, lateSeconds };
    let sock: dgram.Socket | undefined;
    try {
      const b = await bindNext(net.isIPv6(t.host) ? 'udp6' : 'udp4', spec);
      sock = b.sock;
      r.localPort = b.port;
      const s = sock;
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.connect(t.port, t.host, () => {
          s.off('error', rej);
          res();
        });
      });
      const outcome = await new Promise<{ rtt?: number; error?: string }>((res) => {
        let sentAt = 0n;
        const timer = setTimeout(() => res({ error: 'timeout' }), spec.timeoutMs);
        const onAbort = (): void => {
          clearTimeout(timer);
          res({ error: 'cancelled' });
        };
        controller.signal.addEventListener('abort', onAbort, { once: true });
        const done = (v: { rtt?: number; error?: string }): void => {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', onAbort);
          res(v);
        };
        s.once('message', () => done({ rtt: Number(process.hrtime.bigint() - sentAt) / 1e9 }));
        s.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
        r.sentNs = String(nowEpochNs());
        sentAt = process.hrtime.bigint();
        s.send(payload, (e) => {
          if (e) done({ error: `send: ${(e as NodeJS.ErrnoException).code ?? e.message}` });
        });
      });
      if (outcome.rtt !== undefined) {
        r.rttSeconds = outcome.rtt;
        // a starved event loop can read a reply before its late timer fires: past the
        // timeout it is lost all the same (its round trip stays recorded)
        if (outcome.rtt * 1000 > spec.timeoutMs) {
          r.error = 'timeout';
          counts.lost++;
        } else counts.ok++;
      } else {
        r.error = outcome.error;
        if (outcome.error === 'timeout') counts.lost++;
        else if (outcome.error === 'cancelled') counts.cancelled++;
        else counts.failed++;
      }
    } catch (e) {
      r.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      counts.failed++;
    } finally {
      sock?.close();
    }
    results.push(r);
  };

  run.settled = (async () => {
    const pending = new Set<Promise<void>>();
    for (let seq = 0; seq < spec.exchanges; seq++) {
      const due = t0 + BigInt(Math.round(seq * periodNs));
      // wait for the schedule (open loop), then for a free slot (the slip is recorded)
      await new Promise<void>((res) => {
        let fired = false;
        const onAbort = (): void => {
          timer.clear();
          res();
        };
        const timer = atHrtime(due, () => {
          fired = true;
          controller.signal.removeEventListener('abort', onAbort);
          res();
        });
        if (!fired) controller.signal.addEventListener('abort', onAbort, { once: true });
      });
      while (inFlight >= spec.concurrency && !controller.signal.aborted) await new Promise<void>((res) => (wake = res));
      if (controller.signal.aborted) {
        run.stoppedBy ??= 'cancelled';
        break;
      }
      inFlight++;
      const p = exchange(seq, due).finally(() => {
        inFlight--;
        pending.delete(p);
        const w = wake;
        wake = undefined;
        w?.();
      });
      pending.add(p);
    }
    run.stoppedBy ??= 'exchanges';
    await Promise.all(pending);
  })();
  return run;
}

/** A socket bound to the next free port of the cycle (a port still held by an exchange of this process is skipped). */
async function bindNext(type: 'udp4' | 'udp6', spec: UdpRunSpec): Promise<{ sock: dgram.Socket; port: number }> {
  let last: NodeJS.ErrnoException | undefined;
  for (let i = 0; i < BIND_TRIES; i++) {
    const port = nextPort(spec.portFirst, spec.portCount);
    const sock = dgram.createSocket(type);
    try {
      await new Promise<void>((res, rej) => {
        sock.once('error', rej);
        sock.bind(port, () => {
          sock.off('error', rej);
          res();
        });
      });
      return { sock, port };
    } catch (e) {
      sock.close();
      last = e as NodeJS.ErrnoException;
      if (last.code !== 'EADDRINUSE') break;
    }
  }
  throw new Error(`bind: ${last?.code ?? last?.message}`);
}

/** No reply within the timeout (a reply read later keeps its round trip but is lost). */
export function exchangeLost(r: UdpExchangeResult): boolean {
  return r.sentNs !== undefined && (r.rttSeconds === undefined || r.error === 'timeout');
}
