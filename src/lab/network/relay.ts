// How components inside lab namespaces reach the apiserver, which runs in the root
// namespace on 127.0.0.1 (with etcd, controller-manager, scheduler, kubectl and the
// kit's own client: none of them needs a lab address).
//
// A socket belongs to the namespace of the process that created it, for its whole life,
// and a file descriptor can be handed to another process. So: a throwaway helper is
// started with `ip netns exec <ns> node` (relay-listener-main.ts), creates the listening
// TCP socket there (e.g. 127.0.0.1:6443 inside a node namespace), sends it over Node's IPC
// channel (SCM_RIGHTS) to this process, and exits. This process accepts on that socket — the
// connections arrive from inside the lab namespace — and connects each one to the
// target on the root namespace's loopback. One process, no root-namespace listener, no
// root-namespace link, no unix socket in the filesystem.
//
// Placement (startApiserverRelays):
// - every node namespace: 127.0.0.1:<port>, so kube-proxy (and other node components)
//   use the same kubeconfig server URL as everything in the root namespace;
// - the fabric namespace: <fabric address>:<port>, for pods: the apiserver's
//   --advertise-address is the fabric address, so the `kubernetes` Service's
//   EndpointSlice points here and pods reach the API through kube-proxy like anywhere.
//   (The serving certificate needs that address and the first service IP as SANs.)
//
// The relay only forwards to loopback or a unix socket: it cannot be pointed outside.
// A listening socket holds its namespace alive: close relays before destroying the lab.
import { isIP, Server, Socket, createConnection } from 'node:net';
import { spawnNetnsProgram } from './netns-program.js';
import type { NetworkPlan } from './plan.js';
import { RELAY_CONFIG_ENV, type RelayListenerConfig, type RelayListenerMessage } from './relay-listener-main.js';

export type RelayTarget = { host: string; port: number } | { path: string };

export interface RelayOptions {
  /** namespace where the listener lives */
  netns: string;
  listen: { host: string; port: number };
  /** where each connection goes, in this process's (root) namespace: loopback only */
  target: RelayTarget;
  /** default 10 s */
  startTimeoutMs?: number;
}

export interface Relay {
  netns: string;
  host: string;
  port: number;
  /** connections open right now */
  active(): number;
  /** connections accepted so far */
  accepted(): number;
  close(): Promise<void>;
}

export class RelayError extends Error {
  override name = 'RelayError';
}

function assertLoopback(target: RelayTarget): void {
  if ('path' in target) {
    if (!target.path.startsWith('/')) throw new RelayError(`relay unix target must be an absolute path, got "${target.path}"`);
    return;
  }
  const h = target.host;
  const ok = h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
  if (!ok) {
    throw new RelayError(`relay target ${h}:${target.port} is not loopback; the lab relay only forwards to 127.0.0.0/8, ::1 or a unix socket`);
  }
}

/** Starts a relay whose listener lives in `netns`. */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  assertLoopback(opts.target);
  const server = await listenInNetns(opts.netns, opts.listen.host, opts.listen.port, opts.startTimeoutMs ?? 10_000);
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (down: Socket) => {
    accepted++;
    const up = 'path' in opts.target ? createConnection(opts.target.path) : createConnection(opts.target.port, opts.target.host);
    sockets.add(down);
    sockets.add(up);
    const drop = (): void => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    down.setNoDelay(true);
    up.setNoDelay(true);
    down.pipe(up);
    up.pipe(down);
    down.resume();
  });
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : opts.listen.port;
  let closed: Promise<void> | undefined;
  return {
    netns: opts.netns,
    host: opts.listen.host,
    port,
    active: () => sockets.size / 2,
    accepted: () => accepted,
    close: () =>
      (closed ??= new Promise<void>((res) => {
        server.close(() => res());
        for (const s of sockets) s.destroy();
        sockets.clear();
      })),
  };
}

function listenInNetns(netns: string, host: string, port: number, timeoutMs: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const config: RelayListenerConfig = { host, port };
    const child = spawnNetnsProgram(netns, new URL('./relay-listener-main.ts', import.meta.url), RELAY_CONFIG_ENV, config);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let done = false;
    const finish = (err?: Error, server?: Server): void => {
      if (done) {
        server?.close();
        return;
      }
      done = true;
      clearTimeout(timer);
      if (err) {
        if (child.exitCode === null) child.kill('SIGKILL');
        reject(err);
      } else resolve(server!);
    };
    const timer = setTimeout(
      () => finish(new RelayError(`relay listener in ${netns} on ${host}:${port} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.on('message', (msg: RelayListenerMessage, handle: unknown) => {
      if ('error' in msg) finish(new RelayError(`relay cannot listen in ${netns} on ${host}:${port}: ${msg.error}`));
      else if (handle instanceof Server) finish(undefined, handle);
      else finish(new RelayError(`relay helper in ${netns} sent no listening socket`));
    });
    child.on('error', (e) => finish(new RelayError(`cannot start the relay helper in ${netns}: ${e.message}`)));
    child.on('exit', (code) => {
      if (!done) finish(new RelayError(`relay helper in ${netns} exited (${code ?? 'signal'}) before listening: ${stderr.trim() || 'no output'}`));
    });
  });
}

export interface ApiserverRelays {
  relays: Relay[];
  /** server URL for components in node namespaces */
  nodeUrl: string;
  /** address:port pods reach through the fabric; use as --advertise-address/--secure-port view */
  fabricEndpoint: { host: string; port: number };
  close(): Promise<void>;
}

/** One relay per node namespace on 127.0.0.1:<port> and one in the fabric namespace on
 * the fabric address, all to the apiserver on the root namespace's loopback. */
export async function startApiserverRelays(
  plan: NetworkPlan,
  opts: { port: number; target?: RelayTarget },
): Promise<ApiserverRelays> {
  const target = opts.target ?? { host: '127.0.0.1', port: opts.port };
  const relays: Relay[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(relays.map((r) => r.close()));
  };
  try {
    relays.push(await startRelay({ netns: plan.fabric.netns, listen: { host: plan.fabric.address, port: opts.port }, target }));
    for (const node of plan.nodes) {
      relays.push(await startRelay({ netns: node.netns, listen: { host: '127.0.0.1', port: opts.port }, target }));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return {
    relays,
    nodeUrl: `https://127.0.0.1:${opts.port}`,
    fabricEndpoint: { host: plan.fabric.address, port: opts.port },
    close: closeAll,
  };
}
