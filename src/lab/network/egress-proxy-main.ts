// The egress CONNECT proxy (see egress.ts), as the program egress.ts starts inside the
// fabric namespace. Its configuration comes as JSON in KSLI_EGRESS. It tells its parent
// over IPC that it listens ({ ready: true }) or why it cannot ({ error }), and exits when
// the parent goes away (IPC disconnect) or on SIGTERM, removing its socket.
//
// It only ever unlinks a path that is a unix socket: a mistyped socket path must never
// remove a file.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { anyCidrContains, parseCidr, type Cidr } from '../../net/cidr.js';
import { isMainModule } from './netns-program.js';

export const EGRESS_CONFIG_ENV = 'KSLI_EGRESS';
/** a CONNECT request head larger than this is not one */
const MAX_HEAD_BYTES = 8192;

export interface EgressProxyConfig {
  socketPath: string;
  /** CIDRs the proxy may connect to */
  allow: string[];
}

export type EgressProxyMessage = { ready: true } | { error: string };

/** `CONNECT host:port HTTP/1.x` (an IPv6 host in brackets, RFC 9110 authority-form) →
 * its target; undefined for anything else. */
export function parseConnectRequest(head: string): { host: string; port: number } | undefined {
  const m = /^CONNECT (?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

/** Only addresses inside the allowed ranges; host names never (the proxy resolves nothing). */
export function isAllowedTarget(host: string, allow: readonly Cidr[]): boolean {
  return net.isIP(host) !== 0 && anyCidrContains(allow, host);
}

/** The proxy's server: one CONNECT per connection, then bytes both ways. */
export function createConnectProxy(allow: readonly Cidr[]): net.Server {
  return net.createServer((down) => {
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) down.destroy();
        return;
      }
      down.off('data', onData);
      down.pause();
      const target = parseConnectRequest(head.toString('latin1'));
      if (target === undefined) {
        down.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      if (!isAllowedTarget(target.host, allow)) {
        down.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${target.host} is outside the lab\n`);
        return;
      }
      const rest = head.subarray(end + 4);
      const up = net.connect(target.port, target.host);
      up.setNoDelay(true);
      down.setNoDelay(true);
      const drop = (): void => {
        up.destroy();
        down.destroy();
      };
      const refuse = (e: NodeJS.ErrnoException): void => {
        down.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\n${e.code ?? e.message}\n`);
      };
      up.once('connect', () => {
        up.off('error', refuse);
        up.on('error', drop);
        down.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) up.write(rest);
        down.pipe(up);
        up.pipe(down);
        down.resume();
      });
      up.once('error', refuse);
      down.on('error', drop).on('close', () => up.destroy());
    };
    down.on('data', onData);
    down.on('error', () => down.destroy());
  });
}

/** Removes the path only when it is a unix socket. */
export function unlinkSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
}

function send(msg: EgressProxyMessage, then?: () => void): void {
  process.send!(msg, undefined, undefined, () => then?.());
}

function main(): void {
  const config = JSON.parse(process.env[EGRESS_CONFIG_ENV] ?? 'null') as EgressProxyConfig | null;
  if (config === null || process.send === undefined) {
    process.stderr.write(`egress proxy: start it through startEgressProxy (needs ${EGRESS_CONFIG_ENV} and an IPC channel)\n`);
    process.exit(2);
  }
  const allow = config.allow.map((c) => parseCidr(c));
  unlinkSocket(config.socketPath);
  const server = createConnectProxy(allow);
  server.on('error', (e: NodeJS.ErrnoException) => send({ error: `${e.code ?? ''} ${e.message}`.trim() }, () => process.exit(1)));
  server.listen(config.socketPath, () => {
    chmodSync(config.socketPath, 0o600);
    send({ ready: true });
  });
  const bye = (): void => {
    unlinkSocket(config.socketPath);
    process.exit(0);
  };
  process.on('disconnect', bye);
  process.on('SIGTERM', bye);
}

if (isMainModule(import.meta.url)) main();
