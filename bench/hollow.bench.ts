// Hollow nodes (`npm run bench -- hollow [N ...]`, root): what kubemark's hollow kubelets
// cost here and what their load does to network programming latency on the real nodes.
//
// One lab (2 real nodes, nftables). Per point, in ascending order, hollow nodes are added
// up to the point's count (addHollowNodes; never more than the memory estimate allows),
// each point's load is created — per 10 hollow nodes one Deployment of 20 pods that select
// and tolerate hollow nodes, behind its own ClusterIP Service — and the programming-latency
// suite (suites/programming-latency.slo.test.ts, the kit's own measurement: a prober on a
// real node connects to each new Service's ClusterIP every 10 ms) and the network-ready
// suite (suites/network-ready.slo.test.ts: the real nodes' pods, steady and under flux)
// run against the lab as a user runs them, with a reduced workload (points not in
// suitesAt measure memory only). Memory per hollow kubelet is read from
// /proc/<pid>/smaps_rollup of every recorded hollow process: USS (pages only it maps,
// what its exit frees), PSS (shared pages divided among their users) and RSS (which
// counts kube-lab's code, shared page cache, whole in each); MemAvailable and the control
// plane's RSS beside them show what the API server and etcd pay for the nodes. The count
// that fits is the estimate lab up enforces, from MemAvailable. A point whose hollow
// nodes do not all become Ready is recorded with how many did and the error, and ends
// the run.
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
import { HOLLOW_LABEL, HOLLOW_NODE_SELECTOR, HOLLOW_TOLERATION, hollowFit, memAvailableBytes, processMemory, processRssBytes, HOLLOW_NODE_RSS_BYTES } from '../src/lab/hollow.js';
import { isRecordedProcessAlive } from '../src/lab/control-plane/process.js';
import { READY_SOURCES } from '../src/sli/network-ready.js';
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
  /** hollow kubelet processes read, and per process: USS, PSS, RSS, anonymous (MiB) */
  memory: { processes: number; ussMiBMean: number; ussMiBMax: number; pssMiBMean: number; rssMiBMean: number; anonMiBMean: number };
  /** VmRSS of the control plane's processes (MiB) after the load */
  controlPlaneRssMiB: Record<string, number>;
  /** hollow Nodes Ready at the end of the point (when adding failed: how many made it) */
  readyHollowNodes: number;
  /** MemAvailable after the point's nodes and load (GiB) */
  memAvailableAfterGiB: number;
  /** network-ready suite on the real nodes: per phase, per source p50/p99 (seconds), pods, failed ratio, flux throughput */
  netready: { phase: string; source: string; count: number; p50: number | null; p99: number | null; verdict: string }[];
  netreadyOther: { what: string; value: number | null; verdict: string }[];
  netreadyExit: number;
  netreadySeconds: number;
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

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** USS, PSS, RSS of every live recorded hollow kubelet (only PIDs whose /proc still matches their record). */
async function hollowMemory(stateDir: string): Promise<HollowPoint['memory']> {
  const s = await readLabState(stateDir);
  const m: { uss: number; pss: number; rss: number; anon: number }[] = [];
  for (const p of s?.processes.filter((x) => x.name.startsWith('hollow/')) ?? []) {
    if (!(await isRecordedProcessAlive(p))) continue;
    const x = await processMemory(p.pid);
    if (x) m.push({ uss: x.ussBytes, pss: x.pssBytes, rss: x.rssBytes, anon: x.anonBytes });
  }
  return {
    processes: m.length,
    ussMiBMean: mean(m.map((x) => x.uss)) / MiB,
    ussMiBMax: m.length ? Math.max(...m.map((x) => x.uss)) / MiB : NaN,
    pssMiBMean: mean(m.map((x) => x.pss)) / MiB,
    rssMiBMean: mean(m.map((x) => x.rss)) / MiB,
    anonMiBMean: mean(m.map((x) => x.anon)) / MiB,
  };
}

async function controlPlaneRss(stateDir: string): Promise<Record<string, number>> {
  const s = await readLabState(stateDir);
  const out: Record<string, number> = {};
  for (const p of s?.processes.filter((x) => /^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$/.test(x.name)) ?? []) {
    const v = await processRssBytes(p.pid);
    if (v !== undefined) out[p.name] = v / MiB;
  }
  return out;
}

async function readyHollow(c: KubeClients): Promise<number> {
  const list = await c.core.listNode({ labelSelector: `${HOLLOW_LABEL}=true` }).catch(() => undefined);
  return list?.items.filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length ?? -1;
}

/** The network-ready suite on the real nodes; its per-source figures from the report. */
async function runNetready(kubeconfig: string, point: HollowPoint, log: (l: string) => void): Promise<void> {
  const reportDir = await mkdtemp(join(tmpdir(), 'ksli-bhn-'));
  const s0 = Date.now();
  const r = await runSloSuites(['suites/network-ready.slo.test.ts'], { KUBECONFIG: kubeconfig, NETREADY_PODS: '10', NETREADY_RATE: '1', NETREADY_FLUX_RATE: '2', NETREADY_FLUX_SECONDS: '10', SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR ?? '1' }, reportDir, 30 * 60_000);
  point.netreadySeconds = (Date.now() - s0) / 1000;
  point.netreadyExit = r.exitCode;
  const report = await readFile(join(reportDir, 'report.json'), 'utf8').then((t) => JSON.parse(t) as ReportDocument, () => undefined);
  if (!report) log(`hollow ${point.hollowNodes}: the network-ready suite wrote no report (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
  for (const sr of report?.series ?? []) {
    if (sr.sli === 'pod_network_ready_latency_seconds' && (READY_SOURCES as readonly string[]).includes(sr.source)) {
      point.netready.push({ phase: String(sr.labels.phase), source: sr.source, count: sr.summary.count, p50: sr.summary.p50, p99: sr.summary.p99, verdict: sr.verdict?.status ?? '-' });
    } else if (sr.sli === 'pod_network_ready_failures_ratio' || sr.sli === 'pod_network_ready_throughput_pods_per_second' || sr.sli === 'pod_network_ready_flux_ratio') {
      point.netreadyOther.push({ what: `${sr.sli} ${Object.entries(sr.labels).map(([k, v]) => `${k}=${v}`).join(',')}${sr.sli === 'pod_network_ready_flux_ratio' ? ` source=${sr.source}` : ''}`, value: sr.summary.max, verdict: sr.verdict?.status ?? '-' });
    }
  }
  await rm(reportDir, { recursive: true, force: true });
}

export async function benchHollow(o: { counts?: number[]; /** points where the suites run (default every point); the others measure memory only */ suitesAt?: number[]; log?: (line: string) => void } = {}): Promise<HollowFigures> {
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
      const point: HollowPoint = {
        requested,
        hollowNodes: n,
        loadServices: 0,
        loadPods: 0,
        addSeconds: 0,
        loadRunningSeconds: 0,
        memory: { processes: 0, ussMiBMean: NaN, ussMiBMax: NaN, pssMiBMean: NaN, rssMiBMean: NaN, anonMiBMean: NaN },
        controlPlaneRssMiB: {},
        readyHollowNodes: 0,
        memAvailableAfterGiB: NaN,
        programming: [],
        suiteExit: -1,
        suiteSeconds: 0,
        netready: [],
        netreadyOther: [],
        netreadyExit: -1,
        netreadySeconds: 0,
        memAvailableGiB,
      };
      if (n > have) {
        const a0 = Date.now();
        try {
          await addHollowNodes(stateDir, n - have, { onProgress: log });
        } catch (e) {
          // how far it got, with the evidence: the error (a hollow kubelet's exit carries its log tail)
          point.addSeconds = (Date.now() - a0) / 1000;
          point.skipped = (e as Error).message.slice(0, 2000);
          point.readyHollowNodes = await readyHollow(c);
          point.memory = await hollowMemory(stateDir);
          point.controlPlaneRssMiB = await controlPlaneRss(stateDir);
          point.memAvailableAfterGiB = (await memAvailableBytes()) / GiB;
          points.push(point);
          log(`hollow ${n}: not all Ready after ${point.addSeconds.toFixed(0)} s (${point.readyHollowNodes} Ready): ${point.skipped}`);
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
      point.memory = await hollowMemory(stateDir);
      point.controlPlaneRssMiB = await controlPlaneRss(stateDir);
      point.readyHollowNodes = await readyHollow(c);
      point.memAvailableAfterGiB = (await memAvailableBytes()) / GiB;
      log(`hollow ${n}: memory ${JSON.stringify(point.memory)}, control plane ${JSON.stringify(point.controlPlaneRssMiB)}, MemAvailable ${point.memAvailableAfterGiB.toFixed(2)} GiB`);
      if (o.suitesAt && !o.suitesAt.includes(requested)) {
        points.push(point);
        continue;
      }

      const reportDir = await mkdtemp(join(tmpdir(), 'ksli-bhr-'));
      const s0 = Date.now();
      const r = await runSloSuites(['suites/programming-latency.slo.test.ts', 'suites/programming-at-scale.slo.test.ts'], { KUBECONFIG: lab.kubeconfigPath, SERVICES: '100', BIG_SERVICE_ENDPOINTS: '100', SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR ?? '1' }, reportDir, 40 * 60_000);
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
      await runNetready(lab.kubeconfigPath, point, log);
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
    const m = p.memory;
    const mem =
      `per hollow kubelet (${m.processes} processes) USS mean ${m.ussMiBMean.toFixed(1)} MiB (max ${m.ussMiBMax.toFixed(1)}), PSS mean ${m.pssMiBMean.toFixed(1)} MiB, RSS mean ${m.rssMiBMean.toFixed(0)} MiB (shared code included); ` +
      `control plane RSS ${Object.entries(p.controlPlaneRssMiB).map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(', ')}; MemAvailable ${p.memAvailableGiB.toFixed(2)} GiB before, ${p.memAvailableAfterGiB.toFixed(2)} GiB after`;
    if (p.skipped) {
      lines.push(`hollow ${p.hollowNodes}: ${p.readyHollowNodes} hollow nodes Ready after ${p.addSeconds.toFixed(0)} s, not all: ${p.skipped.split('\n')[0]}`);
      lines.push(`  ${mem}`);
      continue;
    }
    lines.push(`hollow ${p.hollowNodes} (${p.readyHollowNodes} Ready): added in ${p.addSeconds.toFixed(0)} s; load ${p.loadServices} Services, ${p.loadPods} pods Running in ${p.loadRunningSeconds.toFixed(0)} s; ${mem}`);
    if (p.suiteExit === -1 && p.netreadyExit === -1) {
      lines.push('  suites not run at this point (memory only)');
      continue;
    }
    for (const c of p.programming) lines.push(`  programming latency ${c.case}: ${c.count} samples, p50 ${s(c.p50)}, p99 ${s(c.p99)}, verdict ${c.verdict}`);
    lines.push(`  programming suite exit ${p.suiteExit} in ${p.suiteSeconds.toFixed(0)} s`);
    for (const c of p.netready) lines.push(`  real nodes' network-ready latency ${c.phase} ${c.source}: ${c.count} pods, p50 ${s(c.p50)}, p99 ${s(c.p99)}, verdict ${c.verdict}`);
    for (const c of p.netreadyOther) lines.push(`  ${c.what}: ${c.value === null ? '-' : c.value.toFixed(3)}, verdict ${c.verdict}`);
    lines.push(`  network-ready suite exit ${p.netreadyExit} in ${p.netreadySeconds.toFixed(0)} s`);
  }
  lines.push(`hollow: lab up ${f.upSeconds.toFixed(0)} s, wall ${(f.wallSeconds / 60).toFixed(1)} min`);
  return lines;
}
