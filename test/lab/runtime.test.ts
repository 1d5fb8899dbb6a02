// The lab node runtime, for real: a 2-node lab network, the real control plane, and the
// runtime playing the kubelet. A Deployment of agnhost is scheduled by the real scheduler,
// run as processes in pod namespaces, published by the real EndpointSlice controller and
// reached across nodes. Needs Linux + root.
//   npx vitest run --project lab test/lab/runtime.test.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinaries, type LabBinaries } from '../../src/lab/binaries.js';
import { procInfo, startControlPlane, type ControlPlane } from '../../src/lab/control-plane/index.js';
import { createLabNetwork, ipv4InCidr, planNetwork, type LabNetwork, type NetworkPlan } from '../../src/lab/network/index.js';
import { listNetns } from '../../src/netns/netns.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';
import { defaultCatalog, startNodeRuntime, type NodeRuntime } from '../../src/lab/runtime/index.js';

const skipReason = labSkipReason;


const labPorts = freeControlPlanePorts;

async function isGone(pid: number): Promise<boolean> {
  const i = await procInfo(pid);
  return !i || i.state === 'Z';
}

const NS = 'rt-test';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

describe.skipIf(skipReason !== undefined)('lab node runtime', () => {
  let root: string;
  let binaries: LabBinaries;
  let plan: NetworkPlan;
  let net: LabNetwork | undefined;
  let cp: ControlPlane | undefined;
  let rt: NodeRuntime | undefined;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  const t0 = Date.now();
  const podNamespaces = async () => (await listNetns()).filter((n) => n.startsWith(`${plan.prefix}pod-`));
  const pods = async (selector: string) => (await core.listNamespacedPod({ namespace: NS, labelSelector: selector })).items;
  const pidOf = (p: k8s.V1Pod) => Number(/^lab:\/\/(\d+)$/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1]);

  beforeAll(async () => {
    binaries = await findBinaries({ onProgress: (l) => console.log(l) });
    root = await mkdtemp(join(tmpdir(), 'ksli-rt-'));
    const labId = `rt${Math.random().toString(36).slice(2, 8)}`;
    plan = planNetwork({ labId, nodes: 2 });
    net = await createLabNetwork(plan);
    cp = await startControlPlane({
      stateDir: join(root, 'cp'),
      ports: await labPorts(),
      binaries,
      clusterCIDR: plan.clusterCidr,
      serviceCIDR: plan.serviceCidr,
    });
    const t1 = Date.now();
    rt = await startNodeRuntime({
      kubeconfigPath: cp.kubeconfigPath,
      plan,
      podStateFile: join(root, 'pods.json'),
      logDir: join(root, 'logs'),
      catalog: defaultCatalog({ agnhostPath: binaries.agnhost! }),
      log: (l) => console.log(`[runtime +${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`),
    });
    await rt.ready;
    console.log(`lab up in ${Date.now() - t0} ms (nodes Ready ${Date.now() - t1} ms after the control plane)`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  }, 5 * 60_000);

  afterAll(async () => {
    const errors: unknown[] = [];
    await rt?.stop().catch((e: unknown) => errors.push(e));
    await cp?.stop().catch((e: unknown) => errors.push(e));
    await net?.destroy().catch((e: unknown) => errors.push(e));
    await rm(root, { recursive: true, force: true });
    console.log(`torn down at ${Date.now() - t0} ms`);
    if (errors.length) throw errors[0];
  }, 2 * 60_000);

  it('registers both nodes Ready, with the plan podCIDRs, no taints and a Lease', async () => {
    const [kfile, ...kargs] = binaries.argv.kubectl;
    const out = await execa(kfile!, [...kargs, 'get', 'nodes', '-o', 'json'], { env: { KUBECONFIG: cp!.kubeconfigPath } });
    const nodes = (JSON.parse(out.stdout) as { items: k8s.V1Node[] }).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(plan.nodes.map((n) => n.name));
    for (const n of nodes) {
      const p = plan.nodes.find((x) => x.name === n.metadata?.name)!;
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n.spec?.podCIDR).toBe(p.podCidr);
      expect(n.spec?.podCIDRs).toEqual([p.podCidr]);
      expect(n.spec?.taints ?? []).toEqual([]);
      expect(n.status?.addresses).toEqual(expect.arrayContaining([{ type: 'InternalIP', address: p.internalIp }]));
      expect(n.status?.nodeInfo?.kubeletVersion).toBe(cp!.versions['kube-apiserver']);
      expect(n.status?.nodeInfo?.containerRuntimeVersion).toBe('kube-sli-lab://0.1');
    }
    const wide = await execa(kfile!, [...kargs, 'get', 'nodes'], { env: { KUBECONFIG: cp!.kubeconfigPath } });
    console.log(wide.stdout);
    expect(wide.stdout.split('\n').filter((l) => /\sReady\s/.test(l))).toHaveLength(2);
    const coord = (() => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cp!.kubeconfigPath);
      return kc.makeApiClient(k8s.CoordinationV1Api);
    })();
    const lease = await coord.readNamespacedLease({ name: 'node0', namespace: 'kube-node-lease' });
    expect(lease.spec?.holderIdentity).toBe('node0');
    expect(lease.spec?.renewTime).toBeDefined();
  });

  it('runs a Deployment of agnhost: Ready pods in the nodes podCIDRs, an EndpointSlice, reachable across nodes', async () => {
    const t1 = Date.now();
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              terminationGracePeriodSeconds: 5,
              affinity: {
                podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } }] },
              },
              containers: [
                {
                  name: 'agnhost',
                  image: AGNHOST,
                  args: ['netexec', '--http-port=8080', '--udp-port=-1'],
                  ports: [{ name: 'http', containerPort: 8080 }],
                  env: [
                    { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                    { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  ],
                  readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
    });

    let running: k8s.V1Pod[] = [];
    await expect
      .poll(
        async () => {
          running = (await pods('app=web')).filter(
            (p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          );
          return running.length;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(2);
    console.log(`2 agnhost pods Running+Ready in ${Date.now() - t1} ms`);
    expect(new Set(running.map((p) => p.spec?.nodeName))).toEqual(new Set(['node0', 'node1']));
    for (const p of running) {
      const node = plan.nodes.find((n) => n.name === p.spec?.nodeName)!;
      expect(ipv4InCidr(p.status!.podIP!, node.podCidr), `${p.status?.podIP} in ${node.podCidr}`).toBe(true);
      expect(p.status?.hostIP).toBe(node.internalIp);
      const cs = p.status?.containerStatuses?.[0];
      expect(cs?.ready).toBe(true);
      expect(cs?.state?.running).toBeDefined();
      expect(cs?.containerID).toMatch(/^lab:\/\/\d+$/);
    }
    const ips = running.map((p) => p.status!.podIP!).sort();

    const discovery = (() => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cp!.kubeconfigPath);
      return kc.makeApiClient(k8s.DiscoveryV1Api);
    })();
    await expect
      .poll(
        async () => {
          const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' });
          return slices.items
            .flatMap((s) => s.endpoints)
            .filter((e) => e.conditions?.ready)
            .flatMap((e) => e.addresses)
            .sort();
        },
        { timeout: 30_000, interval: 250 },
      )
      .toEqual(ips);
    console.log(`EndpointSlice with both pods ready at ${Date.now() - t1} ms`);

    // From the other node's namespace, to each pod IP: cross-node routing through the fabric.
    for (const p of running) {
      const other = plan.nodes.find((n) => n.name !== p.spec?.nodeName)!;
      const r = await execa('ip', ['netns', 'exec', other.netns, 'curl', '-sS', '-m', '5', `http://${p.status!.podIP}:8080/echo?msg=hello-${other.name}`]);
      expect(r.stdout).toBe(`hello-${other.name}`);
    }
    // downward API env reached the process
    const pid = pidOf(running[0]!);
    const env = (await execa('cat', [`/proc/${pid}/environ`])).stdout.split('\0');
    expect(env).toContain(`MY_POD=${running[0]!.metadata!.name}`);
    expect(env).toContain(`MY_IP=${running[0]!.status!.podIP}`);
  });

  it('reports an image outside the catalog as waiting, and deletes that pod', async () => {
    const t1 = Date.now();
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'nope', labels: { app: 'nope' } }, spec: { containers: [{ name: 'c', image: 'docker.io/library/nginx:1.27' }] } } });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'nope', namespace: NS })).status?.containerStatuses?.[0]?.state?.waiting?.reason, { timeout: 15_000, interval: 200 })
      .toBe('ImageNotInLabCatalog');
    const p = await core.readNamespacedPod({ name: 'nope', namespace: NS });
    console.log(`ImageNotInLabCatalog after ${Date.now() - t1} ms: ${p.status?.containerStatuses?.[0]?.state?.waiting?.message}`);
    expect(p.status?.phase).toBe('Pending');
    expect(p.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/nginx:1.27 is not in the lab catalog; lab images: registry.k8s.io\/e2e-test-images\/agnhost/);
    await core.deleteNamespacedPod({ name: 'nope', namespace: NS });
    await expect.poll(async () => (await pods('app=nope')).length, { timeout: 15_000 }).toBe(0);
  });

  it('restarts a crashing container (Always) and fails one with restartPolicy Never', async () => {
    const mk = (name: string, restartPolicy: string) =>
      core.createNamespacedPod({
        namespace: NS,
        body: { metadata: { name, labels: { app: 'crash' } }, spec: { restartPolicy, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: AGNHOST, args: ['no-such-subcommand'] }] } },
      });
    await mk('crash-always', 'Always');
    await mk('crash-never', 'Never');
    await expect.poll(async () => (await core.readNamespacedPod({ name: 'crash-never', namespace: NS })).status?.phase, { timeout: 20_000 }).toBe('Failed');
    // a finished pod keeps its status but gives its network back: 2 web + crash-always
    await expect.poll(async () => (await podNamespaces()).length, { timeout: 10_000 }).toBe(3);
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'crash-always', namespace: NS })).status?.containerStatuses?.[0]?.restartCount ?? 0, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1);
    const a = await core.readNamespacedPod({ name: 'crash-always', namespace: NS });
    expect(a.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).not.toBe(0);
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'app=crash' });
    await expect.poll(async () => (await pods('app=crash')).length, { timeout: 20_000 }).toBe(0);
    // the apiserver removes terminal pods at once; the runtime's clean-up follows the DELETED event
    await expect.poll(async () => (await podNamespaces()).length, { timeout: 20_000 }).toBe(2);
  });

  it('runs the kit server from the catalog (tcpSocket probe) and a hostNetwork agnhost', async () => {
    const t1 = Date.now();
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'kit', labels: { app: 'extra' } },
        spec: {
          nodeName: 'node0',
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'server', image: 'ghcr.io/kube-sli/kube-sli:dev', command: ['kube-sli-server'], args: ['8080'], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
        },
      },
    });
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'hostnet', labels: { app: 'extra' } },
        spec: {
          nodeName: 'node1',
          hostNetwork: true,
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'agnhost', image: AGNHOST, args: ['netexec', '--http-port=18080', '--udp-port=-1'], readinessProbe: { httpGet: { path: '/', port: 18080 }, periodSeconds: 1 } }],
        },
      },
    });
    const readyPod = async (name: string) => {
      const p = await core.readNamespacedPod({ name, namespace: NS });
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    };
    await expect.poll(async () => (await readyPod('kit')) !== undefined && (await readyPod('hostnet')) !== undefined, { timeout: 30_000, interval: 250 }).toBe(true);
    console.log(`kit server and hostNetwork pod Ready in ${Date.now() - t1} ms`);
    const kit = (await readyPod('kit'))!;
    const hostnet = (await readyPod('hostnet'))!;
    expect(hostnet.status?.podIP).toBe(plan.nodes[1]!.internalIp);
    const r = await execa('ip', ['netns', 'exec', plan.nodes[1]!.netns, 'curl', '-sS', '-m', '5', `http://${kit.status!.podIP}:8080/bytes/5`]);
    expect(r.stdout).toHaveLength(5);
    const h = await execa('ip', ['netns', 'exec', plan.nodes[0]!.netns, 'curl', '-sS', '-m', '5', `http://${plan.nodes[1]!.internalIp}:18080/echo?msg=hostnet`]);
    expect(h.stdout).toBe('hostnet');
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'app=extra' });
    await expect.poll(async () => (await pods('app=extra')).length, { timeout: 20_000 }).toBe(0);
    expect(await isGone(pidOf(kit))).toBe(true);
    expect(await isGone(pidOf(hostnet))).toBe(true);
  });

  it('scaling to 0 stops the processes and removes the pod namespaces', async () => {
    const before = await pods('app=web');
    const pids = before.map(pidOf);
    expect(pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
    await expect.poll(async () => (await podNamespaces()).length, { timeout: 20_000 }).toBe(2);
    const t1 = Date.now();
    await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: NS, body: { spec: { replicas: 0 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await expect.poll(async () => (await pods('app=web')).length, { timeout: 30_000, interval: 250 }).toBe(0);
    console.log(`scaled to 0 in ${Date.now() - t1} ms`);
    for (const pid of pids) expect(await isGone(pid), `pid ${pid}`).toBe(true);
    expect(await podNamespaces()).toEqual([]);
  });

  it('stop() leaves no pod namespace and no process', async () => {
    await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: NS, body: { spec: { replicas: 1 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    let pod: k8s.V1Pod | undefined;
    await expect
      .poll(async () => {
        pod = (await pods('app=web')).find((p) => p.status?.phase === 'Running');
        return pod !== undefined;
      }, { timeout: 30_000 })
      .toBe(true);
    const pid = pidOf(pod!);
    await expect.poll(async () => (await podNamespaces()).length, { timeout: 20_000 }).toBe(1);
    const t1 = Date.now();
    await rt!.stop();
    rt = undefined;
    console.log(`runtime stopped in ${Date.now() - t1} ms`);
    expect(await isGone(pid)).toBe(true);
    expect(await podNamespaces()).toEqual([]);
    for (const n of plan.nodes) {
      const { stdout } = await execa('ip', ['netns', 'pids', n.netns]);
      expect(stdout.trim(), `processes left in ${n.netns}`).toBe('');
    }
  });

  it('a new runtime takes over the nodes and runs the pods again (daemon restart)', async () => {
    const t1 = Date.now();
    const before = (await pods('app=web'))[0]!;
    rt = await startNodeRuntime({
      kubeconfigPath: cp!.kubeconfigPath,
      plan,
      podStateFile: join(root, 'pods.json'),
      logDir: join(root, 'logs'),
      catalog: defaultCatalog({ agnhostPath: binaries.agnhost! }),
      log: (l) => console.log(`[runtime2 +${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`),
    });
    await rt.ready;
    let after: k8s.V1Pod | undefined;
    await expect
      .poll(
        async () => {
          after = (await pods('app=web'))[0];
          const pid = after ? pidOf(after) : NaN;
          return pid !== pidOf(before) && after?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    console.log(`pod running again under the new runtime in ${Date.now() - t1} ms (IP ${before.status?.podIP} → ${after?.status?.podIP})`);
    expect(after?.metadata?.uid).toBe(before.metadata?.uid);
    const node = plan.nodes.find((n) => n.name === after?.spec?.nodeName)!;
    expect(ipv4InCidr(after!.status!.podIP!, node.podCidr)).toBe(true);
    await rt.stop();
    rt = undefined;
    expect(await podNamespaces()).toEqual([]);
  });
});

if (skipReason) {
  describe('lab node runtime', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
}
