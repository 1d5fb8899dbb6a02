// Backend for kernel tests and lab pods: answers `GET /bytes/N` with N bytes, `/healthz`
// with ok. The client closes first (it reads to Content-Length): TIME_WAIT then sits on the
// client, whose kernel will not reuse that port, instead of on the server, where a quickly
// reused client port meets the old connection and gets reset.
import net from 'node:net';
import { nowEpochNs } from './clock.js';
import { requestedBytes } from './protocol.js';

const CHUNK = Buffer.alloc(256 * 1024, 0x61);
const IDLE_TIMEOUT_MS = 60_000;

export interface ServerHandle {
  port: number;
  close(): Promise<void>;
}

export function startServer(port: number, host = '::'): Promise<ServerHandle> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) sock.destroy();
        return;
      }
      sock.off('data', onData);
      const path = head.split(' ')[1] ?? '/';
      respond(sock, path);
    };
    sock.on('data', onData);
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
    // a client that never closes must not pin the server
    sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

function respond(sock: net.Socket, path: string): void {
  const n = path === '/healthz' ? 2 : requestedBytes(path);
  if (n === undefined) {
    sock.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`);
  if (path === '/healthz') {
    sock.write('ok');
    return;
  }
  // One chunk per turn of the event loop: a loop that writes while the kernel accepts
  // starves the other connections of this process (measured: 20:1 between streams).
  let left = n;
  const pump = (): void => {
    if (left <= 0 || sock.destroyed) return;
    const part = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
    left -= part.length;
    if (sock.write(part)) setImmediate(pump);
    else sock.once('drain', pump);
  };
  pump();
}

/** env of the egress prober mode: `host:port` of a Service VIP the pod itself connects to */
export const EGRESS_PROBE_ENV = 'KUBE_SLI_EGRESS_PROBE';
const EGRESS_INTERVAL_MS = 10;
const EGRESS_CONNECT_TIMEOUT_MS = 250;
const EGRESS_GIVE_UP_MS = 10 * 60_000;

export interface EgressReport {
  target: string;
  /** epoch ns on this pod's clock */
  firstAttemptNs: string;
  firstSuccessNs: string;
  attempts: number;
}

/**
 * Egress readiness as the pod's own program sees it: a connect to `host:port` every 10 ms
 * (overlapping, each bounded by 250 ms, so a dropped SYN does not blind it for the kernel's
 * 1 s retransmission) until one completes; the first success is printed as one JSON line
 * on stdout, which the runner reads from the pod's log.
 */
export function startEgressProbe(target: string, onSuccess: (r: EgressReport) => void): () => void {
  const m = /^(.+):(\d+)$/.exec(target);
  if (!m) throw new Error(`${EGRESS_PROBE_ENV}=${JSON.stringify(target)}: give host:port, e.g. 10.96.0.10:80`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  const firstAttemptNs = nowEpochNs();
  let attempts = 0;
  let done = false;
  const inFlight = new Set<net.Socket>();
  const stop = (): void => {
    done = true;
    clearInterval(ticker);
    clearTimeout(giveUp);
    for (const s of inFlight) s.destroy();
  };
  const attempt = (): void => {
    if (done || inFlight.size >= 64) return;
    attempts++;
    const sock = net.connect({ host, port });
    inFlight.add(sock);
    const timer = setTimeout(() => sock.destroy(), EGRESS_CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      const at = nowEpochNs();
      if (!done) {
        stop();
        onSuccess({ target, firstAttemptNs: String(firstAttemptNs), firstSuccessNs: String(at), attempts });
      }
      sock.destroy();
    });
    sock.once('error', () => undefined);
    sock.once('close', () => {
      clearTimeout(timer);
      inFlight.delete(sock);
    });
  };
  const ticker = setInterval(attempt, EGRESS_INTERVAL_MS);
  const giveUp = setTimeout(stop, EGRESS_GIVE_UP_MS);
  attempt();
  return stop;
}

async function main(): Promise<void> {
  const egress = process.env[EGRESS_PROBE_ENV];
  // before the listener: egress readiness must not wait for this program's own start-up
  if (egress) startEgressProbe(egress, (r) => console.log(JSON.stringify({ egress: r })));
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port "${process.argv[2]}": give a TCP port 0-65535`);
    process.exit(2);
  }
  const handle = await startServer(port);
  // One line on stdout says where it listens: whoever started it waits on that line.
  console.log(JSON.stringify({ listening: handle.port, epochNs: String(nowEpochNs()) }));
  const stop = (): void => void handle.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
