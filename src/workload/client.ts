// Load generator: CONN_PER_CLIENT connections to one target with CLIENT_CONCURRENCY in
// flight, each `GET <path>` read to EOF. One JSON line per connection on stdout carries
// the client-side view (connect time, total time, bytes each way, local port) that the
// kit joins with conntrack and capture records.
import net from 'node:net';
import { epochNsAt } from './clock.js';
import { requestFor } from './protocol.js';

export interface ClientOptions {
  host: string;
  port: number;
  connections: number;
  concurrency: number;
  path: string;
  timeoutMs: number;
}

export interface ClientConnectionResult {
  seq: number;
  localAddr?: string;
  localPort?: number;
  /** epoch ns when connect() was called */
  startNs: string;
  connectSeconds?: number;
  totalSeconds?: number;
  bytesSent: number;
  bytesReceived: number;
  error?: string;
}

/** Follows one HTTP response: true once the body announced by Content-Length is complete. */
export class ResponseTracker {
  private head = '';
  private bodyLeft: number | undefined;

  add(chunk: Buffer): boolean {
    if (this.bodyLeft === undefined) {
      this.head += chunk.toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(this.head.slice(0, end));
      if (!m) {
        this.bodyLeft = Infinity;
        return false;
      }
      this.bodyLeft = Number(m[1]) - (this.head.length - end - 4);
      this.head = '';
    } else {
      this.bodyLeft -= chunk.length;
    }
    return this.bodyLeft <= 0;
  }
}

/** What one connection needs; ClientOptions satisfies it. */
export type ConnectionOptions = Pick<ClientOptions, 'host' | 'port' | 'path' | 'timeoutMs'>;

/** `signal` aborts the connection (recorded with error "cancelled"), for loadgen's DELETE. */
export function oneConnection(opts: ConnectionOptions, seq: number, signal?: AbortSignal): Promise<ClientConnectionResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const result: ClientConnectionResult = { seq, startNs: String(epochNsAt(t0)), bytesSent: 0, bytesReceived: 0 };
    const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    const timer = setTimeout(() => sock.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => void sock.destroy(new Error('cancelled'));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      result.connectSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      result.localAddr = sock.localAddress;
      result.localPort = sock.localPort;
      sock.write(requestFor(opts.path, opts.host));
    });
    // Close as soon as the whole response is in (Content-Length), so TIME_WAIT stays here;
    // without a length, read until the server closes.
    const body = new ResponseTracker();
    sock.on('data', (d: Buffer) => {
      if (body.add(d)) sock.end();
    });
    sock.once('end', () => sock.end());
    sock.once('close', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      result.bytesSent = sock.bytesWritten;
      result.bytesReceived = sock.bytesRead;
      if (result.error === undefined) result.totalSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve(result);
    });
    sock.once('error', (err) => {
      result.error = err.message;
    });
  });
}

export async function runClient(
  opts: ClientOptions,
  onResult: (r: ClientConnectionResult) => void,
): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.connections) {
      const r = await oneConnection(opts, next++);
      if (r.error) failed++;
      else ok++;
      onResult(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.connections)) }, worker));
  return { ok, failed };
}

export function parseClientArgs(argv: readonly string[], env = process.env): ClientOptions {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const target = flag('target');
  const m = target ? /^\[?([^\]]+?)\]?:(\d+)$/.exec(target) : null;
  if (!m) throw new Error(`--target "${target ?? ''}" must be host:port or [v6addr]:port`);
  const int = (name: string, envName: string, dflt: number): number => {
    const raw = flag(name) ?? env[envName];
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}/${envName} "${raw}" must be a positive integer`);
    return n;
  };
  return {
    host: m[1]!,
    port: Number(m[2]),
    connections: int('connections', 'CONN_PER_CLIENT', 100),
    concurrency: int('concurrency', 'CLIENT_CONCURRENCY', 1),
    path: flag('path') ?? '/bytes/1000',
    timeoutMs: int('timeout-ms', 'CLIENT_TIMEOUT_MS', 10_000),
  };
}

async function main(): Promise<void> {
  let opts: ClientOptions;
  try {
    opts = parseClientArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const out: string[] = [];
  const flush = (): void => {
    if (out.length) process.stdout.write(out.join(''));
    out.length = 0;
  };
  const summary = await runClient(opts, (r) => {
    out.push(JSON.stringify(r) + '\n');
    if (out.length >= 256) flush();
  });
  flush();
  process.stdout.write(JSON.stringify({ summary }) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
