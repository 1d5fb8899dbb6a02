// The whole lab, for real: `lab up` (2 nodes, each a real kubelet with its own
// containerd and the CNI plugins) in both kube-proxy modes, the Nodes, kube-proxy metrics
// through the apiserver's node proxy (egress proxy), an agnhost Deployment behind a
// ClusterIP answering a client pod on the other node, kubectl logs/exec, a ConfigMap volume
// and an exec readiness probe, a missing image, `lab down` leaving nothing (processes,
// namespaces, mounts, cgroups, files); and `lab down` after SIGKILL of every lab process. Temp state dirs and free loopback ports, so it never meets another lab.
// Needs Linux + root.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/lab/binaries.js';
import { procInfo } from '../../src/lab/control-plane/index.js';
import { rulesProgrammed, type ProxyMode } from '../../src/lab/kube-proxy.js';
import { labDown, labKubectl, labStatus, labUp, type OrchestratedState } from '../../src/lab/lab.js';
import { planNetwork } from '../../src/lab/network/index.js';
import { LAB_NETNS_PREFIX } from '../../src/lab/network/plan.js';
import { AGNHOST_IMAGE as AGNHOST } from '../../src/lab/images/refs.js';
import { labCgroupRoots, mountsUnder } from '../../src/lab/node/teardown.js';
import { listNetns, runIn } from '../../src/netns/netns.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';
import { readLabState } from '../../src/lab/state.js';

const skipReason = labSkipReason;
if (skipReason) console.warn(`lab test skipped: ${skipReason}`);


const labPorts = freeControlPlanePorts;

const exists = (p: string) => stat(p).then(() => true, () => false);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gone = async (pid: number) => {
  const i = await procInfo(pid);
  return !i || i.state === 'Z';
};

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  // a failed test must not leave a lab behind
  for (const d of dirs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newStateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ksli-lab-'));
  await rm(d, { recursive: true }); // lab up makes it
  dirs.push(d);
  return d;
}

/** Every process whose command line mentions the state dir (containerd shims, runc,
 * kubelets, containers started from its paths). */
async function processesUsing(stateDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await import('node:fs/promises').then((f) => f.readdir('/proc'))) {
    if (!/^\d+$/.test(e)) continue;
    const i = await procInfo(Number(e));
    if (i && i.state !== 'Z' && i.cmdline.join(' ').includes(stateDir)) out.push(`${e} ${i.cmdline.join(' ')}`);
  }
  return out;
}

/** Everything a lab leaves must be gone: namespaces, processes, mounts, cgroups, state dir. */
async function expectNothingLeft(stateDir: string, labId: string, pids: number[]): Promise<void> {
  expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${labId}-`))).toEqual([]);
  for (const pid of pids) expect(await gone(pid), `pid ${pid}`).toBe(true);
  expect(await processesUsing(stateDir)).toEqual([]);
  expect(await mountsUnder(stateDir)).toEqual([]);
  expect(await labCgroupRoots(labId)).toEqual([]);
  expect(await exists(stateDir)).toBe(false);
}

async function checkLab(stateDir: string, kubeconfig: string, mode: ProxyMode): Promise<void> {
  const state = (await readLabState(stateDir)) as OrchestratedState;
  const info = state.lab!;
  expect(info.proxyMode).toBe(mode);
  const plan = planNetwork({ labId: info.labId, nodes: info.nodes });
  const status = await labStatus(stateDir);
  expect(status.state).toBe('up');

  // Nodes listed and Ready (their kubelets report it).
  const nodes = JSON.parse(await labKubectl(kubeconfig, ['get', 'nodes', '-o', 'json'])) as {
    items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
  };
  expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['node0', 'node1']);
  for (const n of nodes.items) expect(n.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

  // kube-proxy programmed its mode's rules in every node namespace.
  for (const n of plan.nodes) expect(await rulesProgrammed(n.netns, mode)).toBe(true);

  // Metrics through the apiserver's node proxy (egress selector → fabric → node:10249).
  for (const n of plan.nodes) {
    const metrics = await labKubectl(kubeconfig, ['get', '--raw', `/api/v1/nodes/${n.name}:10249/proxy/metrics`]);
    expect(metrics).toContain('kubeproxy_sync_proxy_rules_duration_seconds');
  }

  await checkWorkload(kubeconfig, plan.nodes[1]!.netns, mode);
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

// The issue's scenario, with a real client nobody here wrote (upstream kubectl): a
// Deployment of agnhost behind a ClusterIP Service, its EndpointSlice from the real
// controller, a client pod on the other node reaching it through kube-proxy, and a read
// through the API server's pod proxy.
async function checkWorkload(kubeconfig: string, clientNodeNetns: string, mode: ProxyMode): Promise<void> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                {
                  name: 'agnhost',
                  image: AGNHOST,
                  args: ['netexec', '--http-port=8080'],
                  ports: [{ containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'default' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    ],
  };
  await labKubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(manifest));
  const ready = await poll('2 ready endpoints of Service web', async () => {
    const slices = JSON.parse(await labKubectl(kubeconfig, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'])) as {
      items: { metadata: { labels: Record<string, string> }; endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
    };
    const eps = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
    const byController = slices.items.every((s) => s.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io');
    return eps.length === 2 && byController ? eps.map((e) => e.addresses[0]!) : undefined;
  });
  expect(ready.every((ip) => ip.startsWith('10.244.'))).toBe(true);
  const clusterIP = (await labKubectl(kubeconfig, ['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();

  // programming latency: the client's node must forward the Service to its endpoints before
  // the client connects (nftables: in the service-ips map, not the no-endpoint-services map
  // that rejects; iptables: in the nat table, which only has Services with endpoints)
  const dump = mode === 'nftables' ? ['nft', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'] : ['iptables-save', '-t', 'nat'];
  await poll(`kube-proxy on node1 to program ${clusterIP}`, async () => ((await runIn(clientNodeNetns, dump)).includes(clusterIP) ? true : undefined));

  // a client pod on node1: agnhost connect exits 0 only when the TCP connection succeeds
  const client = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: 'default' },
    spec: {
      nodeName: 'node1',
      restartPolicy: 'Never',
      containers: [{ name: 'connect', image: AGNHOST, args: ['connect', `${clusterIP}:80`, '--timeout=5s'] }],
    },
  };
  await labKubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(client));
  const phase = await poll('the client pod to finish', async () => {
    const p = (await labKubectl(kubeconfig, ['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).trim();
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  });
  expect(phase).toBe('Succeeded');

  // pod proxy: the API server reaches the pod IP through the lab's egress proxy
  const pod = (await labKubectl(kubeconfig, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const echo = await labKubectl(kubeconfig, ['get', '--raw', `/api/v1/namespaces/default/pods/${pod}:8080/proxy/echo?msg=through-the-pod-proxy`]);
  expect(echo.trim()).toBe('through-the-pod-proxy');

  // a DaemonSet (the kit's agent ships as one, hostNetwork): one ready pod per node, in
  // the node's namespace, so its IP is the node's InternalIP
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'per-node', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'per-node' } },
      template: {
        metadata: { labels: { app: 'per-node' } },
        spec: {
          hostNetwork: true,
          containers: [
            {
              name: 'agnhost',
              image: AGNHOST,
              args: ['netexec', '--http-port=18080'],
              readinessProbe: { httpGet: { path: '/', port: 18080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
  await labKubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(ds));
  const dsPods = await poll('a ready DaemonSet pod on each node', async () => {
    const pods = JSON.parse(await labKubectl(kubeconfig, ['get', 'pods', '-l', 'app=per-node', '-o', 'json'])) as {
      items: { spec: { nodeName: string }; status: { podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] } }[];
    };
    const ready = pods.items.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === 2 ? ready : undefined;
  });
  expect(dsPods.map((p) => p.spec.nodeName).sort()).toEqual(['node0', 'node1']);
  expect(dsPods.every((p) => p.status.podIP === p.status.hostIP)).toBe(true);

  await labKubectl(kubeconfig, ['delete', 'pod/client', 'deployment/web', 'service/web', 'daemonset/per-node', '--wait=true', '--timeout=60s']);
  await checkKubeletFeatures(kubeconfig);
}

// What only a real kubelet gives: logs and exec through the API server (kubelet :10250
// reached through the egress proxy), a ConfigMap volume, an exec readiness probe, and a
// missing image reported with its reference (the lab never pulls).
async function checkKubeletFeatures(kubeconfig: string): Promise<void> {
  const objs = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default' }, data: { 'hello.txt': 'hello from a configmap' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'features', namespace: 'default' },
        spec: {
          initContainers: [{ name: 'init', image: AGNHOST, command: ['/bin/sh', '-c', 'echo init-ran > /work/init.txt'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
          containers: [
            {
              name: 'main',
              image: AGNHOST,
              command: ['/bin/sh', '-c', 'echo started-and-logging; cat /work/init.txt; exec /agnhost pause'],
              volumeMounts: [
                { name: 'cm', mountPath: '/etc/greeting' },
                { name: 'work', mountPath: '/work' },
              ],
              readinessProbe: { exec: { command: ['cat', '/etc/greeting/hello.txt'] }, periodSeconds: 1 },
            },
          ],
          volumes: [
            { name: 'cm', configMap: { name: 'greeting' } },
            { name: 'work', emptyDir: {} },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'no-such-image', namespace: 'default' },
        spec: { containers: [{ name: 'c', image: 'registry.example/not/here:1.0', imagePullPolicy: 'IfNotPresent' }] },
      },
    ],
  };
  await labKubectl(kubeconfig, ['apply', '-f', '-'], JSON.stringify(objs));
  await labKubectl(kubeconfig, ['wait', '--for=condition=Ready', 'pod/features', '--timeout=90s']);
  const logs = await poll('the features pod to log', async () => {
    const l = await labKubectl(kubeconfig, ['logs', 'features', '-c', 'main']);
    return l.includes('init-ran') ? l : undefined;
  });
  expect(logs).toContain('started-and-logging');
  expect((await labKubectl(kubeconfig, ['exec', 'features', '-c', 'main', '--', 'cat', '/etc/greeting/hello.txt'])).trim()).toBe('hello from a configmap');
  // the projected service-account token is mounted where every client library looks
  expect((await labKubectl(kubeconfig, ['exec', 'features', '-c', 'main', '--', 'ls', '/var/run/secrets/kubernetes.io/serviceaccount'])).split('\n')).toEqual(expect.arrayContaining(['ca.crt', 'namespace', 'token']));
  const waiting = await poll('the missing image to be reported', async () => {
    const w = JSON.parse(await labKubectl(kubeconfig, ['get', 'pod', 'no-such-image', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting}']) || '{}') as { reason?: string; message?: string };
    return w.reason === 'ErrImagePull' || w.reason === 'ImagePullBackOff' ? w : undefined;
  });
  expect(waiting.message).toContain('registry.example/not/here:1.0');
  await labKubectl(kubeconfig, ['delete', 'pod/features', 'pod/no-such-image', 'configmap/greeting', '--wait=true', '--timeout=60s']);
}

describe.skipIf(skipReason !== undefined)('kube-sli lab (root, real components)', () => {
  it('lab up (CLI, nftables) → Ready nodes, metrics via node proxy, cross-node ClusterIP, agnhost Deployment answering a client pod, pod proxy, DaemonSet → lab down leaves nothing', async () => {
    const stateDir = await newStateDir();
    const p = await labPorts();
    const ports = Object.entries(p).map(([k, v]) => `${k}=${v}`).join(',');
    const env = { ...process.env, KUBE_SLI_LAB_DIR: stateDir };
    const bin = join(repoRoot(), 'bin', 'kube-sli.js');
    const up = await execa(process.execPath, [bin, 'lab', 'up', '--nodes', '2', '--proxy-mode', 'nftables', '--ports', ports], { env, reject: false });
    expect(up.exitCode, String(up.stderr)).toBe(0);
    const kubeconfig = join(stateDir, 'kubeconfigs', 'admin.kubeconfig');
    expect(up.stdout).toBe(kubeconfig); // only the path on stdout
    const again = await execa(process.execPath, [bin, 'lab', 'kubeconfig'], { env });
    expect(again.stdout).toBe(kubeconfig);
    // a second up is refused, naming the fix, and breaks nothing
    const twice = await execa(process.execPath, [bin, 'lab', 'up', '--ports', ports], { env, reject: false });
    expect(twice.exitCode).toBe(3);
    expect(twice.stderr).toMatch(/already up.*lab down/s);

    await checkLab(stateDir, kubeconfig, 'nftables');
    const state = (await readLabState(stateDir)) as OrchestratedState;
    const down = await execa(process.execPath, [bin, 'lab', 'down'], { env, reject: false });
    expect(down.exitCode, String(down.stderr)).toBe(0);
    await expectNothingLeft(stateDir, state.lab!.labId, state.processes.map((x) => x.pid));
    const status = await execa(process.execPath, [bin, 'lab', 'status'], { env });
    expect(status.stdout).toContain(': down');
  }, 12 * 60_000);

  it('lab up (iptables) → same checks → lab down leaves nothing', async () => {
    const stateDir = await newStateDir();
    const r = await labUp({ nodes: 2, proxyMode: 'iptables', stateDir, ports: await labPorts() });
    await checkLab(stateDir, r.kubeconfigPath, 'iptables');
    const state = (await readLabState(stateDir)) as OrchestratedState;
    await labDown(stateDir);
    await expectNothingLeft(stateDir, r.labId, state.processes.map((x) => x.pid));
    await labDown(stateDir); // idempotent
  }, 12 * 60_000);

  it('SIGKILL of every lab process, then lab down → nothing left', async () => {
    const stateDir = await newStateDir();
    const r = await labUp({ nodes: 2, proxyMode: 'nftables', stateDir, ports: await labPorts() });
    const state = (await readLabState(stateDir)) as OrchestratedState;
    const pids = state.processes.map((x) => x.pid);
    expect(state.processes.map((x) => x.name)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'lab-daemon', 'kube-proxy/node0', 'kube-proxy/node1', 'kubelet/node0', 'containerd/node1']));
    // a pod's containers and its shim outlive the SIGKILL of everything recorded
    await labKubectl(r.kubeconfigPath, ['run', 'survivor', `--image=${AGNHOST}`, '--restart=Never', '--', 'pause']);
    await labKubectl(r.kubeconfigPath, ['wait', '--for=condition=Ready', 'pod/survivor', '--timeout=90s']);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    for (const pid of pids) {
      const t0 = Date.now();
      while (!(await gone(pid)) && Date.now() - t0 < 5_000) await sleep(20);
    }
    expect((await labStatus(stateDir)).state).toBe('stopped');
    const report = await labDown(stateDir);
    expect(report.namespaces.length).toBeGreaterThanOrEqual(3);
    await expectNothingLeft(stateDir, r.labId, pids);
  }, 12 * 60_000);

  it('a port in use: refused before anything is made, naming the port and the fix', async () => {
    const stateDir = await newStateDir();
    const ports = await labPorts();
    const blocker = await new Promise<Server>((r) => { const s = createServer(); s.listen(ports.apiserver, '127.0.0.1', () => r(s)); });
    try {
      await expect(labUp({ stateDir, ports })).rejects.toThrow(new RegExp(`port ${ports.apiserver} .*in use.*Fix`));
      expect(await exists(stateDir)).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('a failure late in lab up undoes everything it made', async () => {
    const stateDir = await newStateDir();
    const before = await listNetns();
    // a flag the kubelet rejects: it exits at once, after everything before it ran
    // (control plane, network, containerd, image import)
    const labId = `f${process.pid % 1000}`;
    const err = await labUp({ stateDir, ports: await labPorts(), kubeletArgs: ['--no-such-kubelet-flag=1'], labId }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/kubelet\/node\d .*(exited|exec)[\s\S]*no-such-kubelet-flag/);
    // this lab's namespaces only: another lab on the machine may come and go meanwhile
    expect((await listNetns()).filter((n) => !before.includes(n) && n.startsWith(`${LAB_NETNS_PREFIX}${labId}-`))).toEqual([]);
    expect(await processesUsing(stateDir)).toEqual([]);
    expect(await mountsUnder(stateDir)).toEqual([]);
    expect(await labCgroupRoots(labId)).toEqual([]);
    expect(await exists(stateDir)).toBe(false);
  }, 12 * 60_000);
});
