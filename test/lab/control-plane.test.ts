// The lab control plane, for real: etcd + kube-apiserver + kube-controller-manager +
// kube-scheduler from the kube-lab binary, in a temp state dir on free loopback ports
// (so it never collides with a lab somebody else runs on this machine).
// Needs Linux + root. Run: npx vitest run --config <config with a "lab" project> (see report).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinaries, type LabBinaries } from '../../src/lab/binaries.js';
import {
  ComponentError,
  LabError,
  PortInUseError,
  procInfo,
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
} from '../../src/lab/control-plane/index.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';
import { readLabState } from '../../src/lab/state.js';

const skipReason = labSkipReason;


const labPorts = freeControlPlanePorts;

async function isGone(pid: number): Promise<boolean> {
  const i = await procInfo(pid);
  return !i || i.state === 'Z';
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

describe.skipIf(skipReason !== undefined)('lab control plane', () => {
  let root: string;
  let binaries: LabBinaries;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ksli-cp-'));
    // No-op when the cache is current; a cold build takes ~10 min.
    binaries = await findBinaries({ onProgress: (l) => console.log(l) });
  }, 20 * 60_000);
  afterAll(async () => {
    for (const d of await readdir(root).catch(() => [])) await stopControlPlane(join(root, d)).catch((e: unknown) => console.error(`stopping the control plane in ${d} failed, it may be left behind: ${(e as Error).message}`));
    await rm(root, { recursive: true, force: true });
  });

  it('starts from nothing, serves kubectl and client-node with RBAC on, and stops clean', async () => {
    const dir = join(root, 'a');
    const t0 = Date.now();
    let cp: ControlPlane | undefined = await startControlPlane({ stateDir: dir, ports: await labPorts(), binaries });
    try {
      console.log(`control plane ready in ${Date.now() - t0} ms`, cp.timings, cp.versions);
      expect(cp.versions['kube-apiserver']).toMatch(/^v1\.\d+\.\d+/);
      const state = await readLabState(dir);
      expect(state?.processes.map((p) => p.name)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
      expect(state?.startingPid).toBeUndefined();

      // kubectl (the lab's own) with the admin kubeconfig.
      const [kfile, ...kargs] = binaries.argv.kubectl;
      const ns = await execa(kfile!, [...kargs, 'get', 'ns', '-o', 'name'], { env: { KUBECONFIG: cp.kubeconfigPath } });
      expect(ns.stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system']));

      // @kubernetes/client-node loads the same kubeconfig.
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cp.kubeconfigPath);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'ksli-cp-test' } } });
      const svc = await core.createNamespacedService({
        namespace: 'ksli-cp-test',
        body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
      });
      const ip = ipaddr.parse(svc.spec?.clusterIP ?? '');
      expect(ip.kind()).toBe('ipv4');
      expect((ip as ipaddr.IPv4).match(ipaddr.IPv4.parseCIDR('10.96.0.0/16'))).toBe(true);

      // controller-manager: service-account controller + token signing, node CIDR allocation.
      await expect
        .poll(async () => (await core.listNamespacedServiceAccount({ namespace: 'ksli-cp-test' })).items.map((s) => s.metadata?.name), { timeout: 30_000 })
        .toContain('default');
      const tr = await core.createNamespacedServiceAccountToken({ namespace: 'ksli-cp-test', name: 'default', body: { spec: { audiences: [] } } });
      expect(tr.status?.token?.split('.')).toHaveLength(3);
      await core.createNode({ body: { metadata: { name: 'ksli-cp-node' } } });
      await expect.poll(async () => (await core.readNode({ name: 'ksli-cp-node' })).spec?.podCIDR, { timeout: 30_000 }).toMatch(/^10\.244\.\d+\.0\/24$/);

      // RBAC: a valid client cert without bindings is authenticated but forbidden.
      const nobodyKc = new k8s.KubeConfig();
      nobodyKc.loadFromFile(await cp.issueKubeconfig('nobody', 'ksli-test-nobody', ['ksli-test-group']));
      const denied = await nobodyKc.makeApiClient(k8s.CoreV1Api).listNamespace().catch((e: unknown) => e);
      expect((denied as { code?: number }).code).toBe(403);
      expect(String((denied as Error).message)).toMatch(/ksli-test-nobody/);

      // A second start on the same state dir: clear error, the running lab untouched.
      const again = await startControlPlane({ stateDir: dir, binaries }).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(LabError);
      expect((again as Error).message).toMatch(/already running.*Fix:.*lab down/s);
      expect((await core.listNamespace()).items.length).toBeGreaterThanOrEqual(4);

      const pids = state!.processes.map((p) => p.pid);
      const t1 = Date.now();
      const report = await cp.stop();
      cp = undefined;
      console.log(`stopped in ${Date.now() - t1} ms`, report.stopped);
      expect(report.stopped.map((s) => s.outcome)).toEqual(['terminated', 'terminated', 'terminated', 'terminated']);
      for (const pid of pids) expect(await isGone(pid), `pid ${pid}`).toBe(true);
      expect(await exists(dir)).toBe(false);
    } finally {
      await cp?.stop();
    }
  });

  it('stops a SIGKILLed lab from the state file alone', async () => {
    const dir = join(root, 'b');
    await startControlPlane({ stateDir: dir, ports: await labPorts(), binaries });
    const state = (await readLabState(dir))!;
    for (const p of state.processes) process.kill(p.pid, 'SIGKILL');
    await expect.poll(async () => (await Promise.all(state.processes.map((p) => isGone(p.pid)))).every(Boolean)).toBe(true);
    const report = await stopControlPlane(dir);
    expect(report.stopped.map((s) => s.outcome)).toEqual(['not-running', 'not-running', 'not-running', 'not-running']);
    expect(await exists(dir)).toBe(false);
    expect((await stopControlPlane(dir)).stopped).toEqual([]);
  });

  it('a dying apiserver stops the etcd already started, removes the state and quotes its log', async () => {
    const dir = join(root, 'c');
    const started: number[] = [];
    const err = await startControlPlane({
      stateDir: dir,
      ports: await labPorts(),
      binaries,
      serviceCIDR: '10.96.0.0/31', // kube-apiserver needs at least 8 service IPs
      onProgress: (m) => {
        const pid = /started \(pid (\d+)/.exec(m)?.[1];
        if (pid) started.push(Number(pid));
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentError);
    expect((err as ComponentError).component).toBe('kube-apiserver');
    expect((err as Error).message).toMatch(/kube-apiserver \(pid \d+\) exited during start-up[\s\S]*last lines of[\s\S]*at least 8 IP addresses/);
    expect(started).toHaveLength(2);
    for (const pid of started) expect(await isGone(pid)).toBe(true);
    expect(await exists(dir)).toBe(false);
  });

  it('refuses a port in use before making anything', async () => {
    const dir = join(root, 'd');
    const ports = await labPorts();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports.apiserver, '127.0.0.1', r));
    try {
      const err = await startControlPlane({ stateDir: dir, ports, binaries }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortInUseError);
      expect((err as Error).message).toContain(`port ${ports.apiserver} on 127.0.0.1 (kube-apiserver secure port) is already in use by pid ${process.pid}`);
      expect(await exists(dir)).toBe(false);
    } finally {
      blocker.close();
    }
  });
});

if (skipReason) {
  describe('lab control plane', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
}
