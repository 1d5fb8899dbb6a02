// Free loopback ports for a throwaway control plane, so tests never collide with a lab
// somebody else runs on this machine.
import { createServer, type Server } from 'node:net';
import type { ControlPlanePorts } from '../../../src/lab/control-plane/index.js';

export const labSkipReason: string | undefined =
  process.platform !== 'linux'
    ? `needs Linux; this is ${process.platform}`
    : process.getuid?.() !== 0
      ? 'needs root (the embedded lab runs as root): run as root, e.g. in CI'
      : undefined;

export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    servers.push(await new Promise<Server>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => r(s)); }));
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function freeControlPlanePorts(): Promise<ControlPlanePorts> {
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = (await freePorts(5)) as [number, number, number, number, number];
  return { etcdClient, etcdPeer, apiserver, controllerManager, scheduler };
}
