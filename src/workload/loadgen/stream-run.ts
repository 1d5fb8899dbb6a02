// The "stream" run engine: `streams` long connections, each reading one large response
// for durationMs (reconnecting when a body ends or a connection fails), with the bytes
// received per intervalMs on one grid shared by every stream.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResponseTracker } from '../client.js';
import { epochNsAt } from '../clock.js';
import { requestFor } from '../protocol.js';
import { atHrtime, runController } from './timing.js';
import type { Run, StreamConnection, StreamRecord, StreamRunSpec, StreamSummary, Target } from './types.js';

const STREAM_CONNECTIONS_KEPT = 64;
const STREAM_ERRORS_KEPT = 10;
// a refused stream must not spin: one reconnect per stream per this many ms at most
const RECONNECT_DELAY_MS = 20;

export function startStreamRun(id: string, spec: StreamRunSpec): Run {
  const controller = runController();
  const signal = controller.signal;
  const t0 = process.hrtime.bigint();
  const nIntervals = Math.ceil(spec.durationMs / spec.intervalMs);
  const intervalNs = BigInt(spec.intervalMs) * 1_000_000n;
  // late bytes (between the deadline and the close) land in the last interval
  const slot = (): number => Math.min(nIntervals - 1, Number((process.hrtime.bigint() - t0) / intervalNs));

  const records: StreamRecord[] = Array.from({ length: spec.streams }, (_, j) => ({
    stream: j,
    target: j % spec.targets.length,
    startNs: String(epochNsAt(t0)),
    bytesReceived: 0,
    intervals: new Array<number>(nIntervals).fill(0),
    reconnects: 0,
    failures: 0,
    errors: [],
    connections: [],
  }));

  const stream = async (rec: StreamRecord): Promise<void> => {
    const target = spec.targets[rec.target]!;
    const onBytes = (n: number): void => {
      rec.bytesReceived += n;
      rec.intervals[slot()]! += n;
    };
    const onStart = (c: StreamConnection): void => {
      if (rec.connections.length < STREAM_CONNECTIONS_KEPT) rec.connections.push(c);
    };
    const startHr = process.hrtime.bigint();
    rec.startNs = String(epochNsAt(startHr));
    while (!signal.aborted) {
      const c = await streamConnection(target, spec, signal, onBytes, onStart);
      if (rec.localPort === undefined && c.localPort !== undefined) {
        rec.localAddr = c.localAddr;
        rec.localPort = c.localPort;
        rec.connectSeconds = c.connectSeconds;
      }
      if (c.end === 'failed') {
        rec.failures++;
        rec.error = c.error;
        if (rec.errors.length < STREAM_ERRORS_KEPT) rec.errors.push(c.error!);
      }
      if (signal.aborted) break;
      // rejects only when aborted, which ends the wait early; the loop checks signal.aborted
      await sleep(RECONNECT_DELAY_MS, undefined, { signal }).catch(() => undefined);
      if (!signal.aborted) rec.reconnects++;
    }
    rec.seconds = Number(process.hrtime.bigint() - startHr) / 1e9;
  };

  const timer = atHrtime(t0 + BigInt(spec.durationMs) * 1_000_000n, () => {
    run.stoppedBy ??= 'duration';
    controller.abort();
  });
  const run: Run = {
    id,
    spec,
    state: 'running',
    startedNs: String(epochNsAt(t0)),
    results: records,
    summary: () => {
      const s: StreamSummary = { ok: 0, failed: 0, reconnects: 0, failures: 0, bytesReceived: 0 };
      for (const r of records) {
        if (r.failures) s.failed++;
        else s.ok++;
        s.reconnects += r.reconnects;
        s.failures += r.failures;
        s.bytesReceived += r.bytesReceived;
      }
      return s;
    },
    controller,
    settled: Promise.all(records.map(stream)).then(() => timer.clear()),
  };
  return run;
}

/** One connection of a stream: read until the run stops, the body ends, or it fails. */
function streamConnection(
  target: Target,
  spec: StreamRunSpec,
  signal: AbortSignal,
  onBytes: (n: number) => void,
  onStart: (c: StreamConnection) => void,
): Promise<StreamConnection> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const c: StreamConnection = { startNs: String(epochNsAt(t0)), bytesReceived: 0 };
    onStart(c);
    const sock = net.connect({ host: target.host, port: target.port, noDelay: true });
    let stopped = false;
    let complete = false;
    let error: string | undefined;
    let statusLine = '';
    const body = new ResponseTracker();
    const connectTimer = setTimeout(
      () => sock.destroy(new Error(`connect timed out after ${spec.connectTimeoutMs} ms`)),
      spec.connectTimeoutMs,
    );
    // The client closes first. With the body still arriving, the kernel answers that
    // close with a RST rather than a FIN; either way the server side does not linger.
    const onAbort = (): void => {
      stopped = true;
      sock.destroy();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      c.connectSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      c.localAddr = sock.localAddress;
      c.localPort = sock.localPort;
      sock.write(requestFor(spec.path, target.host));
    });
    sock.on('data', (d: Buffer) => {
      c.bytesReceived += d.length;
      onBytes(d.length);
      if (!statusLine.includes('\r\n')) {
        statusLine += d.subarray(0, 256).toString('latin1');
        const m = /^HTTP\/1\.\d (\d{3})/.exec(statusLine);
        if (m && m[1] !== '200') return void sock.destroy(new Error(`HTTP ${m[1]} for ${spec.path}`));
        if (statusLine.includes('\r\n') && !m) return void sock.destroy(new Error('not an HTTP response'));
      }
      if (body.add(d)) {
        complete = true;
        sock.destroy();
      }
    });
    sock.once('end', () => sock.destroy());
    sock.once('error', (e) => {
      error = e.message;
    });
    sock.once('close', () => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      c.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (error !== undefined) {
        c.end = 'failed';
        c.error = error;
      } else if (stopped) c.end = 'stopped';
      else if (complete) c.end = 'complete';
      else {
        c.end = 'failed';
        c.error = `server closed the connection after ${c.bytesReceived} bytes, before the response was complete`;
      }
      resolve(c);
    });
  });
}
