// Hollow nodes (`npm run bench -- hollow [N ...]`, root): what kubemark's hollow kubelets
// cost here and what their load does to network programming latency on the real nodes.
//
// One lab (2 real nodes, nftables). Per point, in ascending order, hollow nodes are added
// up to the point's count (addHollowNodes; never more than the memory estimate allows),
// each point's load is created — per 10 hollow nodes one Deployment of 20 pods that select
// and tolerate hollow nodes, behind its own ClusterIP Service — and the programming-latency
// suite (suites/programming-latency.slo.test.ts, the kit's own measurement: a prober on a
// real node connects to each new Service's ClusterIP every 10 ms) runs against the lab as
// a user runs it, with a reduced workload. Memory per hollow kubelet is read from
// /proc/<pid>/status of every recorded hollow process (private RssAnon, and VmRSS, which
// also counts kube-lab's code shared by all of them). The count that fits is the estimate
// lab up enforces, from MemAvailable.
//
// What hollow pods are not: every hollow pod reports the fake runtime's one sandbox IP
// (192.168.192.168), so their EndpointSlices carry many endpoints for the API server and
// the kube-proxies' watches, but kube-proxy programs one distinct address per Service.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { kubeClients, type KubeClients } from '../src/kube/clients.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { HOLLOW_NODE_SELECTOR, HOLLOW_TOLERATION, hollowFit, memAvailableBytes, processRssBytes, HOLLOW_NODE_RSS_BYTES } from '../src/lab/hollow.js';
import { PAUSE_IMAGE } from '../src/lab/images/refs.js';
import { addHollowNodes, labDown, labUp } from '../src/lab/lab.js';
import { readLabState } from '../src/lab/state.js';
import type { ReportDocument } from '../src/report/types.js';
import { StopWaiting, waitFor } from '../src/wait-for.js';
import { runSloSuites } from '../test/lab/support/slo-run.js';

export interface HollowPoint {
  /** the count asked for; hollowNodes is less when memory holds fewer (say so) */
  requested: number;
  hollowNodes: number;
  /** skipped: why (e.g. beyond the memory estimate) */
  skipped?: string;
  loadServices: number;
  loadPods: number;
  /** seconds to add this point's hollow nodes until Ready */
  addSeconds: number;
  /** seconds until every load pod was Running */
  loadRunningSeconds: number;
  rssAnonMiBMean: number;
  rssAnonMiBMax: number;
  vmRssMiBMean: number;
  /** per programming-latency case: samples, p50, p99 (seconds), verdict */
  programming: { case: string; count: number; p50: number | null; p99: number | null; verdict: string }[];
  suiteExit: number;
  suiteSeconds: number;
  memAvailableGiB: number;
}

export interface HollowFigures {
  points: HollowPoint[];
  /** the estimate lab up enforces, at the start */
  fitsAtStart: number;
  estimatePerNodeMiB: number;
  memAvailableGiBAtStart: number;
  upSeconds: number;
  wallSeconds: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PODS_PER_DEPLOYMENT = 20;
const NODES_PER_DEPLOYMENT = 10;
const LOAD_NS = 'hollow-load';

/** A create that an overloaded API server may time out (504) or throttle (429): tried
 * again; 409 means an earlier, timed-out try was applied. */
async function createRetrying(what: string, create: () => Promise<unknown>): Promise<void> {
  await waitFor(
    async () => {
      try {
        await create();
        return true;
      } catch (e) {
        const code = (e as { code?: number }).code;
        if (code === 409) return true;
        if (code === 429 || code === 500 || code === 503 || code === 504) return { pending: `HTTP ${code}` };
        throw new StopWaiting(e as Error);
      }
    },
    { timeout: 5 * 60_000, interval: 1_000, what: `create ${what}` },
  );
}

async function createLoad(c: KubeClients, from: number, to: number): Promise<number> {
  let made = 0;
  for (let k = from; k < to; k++) {
    const name = `load-${k}`;
    const labels = { app: name };
    const dep: k8s.V1Deployment = {
      metadata: { name, namespace: LOAD_NS },
      spec: {
        replicas: PODS_PER_DEPLOYMENT,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { nodeSelector: { ...HOLLOW_NODE_SELECTOR }, tolerations: [HOLLOW_TOLERATION], containers: [{ name: 'pause', image: PAUSE_IMAGE }] } },
      },
    };
    await createRetrying(`deployment ${name}`, () => c.apps.createNamespacedDeployment({ namespace: LOAD_NS, body: dep }));
    await createRetrying(`service ${name}`, () => c.core.createNamespacedService({ namespace: LOAD_NS, body: { metadata: { name, namespace: LOAD_NS }, spec: { selector: labels, ports: [{ port: 80 }] } } }));
    made++;
  }
  return made;
}

async function hollowRss(stateDir: string): Promise<{ anon: number[]; vm: number[] }> {
  const s = await readLabState(stateDir);
  const anon: number[] = [];
  const vm: number[] = [];
  for (const p of s?.processes.filter((x) => x.name.startsWith('hollow/')) ?? []) {
    const t = await readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '');
    const a = /^RssAnon:\s+(\d+)\s+kB$/m.exec(t);
    if (a) anon.push(Number(a[1]) * 1024);
    const v = await processRssBytes(p.pid);
    if (v !== undefined) vm.push(v);
  }
  return { anon, vm };
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

export async function benchHollow(o: { counts?: number[]; log?: (line: string) => void } = {}): Promise<HollowFigures> {
  const log = o.log ?? ((l: string) => process.stderr.write(`  ${l}\n`));
  const counts = [...(o.counts ?? [0, 100, 500])].sort((a, b) => a - b);
  const w0 = Date.now();
  const avail0 = await memAvailableBytes();
  const fitsAtStart = hollowFit(0, avail0).fits;
  const stateDir = await mkdtemp(join(tmpdir(), 'ksli-bh-'));
  await rm(stateDir, { recursive: true });
  const points: HollowPoint[] = [];
  try {
    const u0 = Date.now();
    const lab = await labUp({ stateDir, nodes: 2, proxyMode: 'nftables', ports: await freeControlPlanePorts(), onProgress: log });
    const upSeconds = (Date.now() - u0) / 1000;
    const c = kubeClients(lab.kubeconfigPath);
    await c.core.createNamespace({ body: { metadata: { name: LOAD_NS } } });
    let have = 0;
    let deployments = 0;
    for (const requested of counts) {
      const avail = await memAvailableBytes();
      const memAvailableGiB = avail / GiB;
      // beyond the estimate lab up enforces: measure the most that fits, and say so
      const n = Math.min(requested, have + hollowFit(0, avail).fits);
      if (n < requested) log(`hollow ${requested}: memory holds ${n} (estimate), measuring ${n}`);
      const point: HollowPoint = { requested, hollowNodes: n, loadServices: 0, loadPods: 0, addSeconds: 0, loadRunningSeconds: 0, rssAnonMiBMean: NaN, rssAnonMiBMax: NaN, vmRssMiBMean: NaN, programming: [], suiteExit: -1, suiteSeconds: 0, memAvailableGiB };
      if (n > have) {
        const a0 = Date.now();
        try {
          await addHollowNodes(stateDir, n - have, { onProgress: log });
        } catch (e) {
          point.skipped = (e as Error).message.split('\n')[0];
          points.push(point);
          log(`hollow ${n}: skipped: ${point.skipped}`);
          break;
        }
        point.addSeconds = (Date.now() - a0) / 1000;
        have = n;
      }
      const want = Math.floor(n / NODES_PER_DEPLOYMENT);
      const l0 = Date.now();
      deployments += await createLoad(c, deployments, want);
      point.loadServices = deployments;
      point.loadPods = deployments * PODS_PER_DEPLOYMENT;
      if (point.loadPods > 0) {
        await waitFor(
          async () => {
            const pods = (await c.core.listNamespacedPod({ namespace: LOAD_NS })).items;
            const running = pods.filter((p) => p.status?.phase === 'Running').length;
            return running >= point.loadPods ? true : { pending: `${running} of ${point.loadPods} load pods Running` };
          },
          { timeout: 15 * 60_000, interval: 2_000, what: `${point.loadPods} load pods Running on hollow nodes` },
        );
      }
      point.loadRunningSeconds = (Date.now() - l0) / 1000;
      const rss = await hollowRss(stateDir);
      point.rssAnonMiBMean = mean(rss.anon) / MiB;
      point.rssAnonMiBMax = rss.anon.length ? Math.max(...rss.anon) / MiB : NaN;
      point.vmRssMiBMean = mean(rss.vm) / MiB;

      const reportDir = await mkdtemp(join(tmpdir(), 'ksli-bhr-'));
      const s0 = Date.now();
      const r = await runSloSuites(['suites/programming-latency.slo.test.ts'], { KUBECONFIG: lab.kubeconfigPath, SERVICES: '100', BIG_SERVICE_ENDPOINTS: '100', SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR ?? '1' }, reportDir, 40 * 60_000);
      point.suiteSeconds = (Date.now() - s0) / 1000;
      point.suiteExit = r.exitCode;
      const report = await readFile(join(reportDir, 'report.json'), 'utf8').then((t) => JSON.parse(t) as ReportDocument, () => undefined);
      if (!report) log(`hollow ${n}: the suite wrote no report (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
      for (const sr of report?.series.filter((x) => x.sli === 'network_programming_latency_seconds') ?? []) {
        point.programming.push({
          case: `${sr.source} ${Object.entries(sr.labels).map(([k, v]) => `${k}=${v}`).join(',')}`,
          count: sr.summary.count,
          p50: sr.summary.p50,
          p99: sr.summary.p99,
          verdict: sr.verdict?.status ?? '-',
        });
      }
      await rm(reportDir, { recursive: true, force: true });
      points.push(point);
      log(`hollow ${n}: ${JSON.stringify(point)}`);
    }
    return { points, fitsAtStart, estimatePerNodeMiB: HOLLOW_NODE_RSS_BYTES / MiB, memAvailableGiBAtStart: avail0 / GiB, upSeconds, wallSeconds: (Date.now() - w0) / 1000 };
  } finally {
    await labDown(stateDir).catch((e: unknown) => process.stderr.write(`lab down: ${(e as Error).message}\n`));
  }
}

/** The figures as lines, for `npm run bench -- hollow` and the network-ready bench. */
export function hollowLines(f: HollowFigures): string[] {
  const s = (x: number | null): string => (x === null || Number.isNaN(x) ? '-' : `${x.toFixed(3)} s`);
  const lines = [
    `hollow: memory estimate ${f.estimatePerNodeMiB} MiB per hollow kubelet; MemAvailable ${f.memAvailableGiBAtStart.toFixed(1)} GiB at start → ${f.fitsAtStart} hollow nodes fit (lab up refuses more)`,
  ];
  for (const p of f.points) {
    if (p.hollowNodes < p.requested) lines.push(`hollow ${p.requested}: does not fit in memory here (estimate); measured ${p.hollowNodes} instead`);
    if (p.skipped) {
      lines.push(`hollow ${p.hollowNodes}: not measured: ${p.skipped}`);
      continue;
    }
    lines.push(
      `hollow ${p.hollowNodes}: added in ${p.addSeconds.toFixed(0)} s; load ${p.loadServices} Services, ${p.loadPods} pods Running in ${p.loadRunningSeconds.toFixed(0)} s; ` +
        `per hollow kubelet RssAnon mean ${p.rssAnonMiBMean.toFixed(1)} MiB (max ${p.rssAnonMiBMax.toFixed(1)}), VmRSS mean ${p.vmRssMiBMean.toFixed(0)} MiB (shared code included); MemAvailable ${p.memAvailableGiB.toFixed(1)} GiB before`,
    );
    for (const c of p.programming) lines.push(`  programming latency ${c.case}: ${c.count} samples, p50 ${s(c.p50)}, p99 ${s(c.p99)}, verdict ${c.verdict}`);
    lines.push(`  suite exit ${p.suiteExit} in ${p.suiteSeconds.toFixed(0)} s`);
  }
  lines.push(`hollow: lab up ${f.upSeconds.toFixed(0)} s, wall ${(f.wallSeconds / 60).toFixed(1)} min`);
  return lines;
}
