// Backend for kernel tests and lab pods: answers `GET /bytes/N` with N bytes, `/healthz`
// Backend for kernel tests and lab pods: answers `GET /bytes/N` with N bytes, `/healthz`
// with ok; keeps the connection for the next request unless the request says close; and on
// the same port number over UDP echoes each datagram back to its sender (one request
// datagram, one reply datagram: the shape of a DNS exchange). The client closes first (it
// reads to Content-Length): TIME_WAIT then sits on the client, whose kernel will not reuse
// that port, instead of on the server, where a quickly reused client port meets the old
// connection and gets reset.
import dgram from 'node:dgram';
import net from 'node:net';
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
    // Requests are answered one at a time, in order; a keep-alive client's next request
    // waits in `head` until the previous response is written.
    let head = '';
    let busy = false;
    const next = (): void => {
      if (busy || sock.destroyed) return;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) sock.destroy();
        return;
      }
      const request = head.slice(0, end);
      head = head.slice(end + 4);
      const path = request.split(' ')[1] ?? '/';
      busy = true;
      respond(sock, path, keepAlive(request), () => {
        busy = false;
        next();
      });
    };
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      next();
    });
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
    // a client that never closes must not pin the server
    sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      startUdpEcho(bound, host).then(
        (udp) =>
          resolve({
            port: bound,
            close: async () => {
              await new Promise<void>((r) => udp.close(() => r()));
              await new Promise<void>((r) => server.close(() => r()));
            },
          }),
        (e: Error) => {
          server.close();
          reject(e);
        },
      );
    });
  });
}

/** UDP echo on `port`: every datagram goes back to where it came from, unchanged. */
function startUdpEcho(port: number, host: string): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: net.isIPv4(host) ? 'udp4' : 'udp6', ipv6Only: false });
  // a send error (the client's port closed after its timeout) is the client's business
  sock.on('message', (msg, from) => sock.send(msg, from.port, from.address, () => undefined));
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      sock.on('error', () => undefined);
      resolve(sock);
    });
  });
}

/** HTTP/1.1 keeps the connection unless the request says close (RFC 9112 section 9.3). */
export function keepAlive(requestHead: string): boolean {
  const http11 = /^[^\r\n]* HTTP\/1\.1/.test(requestHead);
  const conn = /\r\nconnection:\s*([^\r\n]*)/i.exec(requestHead)?.[1]?.toLowerCase() ?? '';
  return http11 ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn);
}

function respond(sock: net.Socket, path: string, keep: boolean, done: () => void): void {
  const n = path === '/healthz' ? 2 : requestedBytes(path);
  const connection = keep ? 'keep-alive' : 'close';
  if (n === undefined) {
    sock.write(`HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: ${connection}\r\n\r\n`);
    return done();
  }
  sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\nConnection: ${connection}\r\n\r\n`);
  if (path === '/healthz') {
    sock.write('ok');
    return done();
  }
  // One chunk per turn of the event loop: a loop that writes while the kernel accepts
  // starves the other connections of this process (measured: 20:1 between streams).
  let left = n;
  const pump = (): void => {
    if (sock.destroyed) return;
    if (left <= 0) return done();
    const part = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
    left -= part.length;
    if (sock.write(part)) setImmediate(pump);
    else sock.once('drain', pump);
  };
  pump();
}

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port "${process.argv[2]}": give a TCP port 0-65535`);
    process.exit(2);
  }
  const handle = await startServer(port);
  // One line on stdout says where it listens: whoever started it waits on that line.
  console.log(JSON.stringify({ listening: handle.port }));
  const stop = (): void => void handle.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
