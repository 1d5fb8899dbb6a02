// `npm run bench -- services [N] [order] [keep]`: the kit and a minimal client-go program
// (bench/bulk-create-go, client-go of the lab's release) create the same N Services with
// their EndpointSlices on one lab, in the same run, in the order given (default kit,
// client-go, client-go, kit: a linear drift of the shared machine cancels in the means).
// Around every run: two scrapes of the API server's /metrics (its own request and etcd
// latencies) and the CPU seconds of each lab process from /proc/<pid>/stat, so the table
// says where the time went. Between runs the run's objects are deleted (unless `keep`) and
// the lab is left to go quiet, so every run starts from the same store; the last run's
// objects are left to `lab down`.
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeClients, type KubeClients } from '../src/kube/clients.js';
import { parseMetrics, type Families } from '../src/kube/prom-text.js';
import { createServiceSet, deleteSessionServices, syntheticEndpointSlices, syntheticService, type ServiceSetSpec } from '../src/kube/services.js';
import { newSessionId, sessionLabels } from '../src/kube/session.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { labDown, labKubectl, labUp } from '../src/lab/lab.js';
import { readLabState } from '../src/lab/state.js';
import { TIMEOUTS } from '../src/timeouts.js';
import { waitFor, WaitTimeoutError } from '../src/wait-for.js';
import { ensureBulkCreateGo } from './bulk-create-go.js';
import { apiserverWindow, cpuGroup, cpuSeconds, filterFamilies, machineBusyTicks, procStatTicks, type CpuSnapshot, type RunFigures, type ServicesBenchArgs } from './services-figures.js';
import { clockTicksPerSecond } from '../src/lab/kube-proxy-cpu.js';

/** the API server's families the table reads (the full /metrics is megabytes) */
export const METRIC_FAMILIES = [
  'apiserver_request_duration_seconds',
  'apiserver_request_total',
  'etcd_request_duration_seconds',
  'apiserver_flowcontrol_request_wait_duration_seconds',
  'apiserver_watch_events_total',
  'apiserver_resource_objects',
  'apiserver_storage_objects',
];

/** lab processes together below this share of one core over TIMEOUTS.labQuietWindowMs: quiet */
const QUIET_CORES = 0.25;

export interface ServicesBenchResult {
  args: ServicesBenchArgs;
  runs: RunFigures[];
  clientGo: { binary: string; k8sVersion: string; built: boolean; buildSeconds?: number };
  /** lines worth printing that are not in the table (quiet waits that timed out, …) */
  notes: string[];
}

async function labSnapshot(stateDir: string, clientSeconds: number): Promise<CpuSnapshot> {
  const state = await readLabState(stateDir);
  const processes: CpuSnapshot['processes'] = {};
  await Promise.all(
    (state?.processes ?? [])
      .filter((p) => cpuGroup(p.name) !== undefined)
      .map(async (p) => {
        const text = await readFile(`/proc/${p.pid}/stat`, 'utf8').catch(() => undefined);
        if (text === undefined) return;
        const t = procStatTicks(text);
        // a recycled PID is someone else's process
        if (t.startTicks === p.startTicks) processes[p.name] = t;
      }),
  );
  return { processes, clientSeconds, machineBusyTicks: machineBusyTicks(await readFile('/proc/stat', 'utf8')) };
}

const kitCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function scrape(kubeconfig: string): Promise<{ text: string; families: Families }> {
  const text = filterFamilies(await labKubectl(kubeconfig, ['get', '--raw', '/metrics']), METRIC_FAMILIES);
  return { text, families: await parseMetrics(text) };
}

/** Waits until the lab's own processes are nearly idle (kube-proxies done resyncing);
 * returns each group's use over the last window, in cores, and a note when it timed out. */
async function waitQuiet(stateDir: string, ticksPerSecond: number): Promise<{ idleCores: RunFigures['idleCores']; note?: string }> {
  let last = await labSnapshot(stateDir, 0);
  let lastAt = performance.now();
  let idleCores: RunFigures['idleCores'] = {};
  try {
    await waitFor(
      async () => {
        const now = await labSnapshot(stateDir, 0);
        const at = performance.now();
        const c = cpuSeconds(last, now, ticksPerSecond);
        const wall = (at - lastAt) / 1000;
        idleCores = Object.fromEntries(Object.entries(c).map(([g, v]) => [g, v / wall]));
        const cores = (c['kube-apiserver'] + c.etcd + c['kube-proxy'] + c['kube-controller-manager'] + c['kube-scheduler'] + c['kubelet+containerd']) / wall;
        last = now;
        lastAt = at;
        return cores < QUIET_CORES ? true : { pending: `lab processes at ${cores.toFixed(2)} cores` };
      },
      { timeout: TIMEOUTS.labQuietMs, interval: TIMEOUTS.labQuietWindowMs, what: `the lab's processes below ${QUIET_CORES} cores` },
    );
    return { idleCores: { ...idleCores, client: 0, 'rest of the machine': 0 } };
  } catch (e) {
    if (e instanceof WaitTimeoutError) return { idleCores: { ...idleCores, client: 0, 'rest of the machine': 0 }, note: `${e.message} (the run started anyway)` };
    throw e;
  }
}

interface GoFigures {
  services: { objects: number; seconds: number };
  slices: { objects: number; seconds: number };
  objects: number;
  seconds: number;
  objectsPerSecond: number;
  cpuSeconds: number;
  clientGo: string;
}

async function runClientGo(binary: string, kubeconfig: string, objectsFile: string, concurrency: number): Promise<GoFigures> {
  const r = await execa(binary, ['-kubeconfig', kubeconfig, '-objects', objectsFile, '-concurrency', String(concurrency)], { reject: false, timeout: TIMEOUTS.bulkItemMs * 10 });
  if (r.exitCode !== 0) throw new Error(`bulk-create exited ${r.exitCode ?? r.signal}: ${String(r.stderr).trim().slice(-1000)}`);
  return JSON.parse(String(r.stdout).trim().split('\n').at(-1)!) as GoFigures;
}

export async function benchServices(a: ServicesBenchArgs, log: (line: string) => void = (l) => process.stderr.write(`  ${l}\n`)): Promise<ServicesBenchResult> {
  const notes: string[] = [];
  // built before the lab is up: a cold build must not share the CPUs with a measured run
  const clientGo = await ensureBulkCreateGo({ onProgress: log });
  const ticksPerSecond = await clockTicksPerSecond();
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bsvc-'));
  const stateDir = join(dir, 'lab');
  const out = process.env.BENCH_SERVICES_OUT;
  if (out) await mkdir(out, { recursive: true });
  const runs: RunFigures[] = [];
  try {
    const ports = { ...(await freeControlPlanePorts()), ...a.ports };
    const lab = await labUp({ stateDir, ports, proxyMode: 'nftables', onProgress: log });
    const clients: KubeClients = kubeClients(lab.kubeconfigPath);
    const session = newSessionId();
    let servicesBefore = 0;
    for (const [i, { client, chosenIps }] of a.order.entries()) {
      const namespace = `sli-bench-${i + 1}-${session}`;
      await clients.core.createNamespace({ body: { metadata: { name: namespace, labels: sessionLabels(session) } } });
      const spec: ServiceSetSpec = {
        namespace,
        session,
        count: a.services,
        endpointsPerService: 2,
        endpointIps: () => ['10.244.0.10', '10.244.1.10'],
        // from 10.96.16.0 on in the lab's 10.96.0.0/16: the run's objects are deleted between
        // runs, and the API server allocated only 10.96.0.1 (the kubernetes Service) itself
        ...(chosenIps ? { clusterIp: (s: number) => `10.96.${16 + Math.floor(s / 256)}.${s % 256}` } : {}),
      };
      const objectsFile = join(dir, `objects-${i + 1}.jsonl`);
      if (client === 'client-go') {
        // the kit's own objects, one Service and its slices a line
        const lines: string[] = [];
        for (let s = 0; s < a.services; s++) lines.push(JSON.stringify({ service: syntheticService(spec, s), slices: syntheticEndpointSlices(spec, s) }));
        await writeFile(objectsFile, lines.join('\n') + '\n');
      }
      const quiet = await waitQuiet(stateDir, ticksPerSecond);
      if (quiet.note) notes.push(`run ${i + 1}: ${quiet.note}`);
      log(`run ${i + 1}/${a.order.length}: ${client}${chosenIps ? ' (chosen ClusterIPs)' : ''} creates ${a.services} Services + ${a.services} EndpointSlices in ${namespace} (${a.concurrency} in flight)`);
      const before = await scrape(lab.kubeconfigPath);
      const cpu0 = await labSnapshot(stateDir, client === 'kit' ? kitCpuSeconds() : 0);
      let objects: number;
      let seconds: number;
      let clientSeconds: number;
      let phases: RunFigures['phases'];
      if (client === 'kit') {
        const r = await createServiceSet(clients, spec, { concurrency: a.concurrency });
        objects = r.services.done + r.slices.done;
        seconds = r.services.seconds + r.slices.seconds;
        clientSeconds = kitCpuSeconds();
        phases = { servicesPerSecond: r.services.perSecond, slicesPerSecond: r.slices.perSecond };
      } else {
        const r = await runClientGo(clientGo.binary, lab.kubeconfigPath, objectsFile, a.concurrency);
        objects = r.objects;
        seconds = r.seconds;
        clientSeconds = r.cpuSeconds;
        phases = { servicesPerSecond: r.services.objects / r.services.seconds, slicesPerSecond: r.slices.objects / r.slices.seconds };
      }
      const cpu1 = await labSnapshot(stateDir, clientSeconds);
      const after = await scrape(lab.kubeconfigPath);
      const run: RunFigures = {
        client,
        chosenIps,
        objects,
        seconds,
        objectsPerSecond: objects / seconds,
        phases,
        servicesBefore,
        cpu: cpuSeconds(cpu0, cpu1, ticksPerSecond),
        idleCores: quiet.idleCores,
        apiserver: apiserverWindow(before.families, after.families),
      };
      log(`run ${i + 1}: ${client} ${objects} objects in ${seconds.toFixed(1)} s = ${run.objectsPerSecond.toFixed(0)} objects/s`);
      if (out) {
        await writeFile(join(out, `run-${i + 1}-${client}-metrics-before.txt`), before.text);
        await writeFile(join(out, `run-${i + 1}-${client}-metrics-after.txt`), after.text);
      }
      // the last run's objects go with the lab
      if (a.keep) servicesBefore += a.services;
      else if (i < a.order.length - 1) {
        const t0 = performance.now();
        await deleteSessionServices(clients, namespace, session);
        await clients.core.deleteNamespace({ name: namespace });
        run.deleteSeconds = (performance.now() - t0) / 1000;
      }
      runs.push(run);
      await rm(objectsFile, { force: true });
    }
    if (out) await writeFile(join(out, 'runs.json'), JSON.stringify({ args: a, clientGo, runs }, null, 2));
  } finally {
    await labDown(stateDir).catch((e: unknown) => console.error(`lab down ${stateDir} failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
  return { args: a, runs, clientGo, notes };
}
