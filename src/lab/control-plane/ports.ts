// Port checks before anything starts, so "port in use" names the port, its owner and the
// fix instead of surfacing as a component that died.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly purpose: string,
    readonly owner: string | undefined,
    readonly option: string,
  ) {
    super(
      `port ${port} on 127.0.0.1 (${purpose}) is already in use${owner ? ` by ${owner}` : ''}. ` +
        `Fix: stop that process (if it is an earlier lab: kube-sli lab down), or choose another port (${option}).`,
    );
    this.name = 'PortInUseError';
  }
}

/** Resolves true when host:port can be bound right now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** "pid 1234 (kube-apiserver)" for the process listening on a TCP port, best effort. */
export async function portOwner(port: number): Promise<string | undefined> {
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      const local = c[1];
      if (!local || c[3] !== '0A') continue; // 0A = LISTEN
      if (parseInt(local.split(':')[1] ?? '', 16) === port && c[9]) inodes.add(c[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        return `pid ${pid} (${comm})`;
      }
    }
  }
  return undefined;
}

export interface PortNeed {
  port: number;
  purpose: string;
  /** how to pick another, for the error message */
  option: string;
}

export async function assertPortsFree(needs: readonly PortNeed[]): Promise<void> {
  const seen = new Map<number, string>();
  for (const n of needs) {
    const dup = seen.get(n.port);
    if (dup) throw new Error(`port ${n.port} is configured twice (${dup} and ${n.purpose}); choose distinct ports`);
    seen.set(n.port, n.purpose);
  }
  for (const n of needs) {
    if (!(await portIsFree(n.port))) throw new PortInUseError(n.port, n.purpose, await portOwner(n.port), n.option);
  }
}

/** Ports free on 127.0.0.1 right now (bound to port 0, then released). */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      servers.push(await new Promise<Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      }));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
