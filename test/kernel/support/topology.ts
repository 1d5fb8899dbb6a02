// Test fixture: client netns → node netns (kube-proxy-shaped DNAT) → server netns, joined
// by point-to-point veths. Names carry the creating PID so a later run can remove what a
// killed run left (only namespaces whose creator is dead), and nothing else.
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  addAddress,
  addNetns,
  addRoute,
  addVethPair,
  deleteNetns,
  inNetns,
  listNetns,
  runIn,
  sysctl,
} from '../../../src/netns/netns.js';
import type { ClientConnectionResult } from '../../../src/workload/client.js';
import { iptablesRestoreInput, nftablesInput, NFT_TABLE, syntheticServices } from './kube-proxy-rules.js';

export type ProxyMode = 'iptables' | 'nftables';

const WORKLOAD_DIR = fileURLToPath(new URL('../../../src/workload/', import.meta.url));
const TEST_PREFIX = 'ksli-k';

export interface Topology {
  client: string;
  node: string;
  server: string;
  /** node-side interface facing the client: the boundary where capture runs */
  boundaryIface: string;
  clientAddr: string;
  vip: string;
  servicePort: number;
  serverAddrs: string[];
  targetPort: number;
  serviceCidr: string;
  clusterCidr: string;
  destroy(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes test namespaces left by runs whose process is gone. */
export async function removeStaleTestNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNetns()) {
    const m = new RegExp(`^${TEST_PREFIX}(\\d+)-`).exec(ns);
    if (m && !pidAlive(Number(m[1]))) {
      await deleteNetns(ns);
      removed.push(ns);
    }
  }
  return removed;
}

let seq = 0;

export async function createTopology(): Promise<Topology> {
  const tag = `${process.pid}-${seq++}`;
  const short = `${(process.pid % 10000).toString(36)}${seq.toString(36)}`;
  const [client, node, server] = ['c', 'n', 's'].map((r) => `${TEST_PREFIX}${tag}-${r}`) as [string, string, string];
  const topo: Topology = {
    client,
    node,
    server,
    boundaryIface: `kn${short}a`,
    clientAddr: '10.200.0.2',
    vip: '10.96.0.10',
    servicePort: 80,
    serverAddrs: ['10.244.1.2', '10.244.1.3'],
    targetPort: 8080,
    serviceCidr: '10.96.0.0/12',
    clusterCidr: '10.244.0.0/16',
    destroy: async () => {
      for (const ns of [client, node, server]) await deleteNetns(ns);
    },
  };
  try {
    for (const ns of [client, node, server]) await addNetns(ns);
    await addVethPair({ ns: client, name: 'eth0' }, { ns: node, name: topo.boundaryIface });
    await addVethPair({ ns: server, name: 'eth0' }, { ns: node, name: `kn${short}b` });
    await addAddress(client, 'eth0', `${topo.clientAddr}/24`);
    await addAddress(node, topo.boundaryIface, '10.200.0.1/24');
    await addAddress(node, `kn${short}b`, '10.244.1.1/24');
    for (const a of topo.serverAddrs) await addAddress(server, 'eth0', `${a}/24`);
    // Routes only toward the lab's own ranges: no default route anywhere.
    await addRoute(client, topo.serviceCidr, '10.200.0.1');
    await addRoute(client, topo.clusterCidr, '10.200.0.1');
    await addRoute(server, '10.200.0.0/24', '10.244.1.1');
    await sysctl(node, { 'net.ipv4.ip_forward': 1 });
    // Without timestamps every non-SYN TCP header is 20 bytes: conntrack byte counters
    // can then be checked exactly against what the client and server moved.
    for (const ns of [client, server]) await sysctl(ns, { 'net.ipv4.tcp_timestamps': 0 });
  } catch (e) {
    await topo.destroy();
    throw e;
  }
  return topo;
}

/** Replaces the node's service rules with `count` kube-proxy-shaped Services in `mode`. */
export async function programServices(topo: Topology, mode: ProxyMode, count: number): Promise<number> {
  const services = syntheticServices(count, {
    vip: topo.vip,
    port: topo.servicePort,
    endpoints: topo.serverAddrs.map((ip) => ({ ip, port: topo.targetPort })),
  });
  await clearServices(topo);
  const t0 = performance.now();
  if (mode === 'iptables') {
    await runIn(topo.node, ['iptables-restore', '--noflush'], { input: iptablesRestoreInput(services, topo.clusterCidr) });
  } else {
    await runIn(topo.node, ['nft', '-f', '-'], { input: nftablesInput(services, topo.clusterCidr) });
  }
  return (performance.now() - t0) / 1000;
}

export async function clearServices(topo: Topology): Promise<void> {
  await runIn(topo.node, ['iptables', '-t', 'nat', '-F']);
  await runIn(topo.node, ['iptables', '-t', 'nat', '-X']);
  await runIn(topo.node, ['sh', '-c', `nft delete table ip ${NFT_TABLE} 2>/dev/null || true`]);
}

export interface ServerProcess {
  pid: number;
  stop(): Promise<void>;
}

function tsxNode(ns: string, script: string, args: string[]): ResultPromise {
  const argv = inNetns(ns, [process.execPath, '--import', 'tsx', `${WORKLOAD_DIR}${script}`, ...args]);
  return execa(argv[0]!, argv.slice(1), { reject: false, buffer: false, stdin: 'ignore' });
}

export async function startServer(topo: Topology): Promise<ServerProcess> {
  const child = tsxNode(topo.server, 'server.ts', [String(topo.targetPort)]);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not report listening within 20 s')), 20_000);
    lines.once('line', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}

export async function runClient(
  topo: Topology,
  opts: { connections: number; concurrency?: number; path?: string; target?: string },
): Promise<ClientConnectionResult[]> {
  const args = [
    '--target',
    opts.target ?? `${topo.vip}:${topo.servicePort}`,
    '--connections',
    String(opts.connections),
    '--concurrency',
    String(opts.concurrency ?? 1),
    '--path',
    opts.path ?? '/bytes/1000',
  ];
  const argv = inNetns(topo.client, [process.execPath, '--import', 'tsx', `${WORKLOAD_DIR}client.ts`, ...args]);
  const res = await execa(argv[0]!, argv.slice(1), { reject: false, maxBuffer: 512 * 1024 * 1024 });
  if (res.exitCode !== 0) throw new Error(`client failed (${res.exitCode}): ${res.stderr}`);
  return String(res.stdout)
    .split('\n')
    .filter((l) => l.startsWith('{"seq"'))
    .map((l) => JSON.parse(l) as ClientConnectionResult);
}
