// Lab figures (root, Linux; not run in tests):
//   - warm `lab up` (binaries cached) to all Nodes Ready (or, without the node runtime,
//     to kube-proxy's rules on every node);
//   - per kube-proxy mode, the time to program N Services with 2 endpoints each, created
//     through the API with bounded concurrency, measured until node0's rules contain the
//     last Service's ClusterIP (`nft list map ip kube-proxy service-ips` /
//     `iptables-save -t nat`); then one more Service: the partial-sync case.
// Run alone: node --import tsx bench/lab.bench.ts [services] (default 10000).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { kubeClients } from '../src/kube/clients.js';
import type { ProxyMode } from '../src/lab/kube-proxy.js';
import { labDown, labUp } from '../src/lab/lab.js';
import { planNetwork } from '../src/lab/network/plan.js';
import { runIn } from '../src/netns/netns.js';

export interface LabModeFigures {
  mode: ProxyMode;
  upSeconds: number;
  /** Nodes Ready (runtime) or rules programmed (no runtime) */
  upUntil: 'nodes-ready' | 'rules-programmed';
  services: number;
  createSeconds: number;
  /** first create → last Service's ClusterIP in the node's rules */
  programSeconds: number;
  /** last create answered → in the rules */
  programAfterLastCreateSeconds: number;
  /** one more Service: its create → in the rules */
  oneMoreSeconds: number;
}

export interface BenchLabOptions {
  services?: number;
  concurrency?: number;
  modes?: ProxyMode[];
  log?: (s: string) => void;
}

async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) servers.push(await new Promise<Server>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => r(s)); }));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inRules(netns: string, mode: ProxyMode, ip: string): Promise<boolean> {
  try {
    const out =
      mode === 'nftables'
        ? await runIn(netns, ['nft', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'], { maxBuffer: 512 * 1024 * 1024 })
        : await runIn(netns, ['iptables-save', '-t', 'nat'], { maxBuffer: 512 * 1024 * 1024 });
    const re = ip.replace(/\./g, '\\.');
    return mode === 'nftables' ? new RegExp(`(^|[\\s{,])${re} \\. tcp \\. 80 :`, 'm').test(out) : out.includes(`-d ${ip}/32 -p tcp`);
  } catch {
    return false;
  }
}

async function waitInRules(netns: string, mode: ProxyMode, ip: string, timeoutMs = 15 * 60_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await inRules(netns, mode, ip)) return Date.now();
    await sleep(100);
  }
  throw new Error(`${ip} not in ${mode} rules of ${netns} after ${timeoutMs} ms`);
}

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

function serviceObjects(i: number): { svc: k8s.V1Service; slice: k8s.V1EndpointSlice } {
  const name = `bench-${i}`;
  // two endpoints per Service, inside the pod range (nothing needs to answer: rules only)
  const a = `10.244.${i % 200}.${2 + (Math.floor(i / 200) % 250)}`;
  const b = `10.244.${200 + (i % 50)}.${2 + (Math.floor(i / 50) % 250)}`;
  return {
    svc: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-bench`, namespace: 'default', labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'kube-sli-bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [a, b].map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
    },
  };
}

export async function benchLab(opts: BenchLabOptions = {}): Promise<LabModeFigures[]> {
  const services = opts.services ?? 10_000;
  const concurrency = opts.concurrency ?? 32;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const figures: LabModeFigures[] = [];
  for (const mode of opts.modes ?? (['nftables', 'iptables'] as ProxyMode[])) {
    const stateDir = join(await mkdtemp(join(tmpdir(), 'ksli-bench-')), 'lab');
    const [apiserver, etcdClient, etcdPeer, controllerManager, scheduler] = await freePorts(5);
    try {
      const t0 = Date.now();
      const up = await labUp({ nodes: 2, proxyMode: mode, stateDir, ports: { apiserver: apiserver!, etcdClient: etcdClient!, etcdPeer: etcdPeer!, controllerManager: controllerManager!, scheduler: scheduler! }, onProgress: log });
      const upSeconds = (Date.now() - t0) / 1000;
      log(`${mode}: lab up in ${upSeconds.toFixed(1)} s`);
      // the kit's clients: one keep-alive TLS agent (client-node alone handshakes per request)
      const { core, discovery: disc } = kubeClients(up.kubeconfigPath);
      const netns = planNetwork({ labId: up.labId, nodes: 2 }).nodes[0]!.netns;
      const create = async (i: number): Promise<string> => {
        const { svc, slice } = serviceObjects(i);
        const s = await core.createNamespacedService({ namespace: 'default', body: svc });
        await disc.createNamespacedEndpointSlice({ namespace: 'default', body: slice });
        return s.spec?.clusterIP ?? '';
      };
      const c0 = Date.now();
      let done = 0;
      const ips = await pool(services, concurrency, async (i) => {
        const ip = await create(i);
        if (++done % 1000 === 0) log(`${mode}: ${done} Services created`);
        return ip;
      });
      const c1 = Date.now();
      const lastIp = ips[services - 1]!;
      const p1 = await waitInRules(netns, mode, lastIp);
      const m0 = Date.now();
      const oneIp = await create(services);
      const m1 = await waitInRules(netns, mode, oneIp);
      const f: LabModeFigures = {
        mode,
        upSeconds,
        upUntil: 'nodes-ready',
        services,
        createSeconds: (c1 - c0) / 1000,
        programSeconds: (p1 - c0) / 1000,
        programAfterLastCreateSeconds: (p1 - c1) / 1000,
        oneMoreSeconds: (m1 - m0) / 1000,
      };
      log(JSON.stringify(f));
      figures.push(f);
    } finally {
      await labDown(stateDir).catch((e: unknown) => log(`lab down: ${(e as Error).message}`));
      await rm(join(stateDir, '..'), { recursive: true, force: true });
    }
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 10_000);
  const figures = await benchLab({ services: n });
  console.table(
    figures.map((f) => ({
      mode: f.mode,
      'lab up (s)': f.upSeconds.toFixed(1),
      until: f.upUntil,
      services: f.services,
      'create (s)': f.createSeconds.toFixed(1),
      'programmed (s)': f.programSeconds.toFixed(1),
      'after last create (s)': f.programAfterLastCreateSeconds.toFixed(2),
      '+1 Service (s)': f.oneMoreSeconds.toFixed(2),
    })),
  );
}
