// Real lab nodes (`npm run bench -- nodes`, and `npm run bench -- conformance`):
//   - the lab's images: time to find them in the cache (a warm lab up pays this);
//   - warm `lab up` until every node is Ready, with its phases (images, control plane,
//     containerd + image import, kube-proxy, Ready);
//   - pod start-up of N pods (default 100) spread over the nodes, from the kubelets' own
//     kubelet_pod_start_sli_duration_seconds (scraped through nodes/<n>/proxy/metrics:
//     the API server's proxy to kubelet :10250), and the wall time until all are Ready;
//   - conformance: every [sig-network] [Conformance] test of the pinned release's e2e
//     suites on a fresh lab, passed / failed / skipped.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeClients } from '../src/kube/clients.js';
import { histogram, parseMetrics } from '../src/kube/prom-text.js';
import { findBinaries } from '../src/lab/binaries.js';
import { runConformance } from '../src/lab/conformance.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { ensureLabImages } from '../src/lab/images/build.js';
import { AGNHOST_IMAGE } from '../src/lab/images/refs.js';
import { labDown, labUp } from '../src/lab/lab.js';
import { waitFor } from '../src/wait-for.js';
import { histogramQuantile } from '../src/sli/prometheus.js';

export interface NodeFigures {
  imagesCachedSeconds: number;
  upSeconds: number;
  phases: Record<string, number>;
  pods: number;
  allReadySeconds: number;
  podStartP50: number;
  podStartP99: number;
  podStartCount: number;
}

async function withLab<T>(fn: (kubeconfig: string, phases: Record<string, number>, upSeconds: number) => Promise<T>): Promise<T> {
  const stateDir = await mkdtemp(join(tmpdir(), 'ksli-bench-'));
  await rm(stateDir, { recursive: true });
  try {
    const t0 = Date.now();
    const lab = await labUp({ stateDir, nodes: 2, proxyMode: 'nftables', ports: await freeControlPlanePorts(), onProgress: (l) => process.stderr.write(`  ${l}\n`) });
    return await fn(lab.kubeconfigPath, lab.timings, (Date.now() - t0) / 1000);
  } finally {
    await labDown(stateDir).catch((e: unknown) => process.stderr.write(`lab down: ${(e as Error).message}\n`));
  }
}

export async function benchNodes(o: { pods?: number } = {}): Promise<NodeFigures> {
  const pods = o.pods ?? 100;
  const bins = await findBinaries();
  const i0 = Date.now();
  await ensureLabImages({ agnhostPath: bins.agnhost! });
  const imagesCachedSeconds = (Date.now() - i0) / 1000;
  return withLab(async (kubeconfig, phases, upSeconds) => {
    const c = kubeClients(kubeconfig);
    const ns = 'bench-pods';
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: pods }, (_, i) =>
        c.core.createNamespacedPod({
          namespace: ns,
          body: { metadata: { name: `p${i}` }, spec: { nodeName: `node${i % 2}`, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: AGNHOST_IMAGE, args: ['pause'] }] } },
        }),
      ),
    );
    await waitFor(
      async () => {
        const list = await c.core.listNamespacedPod({ namespace: ns });
        const ready = list.items.filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length;
        return ready === pods ? true : undefined;
      },
      { timeout: 15 * 60_000, interval: 500, what: `${pods} pods Ready` },
    );
    const allReadySeconds = (Date.now() - t0) / 1000;
    // the kubelets' own SLI histogram, both nodes merged bucket by bucket
    let merged: ReturnType<typeof histogram>;
    for (const node of ['node0', 'node1']) {
      const text = await c.core.connectGetNodeProxyWithPath({ name: `${node}:10250`, path: 'metrics' });
      const h = histogram(await parseMetrics(String(text)), 'kubelet_pod_start_sli_duration_seconds');
      if (!h) throw new Error(`${node}: no kubelet_pod_start_sli_duration_seconds in the kubelet's metrics`);
      merged = merged ? { ...merged, count: merged.count + h.count, sum: merged.sum + h.sum, buckets: merged.buckets.map((b, k) => ({ ...b, count: b.count + (h.buckets[k]?.count ?? 0) })) } : h;
    }
    await c.core.deleteNamespace({ name: ns });
    return {
      imagesCachedSeconds,
      upSeconds,
      phases,
      pods,
      allReadySeconds,
      podStartP50: histogramQuantile(0.5, merged!),
      podStartP99: histogramQuantile(0.99, merged!),
      podStartCount: merged!.count,
    };
  });
}

export async function benchConformance(): Promise<{ passed: number; failed: string[]; skipped: number; seconds: number }> {
  const bins = await findBinaries();
  if (!bins.e2eTest) throw new Error('no e2e.test next to the lab binaries: scripts/build-lab-binaries.sh builds it');
  return withLab(async (kubeconfig) => {
    const r = await runConformance({ e2eTest: bins.e2eTest!, kubeconfig, focus: '\\[sig-network\\].*\\[Conformance\\]', timeoutMinutes: 120, onLine: (l) => process.stderr.write(`  [e2e] ${l}\n`) });
    return { passed: r.passed.length, failed: r.failed.map((f) => `${f.name}: ${f.message.split('\n')[0]}`), skipped: r.skipped.length, seconds: r.seconds };
  });
}
