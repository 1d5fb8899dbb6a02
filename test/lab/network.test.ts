// The lab network against the real kernel: a 2-node fabric, pods on both nodes (networks
// made by the real CNI plugins, ptp + host-local, as the nodes' containerd makes them), TCP
// across nodes, to the node, to the root namespace's loopback through the apiserver
// relays; the root namespace untouched; destroy and destroyAll leave nothing behind.
// Needs root on Linux; elsewhere it skips with the reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEgressProxy } from '../../src/lab/network/egress.js';
import { createLabNetwork, destroyAll, type LabNetwork } from '../../src/lab/network/fabric.js';
import { planNetwork, type NetworkPlan } from '../../src/lab/network/plan.js';
import { podNetnsName } from '../../src/lab/network/plan.js';
import { startApiserverRelays, startRelay, type ApiserverRelays } from '../../src/lab/network/relay.js';
import { kernelSkipReason, listNetns, run, runIn } from '../../src/netns/netns.js';
import { addCniPod, type CniPod } from './support/cni-pod.js';

const skip = await kernelSkipReason(['ip']);
if (skip) console.warn(`lab network test skipped: ${skip}`);

// Unique per run (and per lab inside the run): the lab prefix is all cleanup relies on.
const base = `t${(process.pid % 36 ** 5).toString(36)}`;
const LAB = `${base}a`;
const CRASH_LAB = `${base}b`;
const ECHO_PORT = 8080;
const NODE_PORT = 9090;
const RELAY_PORT = 6443;

// Replies "<peer address> <what it read>" and closes: the peer shows there is no NAT.
const ECHO = `
const [host, port] = process.argv.slice(-2);
require('node:net').createServer((s) => {
  s.once('data', (d) => s.end(s.remoteAddress + ' ' + d.toString()));
}).listen(Number(port), host, () => console.log('ready'));
`;
const CLIENT = `
const [host, port, msg] = process.argv.slice(-3);
const s = require('node:net').connect(Number(port), host, () => s.write(msg));
let out = '';
s.on('data', (d) => (out += d)).on('end', () => { console.log(out); process.exit(0); });
s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });
setTimeout(() => { console.log('ERR TIMEOUT'); process.exit(0); }, 5000);
`;

const started: ChildProcess[] = [];

async function startEcho(ns: string, host: string, port: number): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO, '--', host, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo server in ${ns} did not start`)), 10_000);
    lines.once('line', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`echo server in ${ns} exited ${code}`)));
  });
  return child;
}

async function tcp(ns: string, host: string, port: number, msg: string): Promise<string> {
  return runIn(ns, [process.execPath, '-e', CLIENT, '--', host, String(port), msg]);
}

/** What kube-apiserver's egress selector does: CONNECT over the unix socket, then talk. */
async function viaEgress(socketPath: string, target: string, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socketPath);
    let out = '';
    let sent = false;
    s.on('connect', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    s.on('data', (d) => {
      out += d.toString();
      if (!sent && out.startsWith('HTTP/1.1 200') && out.includes('\r\n\r\n')) {
        sent = true;
        s.write(msg);
      }
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(`${out}<timeout>`);
    }, 5_000);
  });
}

async function rootSnapshot(): Promise<{ links: string[]; routes: string[] }> {
  const links = (await run('ip', ['-o', 'link', 'show']))
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .sort();
  const routes = [
    ...(await run('ip', ['-4', 'route', 'show', 'table', 'all'])).split('\n'),
    ...(await run('ip', ['-6', 'route', 'show', 'table', 'all'])).split('\n'),
  ]
    .filter((l) => l.length > 0)
    .sort();
  return { links, routes };
}

async function labNamespaces(labId: string): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`ksli-lab-${labId}-`));
}

describe.skipIf(skip)('lab network (root, real namespaces)', () => {
  let plan: NetworkPlan;
  let lab: LabNetwork | undefined;
  let dir: string;
  let before: { links: string[]; routes: string[] };
  let pod0: CniPod;
  let pod1: CniPod;
  let relays: ApiserverRelays | undefined;
  let apiserver: Server | undefined;
  let apiserverPort = 0;

  beforeAll(async () => {
    await destroyAll(LAB);
    await destroyAll(CRASH_LAB);
    dir = await mkdtemp(join(tmpdir(), 'ksli-lab-net-'));
    before = await rootSnapshot();
    plan = planNetwork({ labId: LAB, nodes: 2 });
    lab = await createLabNetwork(plan);
    pod0 = await addCniPod({ node: plan.nodes[0]!, netns: podNetnsName(LAB, 'a0000001'), ipamDir: join(dir, 'ipam0'), id: 'server0' });
    pod1 = await addCniPod({ node: plan.nodes[1]!, netns: podNetnsName(LAB, 'b0000002'), ipamDir: join(dir, 'ipam1'), id: 'client1' });
    // stands in for kube-apiserver on the root namespace's loopback
    apiserver = createServer((s) => s.once('data', (d) => s.end(`apiserver saw ${s.remoteAddress} ${d.toString()}`)));
    await new Promise<void>((r) => apiserver!.listen(0, '127.0.0.1', r));
    const addr = apiserver.address();
    apiserverPort = addr && typeof addr === 'object' ? addr.port : 0;
    relays = await startApiserverRelays(plan, { port: RELAY_PORT, target: { host: '127.0.0.1', port: apiserverPort } });
    await startEcho(pod0.netns, '0.0.0.0', ECHO_PORT);
    await startEcho(plan.nodes[0]!.netns, plan.nodes[0]!.internalIp, NODE_PORT);
  }, 60_000);

  afterAll(async () => {
    for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
    await relays?.close();
    await new Promise<void>((r) => (apiserver ? apiserver.close(() => r()) : r()));
    await destroyAll(LAB).catch((e: unknown) => console.error(`removing lab network ${LAB} failed, it may be left behind: ${(e as Error).message}`));
    await destroyAll(CRASH_LAB).catch((e: unknown) => console.error(`removing lab network ${CRASH_LAB} failed, it may be left behind: ${(e as Error).message}`));
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('gives pods addresses of their node\'s podCIDR from the real host-local IPAM', async () => {
    expect(pod0.ip).toBe('10.244.0.2');
    expect(pod1.ip).toBe('10.244.1.2');
    expect(pod0.netns).toMatch(new RegExp(`^ksli-lab-${LAB}-pod-[0-9a-f]{8}$`));
  });

  it('carries TCP from a pod on node 1 to a pod on node 0 without NAT', async () => {
    expect(await tcp(pod1.netns, pod0.ip, ECHO_PORT, 'hello')).toBe(`${pod1.ip} hello`);
  });

  it('lets a pod reach its own node and the other node by InternalIP', async () => {
    const node0 = plan.nodes[0]!;
    expect(await tcp(pod0.netns, node0.internalIp, NODE_PORT, 'own')).toBe(`${pod0.ip} own`);
    expect(await tcp(pod1.netns, node0.internalIp, NODE_PORT, 'other')).toBe(`${pod1.ip} other`);
    // a hostNetwork client (node 1's namespace) reaches a pod on node 0 from its InternalIP
    expect(await tcp(plan.nodes[1]!.netns, pod0.ip, ECHO_PORT, 'host')).toBe(`${plan.nodes[1]!.internalIp} host`);
  });

  it('routes as documented: no default route anywhere, service range toward the fabric', async () => {
    for (const ns of [plan.fabric.netns, ...plan.nodes.map((n) => n.netns)]) {
      expect(await run('ip', ['-n', ns, 'route', 'show', 'default'])).toBe('');
    }
    const node0 = plan.nodes[0]!;
    const nodeRoutes = await run('ip', ['-n', node0.netns, 'route', 'show']);
    expect(nodeRoutes).toContain(`10.244.1.0/24 via 10.200.0.3 dev eth0`);
    expect(nodeRoutes).toContain(`10.96.0.0/16 via 10.200.0.1 dev eth0 src 10.200.0.2`);
    // ptp: a host route per pod on the node, every pod route through the node's side
    expect(nodeRoutes).toMatch(new RegExp(`^${pod0.ip.replace(/\./g, '\\.')} dev veth\\S+ scope host`, 'm'));
    const podRoutes = (await run('ip', ['-n', pod0.netns, 'route', 'show'])).split('\n').map((l) => l.trim());
    expect(podRoutes).toContain('default via 10.244.0.1 dev eth0');
    expect(await runIn(node0.netns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).toBe('1');
    expect(await run('ip', ['-n', plan.fabric.netns, 'route', 'show'])).toContain('unreachable 10.96.0.0/16');
    // an un-DNATed ClusterIP ends in the fabric namespace, refused at once; from a pod too
    expect(await tcp(node0.netns, '10.96.0.10', 80, 'x')).toBe('ERR EHOSTUNREACH');
    expect(await tcp(pod1.netns, '10.96.0.11', 80, 'x')).toBe('ERR EHOSTUNREACH');
  });

  it('relays node namespaces (127.0.0.1) and pods (fabric address) to the root loopback', async () => {
    expect(await tcp(plan.nodes[0]!.netns, '127.0.0.1', RELAY_PORT, 'kube-proxy')).toBe('apiserver saw 127.0.0.1 kube-proxy');
    expect(await tcp(plan.nodes[1]!.netns, '127.0.0.1', RELAY_PORT, 'n1')).toBe('apiserver saw 127.0.0.1 n1');
    expect(await tcp(pod1.netns, plan.fabric.address, RELAY_PORT, 'pod')).toBe('apiserver saw 127.0.0.1 pod');
    expect(relays!.relays.reduce((a, r) => a + r.accepted(), 0)).toBe(3);
    await expect(
      startRelay({ netns: plan.nodes[0]!.netns, listen: { host: '127.0.0.1', port: 7000 }, target: { host: '10.200.0.9', port: 1 } }),
    ).rejects.toThrow(/not loopback/);
  });

  it('lets the root namespace reach pods and nodes only through the egress CONNECT proxy', async () => {
    const socketPath = join(dir, 'egress.sock');
    const egress = await startEgressProxy(plan, { socketPath });
    try {
      expect(egress.egressSelectorConfig).toContain(`udsName: ${socketPath}`);
      const toPod = await viaEgress(socketPath, `${pod0.ip}:${ECHO_PORT}`, 'proxied');
      expect(toPod).toMatch(/^HTTP\/1\.1 200 /);
      expect(toPod.endsWith(`\r\n\r\n${plan.fabric.address} proxied`)).toBe(true);
      const toNode = await viaEgress(socketPath, `${plan.nodes[0]!.internalIp}:${NODE_PORT}`, 'kubelet');
      expect(toNode.endsWith(`${plan.fabric.address} kubelet`)).toBe(true);
      // outside the lab's ranges: refused without dialling
      expect(await viaEgress(socketPath, '192.0.2.1:443', 'x')).toMatch(/^HTTP\/1\.1 403 /);
      expect(await viaEgress(socketPath, `${pod1.ip}:1`, 'x')).toMatch(/^HTTP\/1\.1 502 [\s\S]*ECONNREFUSED/);
    } finally {
      await egress.close();
    }
    expect(await listNetns()).toContain(plan.fabric.netns);
    expect((await run('ip', ['netns', 'pids', plan.fabric.netns])).trim()).toBe('');
  });

  it('never removes a file that is not a socket at the egress path', async () => {
    const notASocket = join(dir, 'precious');
    await writeFile(notASocket, 'keep me');
    await expect(startEgressProxy(plan, { socketPath: notASocket })).rejects.toThrow(/EADDRINUSE/);
    expect(await readFile(notASocket, 'utf8')).toBe('keep me');
  });

  it('leaves the root namespace without new links or routes while the lab is up', async () => {
    expect(await rootSnapshot()).toEqual(before);
  });

  it('destroy removes every namespace of the lab and the root namespace is as before', async () => {
    await relays!.close();
    relays = undefined;
    const report = await lab!.destroy();
    lab = undefined;
    expect(report.namespaces.at(-1)).toBe(plan.fabric.netns);
    expect(report.namespaces).toEqual(expect.arrayContaining([pod0.netns, pod1.netns, ...plan.nodes.map((n) => n.netns)]));
    expect(report.killedPids.length).toBeGreaterThanOrEqual(2); // the echo servers
    expect(await labNamespaces(LAB)).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
  });

  it('destroyAll cleans a crashed lab whose state file is gone, processes included', async () => {
    const crashPlan = planNetwork({ labId: CRASH_LAB, nodes: 2 });
    await createLabNetwork(crashPlan);
    const p = await addCniPod({ node: crashPlan.nodes[1]!, netns: podNetnsName(CRASH_LAB, 'c0000003'), ipamDir: join(dir, 'ipam-crash'), id: 'orphan' });
    const stray = spawn('ip', ['netns', 'exec', p.netns, 'sleep', '300'], { stdio: 'ignore' });
    started.push(stray);
    // the crash: nothing records what exists
    await expect(createLabNetwork(crashPlan)).rejects.toThrow(/already has namespaces/);
    const report = await destroyAll(CRASH_LAB);
    expect(report.namespaces.sort()).toEqual([p.netns, crashPlan.fabric.netns, ...crashPlan.nodes.map((n) => n.netns)].sort());
    expect(report.killedPids).toContain(stray.pid);
    expect(await labNamespaces(CRASH_LAB)).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
    expect(await destroyAll(CRASH_LAB)).toEqual({ namespaces: [], killedPids: [] });
  });
});
