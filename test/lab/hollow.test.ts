// Kubemark hollow nodes in the lab, for real: `lab up --hollow-nodes 50` beside one real
// node; the 50 hollow Nodes are Ready, labelled and tainted; a Deployment of 100 pods
// that selects and tolerates them is scheduled onto them and reported Running by the
// hollow kubelets; `lab down` leaves no process, namespace, cgroup or file. Also: more
// hollow nodes than memory holds are refused before anything is made.
// Needs Linux + root.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { procInfo } from '../../src/lab/control-plane/index.js';
import { HOLLOW_LABEL, HOLLOW_NODE_SELECTOR, HOLLOW_TOLERATION, hollowFit, memAvailableBytes, MAX_HOLLOW_NODES } from '../../src/lab/hollow.js';
import { labDown, labStatus, labUp, LabPreflightError } from '../../src/lab/lab.js';
import { PAUSE_IMAGE } from '../../src/lab/images/refs.js';
import { labCgroupRoots, mountsUnder } from '../../src/lab/node/teardown.js';
import { readLabState } from '../../src/lab/state.js';
import { listNetns } from '../../src/netns/netns.js';
import { waitFor } from '../../src/wait-for.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

const skipReason = labSkipReason;
if (skipReason) console.warn(`lab test skipped: ${skipReason}`);

const HOLLOW = 50;
const REPLICAS = 100;
const exists = (p: string) => stat(p).then(() => true, () => false);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newStateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ksli-hl-'));
  await rm(d, { recursive: true }); // lab up makes it
  dirs.push(d);
  return d;
}

describe.skipIf(skipReason !== undefined)('hollow nodes (kubemark) in the lab', () => {
  it('refuses more hollow nodes than memory holds, before anything is made', async () => {
    const stateDir = await newStateDir();
    const fits = hollowFit(0, await memAvailableBytes()).fits;
    // more than memory holds; on a machine with room for MAX_HOLLOW_NODES, the range check refuses MAX + 1
    const n = fits < MAX_HOLLOW_NODES ? fits + 1 : MAX_HOLLOW_NODES + 1;
    await expect(labUp({ stateDir, nodes: 1, hollowNodes: n, ports: await freeControlPlanePorts() })).rejects.toThrow(LabPreflightError);
    await expect(labUp({ stateDir, nodes: 1, hollowNodes: n, ports: await freeControlPlanePorts() })).rejects.toThrow(/--hollow-nodes \d+ .*(GiB|from 0 to)/);
    expect(await exists(stateDir)).toBe(false);
  });

  it(`${HOLLOW} hollow nodes come up Ready, run ${REPLICAS} pods, and lab down removes them`, { timeout: 20 * 60_000 }, async () => {
    const stateDir = await newStateDir();
    const r = await labUp({ stateDir, nodes: 1, hollowNodes: HOLLOW, proxyMode: 'nftables', ports: await freeControlPlanePorts() });
    expect(r.hollowNodes).toHaveLength(HOLLOW);

    const kc = new k8s.KubeConfig();
    kc.loadFromFile(r.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);

    const nodes = (await core.listNode()).items;
    const hollow = nodes.filter((n) => n.metadata?.labels?.[HOLLOW_LABEL] === 'true');
    expect(hollow.map((n) => n.metadata!.name).sort()).toEqual([...r.hollowNodes].sort());
    for (const n of hollow) {
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, n.metadata!.name).toBe('True');
      expect(n.spec?.taints?.some((t) => t.key === HOLLOW_LABEL && t.effect === 'NoSchedule'), n.metadata!.name).toBe(true);
    }
    // the real node is not hollow
    expect(nodes.filter((n) => !hollow.includes(n)).map((n) => n.metadata!.name)).toEqual(r.nodes);

    const status = await labStatus(stateDir, { queryNodes: true });
    expect(status.state).toBe('up');
    expect(status.hollowNodes).toBe(HOLLOW);
    expect(status.processes.filter((p) => p.name.startsWith('hollow/') && p.alive)).toHaveLength(HOLLOW);
    expect(status.nodes?.filter((n) => n.hollow && n.ready === 'True')).toHaveLength(HOLLOW);

    const ns = 'hollow-load';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'load' },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: 'load' } },
          template: {
            metadata: { labels: { app: 'load' } },
            spec: { nodeSelector: { ...HOLLOW_NODE_SELECTOR }, tolerations: [HOLLOW_TOLERATION], containers: [{ name: 'pause', image: PAUSE_IMAGE }] },
          },
        },
      },
    });
    const hollowNames = new Set(r.hollowNodes);
    await waitFor(
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: ns })).items;
        const running = pods.filter((p) => p.status?.phase === 'Running' && hollowNames.has(p.spec?.nodeName ?? ''));
        return running.length === REPLICAS ? true : { pending: `${running.length} of ${REPLICAS} pods Running on hollow nodes (${pods.length} exist)` };
      },
      { timeout: 5 * 60_000, interval: 1_000, what: `${REPLICAS} pods Running on hollow nodes` },
    );
    const pods = (await core.listNamespacedPod({ namespace: ns })).items;
    // spread by the scheduler over more than a handful of hollow nodes
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBeGreaterThan(10);

    const state = await readLabState(stateDir);
    const hollowRecs = state!.processes.filter((p) => p.name.startsWith('hollow/'));
    expect(hollowRecs).toHaveLength(HOLLOW);
    expect(await readdir(join(stateDir, 'hollow'))).toHaveLength(HOLLOW);

    const down = await labDown(stateDir);
    expect(down.stopped.filter((s) => s.name.startsWith('hollow/') && s.outcome !== 'not-running')).toHaveLength(HOLLOW);
    for (const p of hollowRecs) {
      const i = await procInfo(p.pid);
      expect(!i || i.state === 'Z', `${p.name} pid ${p.pid} gone`).toBe(true);
    }
    expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${r.labId}-`))).toEqual([]);
    expect(await mountsUnder(stateDir)).toEqual([]);
    expect(await labCgroupRoots(r.labId)).toEqual([]);
    expect(await exists(stateDir)).toBe(false);
  });
});
