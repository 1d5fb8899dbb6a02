// The "http" run engine: HTTP requests to one target for durationMs on `connections`
// connections, closed loop (as fast as responses come back, with or without keep-alive) or
// open loop (a constant arrival rate on wrk2's schedule; src/sli/open-loop.ts has the
// arithmetic and why). Every request is recorded with its due, send, connection-free and
// response-end times, so the runner can tell the system's queueing from the generator's
// own lag. Open-loop sends wait on a timer until ~1 ms before they are due and then on
// setImmediate, because Node's timers have 1 ms resolution and fire late by up to that
// (the short spin costs CPU, which on a small node the server shares: kept to ~1 ms).
import net from 'node:net';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { schedule } from '../../sli/open-loop.js';
import { ResponseTracker } from '../client.js';
import { nowEpochNs } from '../clock.js';
import { LOADGEN_LIMITS } from './limits.js';
import type { HttpRequestTuple, HttpRunSpec, HttpSummary, Run, StoppedBy } from './types.js';
import { newRun } from './run-registry.js';

const SPIN_BELOW_NS = 1_200_000n;
const TIMER_EARLY_MS = 1;
const MAX_ERRORS = 10;

/** Host header value: IPv6 literals in brackets (RFC 9110 section 7.2). */
export const hostHeader = (host: string, port: number): string => `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;

export function httpRequest(path: string, host: string, port: number, keepAlive: boolean): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${hostHeader(host, port)}\r\nUser-Agent: kube-sli\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
}

/** One client connection that carries one request at a time. */
class Conn {
  private sock: net.Socket | undefined;
  private pending: { tracker: ResponseTracker; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  alive = false;

  constructor(
    private readonly spec: HttpRunSpec,
    private readonly signal: AbortSignal,
  ) {}

  open(): Promise<void> {
    const t = this.spec.targets[0];
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: t.host, port: t.port, noDelay: true });
      this.sock = sock;
      const timer = setTimeout(() => sock.destroy(new Error(`connect timed out after ${this.spec.timeoutMs} ms`)), this.spec.timeoutMs);
      const onAbort = (): void => void sock.destroy(new Error('cancelled'));
      this.signal.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', () => {
        clearTimeout(timer);
        this.alive = true;
        resolve();
      });
      sock.on('data', (d: Buffer) => {
        const p = this.pending;
        if (p && p.tracker.add(d)) {
          this.pending = undefined;
          clearTimeout(p.timer);
          p.resolve();
        }
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        this.fail(e);
        reject(e);
      });
      sock.once('close', () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        this.fail(new Error('connection closed by the server'));
        reject(new Error('connection closed before it opened'));
      });
    });
  }

  private fail(e: Error): void {
    this.alive = false;
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  request(): Promise<void> {
    const t = this.spec.targets[0];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.sock?.destroy(new Error(`timed out after ${this.spec.timeoutMs} ms`)), this.spec.timeoutMs);
      this.pending = { tracker: new ResponseTracker(), resolve, reject, timer };
      this.sock!.write(httpRequest(this.spec.path, t.host, t.port, this.spec.keepAlive));
    });
  }

  /** The client closes first, so TIME_WAIT stays on the client (see server.ts). */
  close(): void {
    this.alive = false;
    this.sock?.end();
  }
}

async function waitUntil(ns: bigint, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) return;
    const left = ns - process.hrtime.bigint();
    if (left <= 0n) return;
    if (left > SPIN_BELOW_NS) await sleep(Number(left) / 1e6 - TIMER_EARLY_MS);
    else await immediate();
  }
}

export function startHttpRun(id: string, spec: HttpRunSpec): Run {
  const results: HttpRequestTuple[] = [];
  const counts: HttpSummary = { ok: 0, failed: 0, unsent: 0, errors: [] };
  const run = newRun(id, spec, results, () => ({ ...counts, errors: [...counts.errors] }));
  const { controller } = run;
  const { signal } = controller;
  const stop = (why: StoppedBy): void => void (run.stoppedBy ??= why);
  let t0 = 0n;
  const us = (ns: bigint): number => Math.round(Number(ns - t0) / 10) / 100;
  const now = (): bigint => process.hrtime.bigint();
  const record = (due: bigint, sent: bigint, free: bigint, done: bigint | undefined, conn: number, err?: unknown): void => {
    if (done === undefined) {
      counts.failed++;
      if (counts.errors.length < MAX_ERRORS) counts.errors.push((err as Error)?.message ?? String(err));
    } else counts.ok++;
    results.push([us(due), us(sent), us(free), done === undefined ? -1 : us(done), conn]);
  };
  const full = (): boolean => results.length >= LOADGEN_LIMITS.connections;

  const go = async (): Promise<void> => {
    const n = spec.connections;
    const conns = Array.from({ length: n }, () => new Conn(spec, signal));
    const openedAt: bigint[] = new Array<bigint>(n).fill(0n);
    // keep-alive connections are opened before the clock starts: their handshakes are not requests
    if (spec.keepAlive) {
      await Promise.all(
        conns.map((c, i) =>
          c.open().then(
            () => void (openedAt[i] = now()),
            () => undefined,
          ),
        ),
      );
    }
    t0 = now();
    run.startedNs = String(nowEpochNs());
    const end = t0 + BigInt(spec.durationMs) * 1_000_000n;
    const hardStop = end + BigInt(spec.timeoutMs) * 1_000_000n;
    for (let i = 0; i < n; i++) if (openedAt[i]! < t0) openedAt[i] = t0;

    const closedWorker = async (i: number): Promise<void> => {
      let c = conns[i]!;
      let free = openedAt[i]!;
      while (!signal.aborted && !full()) {
        if (now() >= end) return stop('duration');
        const sent = now();
        try {
          if (!spec.keepAlive) {
            c = new Conn(spec, signal);
            await c.open();
          } else if (!c.alive) {
            c = new Conn(spec, signal);
            await c.open();
          }
          await c.request();
          const done = now();
          record(sent, sent, free, done, i);
          free = done;
          if (!spec.keepAlive) c.close();
        } catch (e) {
          if (signal.aborted) return;
          record(sent, sent, free, undefined, i, e);
          c.close();
          free = now();
        }
      }
      if (full()) stop('limit');
    };

    const openWorker = async (i: number, dues: number[]): Promise<void> => {
      let c = conns[i]!;
      let free = openedAt[i]!;
      for (let k = 0; k < dues.length; k++) {
        const due = t0 + BigInt(Math.round(dues[k]! * 1000));
        if (signal.aborted || now() >= hardStop) {
          counts.unsent += dues.length - k;
          return stop(signal.aborted ? 'cancelled' : 'duration');
        }
        await waitUntil(due, signal);
        if (signal.aborted) continue;
        if (!c.alive) {
          try {
            c = new Conn(spec, signal);
            await c.open();
            free = now();
          } catch (e) {
            const t = now();
            record(due, t, t, undefined, i, e);
            free = now();
            continue;
          }
        }
        const sent = now();
        try {
          await c.request();
          const done = now();
          record(due, sent, free, done, i);
          free = done;
        } catch (e) {
          record(due, sent, free, undefined, i, e);
          c.close();
          free = now();
        }
      }
      stop('duration');
    };

    if (spec.ratePerSecond === undefined) {
      await Promise.all(conns.map((_, i) => closedWorker(i)));
    } else {
      const dues = schedule(spec.ratePerSecond, n, spec.durationMs * 1000);
      await Promise.all(dues.map((d, i) => openWorker(i, d)));
    }
    for (const c of conns) c.close();
  };
  run.settled = go();
  return run;
}
