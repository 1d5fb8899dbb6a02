// The pure half of `npm run bench -- services`: its arguments, the CPU seconds of the lab's
// processes from /proc/<pid>/stat, the API server's own view of a create run from two
// scrapes of its /metrics, and the table. No I/O here (services.bench.ts does it).
import { counterValue, gaugeValue, histogram, type Families } from '../src/kube/prom-text.js';
import { histogramDelta, histogramQuantile, type PromHistogram } from '../src/sli/prometheus.js';
import { parseProcTicks } from '../src/lab/kube-proxy-cpu.js';

export const CLIENTS = ['kit', 'client-go'] as const;
export type BenchClient = (typeof CLIENTS)[number];

export interface ServicesBenchArgs {
  /** Services per run (each with one EndpointSlice): 2 objects a Service */
  services: number;
  /** the runs in order; the default kit, client-go, client-go, kit cancels a linear drift */
  order: RunSpec[];
  /** requests in flight, the same for both clients */
  concurrency: number;
  /** keep every run's objects (the store grows run after run) instead of deleting them between runs */
  keep: boolean;
  /** the lab's control-plane ports (BENCH_LAB_PORTS, `lab up --ports` syntax); none: free ports */
  ports: Partial<Record<PortName, number>>;
}

export const PORT_NAMES = ['apiserver', 'etcdClient', 'etcdPeer', 'controllerManager', 'scheduler'] as const;
export type PortName = (typeof PORT_NAMES)[number];

export const DEFAULT_SERVICES = 2000;
export const DEFAULT_ORDER: RunSpec[] = (['kit', 'client-go', 'client-go', 'kit'] as const).map((client) => ({ client, chosenIps: false }));

const CLIENT_ALIASES: Record<string, BenchClient> = { kit: 'kit', go: 'client-go', 'client-go': 'client-go' };

/** One run: a client, and whether its Services carry chosen ClusterIPs (`kit+ip`, `go+ip`). */
export interface RunSpec {
  client: BenchClient;
  chosenIps: boolean;
}

/**
 * `services [N] [order] [keep]` after `npm run bench --`, e.g. `services 2000 kit,go,go,kit`;
 * BENCH_SERVICES_CONCURRENCY (default: the kit's own, `defaultConcurrency`) and
 * BENCH_LAB_PORTS=apiserver=17443,etcdClient=17379,… Throws on anything else, naming it.
 */
export function parseServicesArgs(args: readonly string[], env: Record<string, string | undefined>, defaultConcurrency: number): ServicesBenchArgs {
  let services = DEFAULT_SERVICES;
  let order = DEFAULT_ORDER;
  let keep = false;
  for (const a of args) {
    if (/^\d+$/.test(a)) {
      services = Number(a);
      if (services < 1 || services > 50_000) throw new Error(`services: ${a} Services per run: give 1 to 50000 (e.g. 2000)`);
    } else if (a === 'keep') keep = true;
    else if (/^[a-z+-]+(,[a-z+-]+)*$/.test(a)) {
      order = a.split(',').map((c) => {
        const chosenIps = c.endsWith('+ip');
        const client = CLIENT_ALIASES[chosenIps ? c.slice(0, -3) : c];
        if (!client) throw new Error(`services: run order "${a}": "${c}" is not a client; use kit and go (or client-go), +ip for chosen ClusterIPs, e.g. kit,go,go,kit or kit+ip,go+ip`);
        return { client, chosenIps };
      });
    } else throw new Error(`services: argument "${a}" is neither a Service count, a run order (kit,go,go,kit) nor "keep"`);
  }
  const c = env.BENCH_SERVICES_CONCURRENCY;
  const concurrency = c === undefined || c === '' ? defaultConcurrency : Number(c);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new Error(`BENCH_SERVICES_CONCURRENCY="${c}": requests in flight must be a whole number from 1 to 1024`);
  }
  const ports: ServicesBenchArgs['ports'] = {};
  for (const item of (env.BENCH_LAB_PORTS ?? '').split(',').filter((s) => s !== '')) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(item);
    const name = m?.[1] as PortName | undefined;
    const port = Number(m?.[2]);
    if (!m || !name || !PORT_NAMES.includes(name) || port < 1 || port > 65535) {
      throw new Error(`BENCH_LAB_PORTS item "${item}" must be <name>=<port 1-65535> with <name> one of ${PORT_NAMES.join(', ')}`);
    }
    ports[name] = port;
  }
  return { services, order, concurrency, keep, ports };
}

// ---------------------------------------------------------------------------------------
// CPU seconds from /proc

/** utime + stime + cutime + cstime of /proc/<pid>/stat, in clock ticks: the process and
 * its waited-for children (kube-proxy's `nft` and `iptables-restore` runs count as its
 * own). */
export function procStatTicks(stat: string): { ticks: number; startTicks: number } {
  const t = parseProcTicks(stat);
  return { ticks: t.selfTicks + t.childTicks, startTicks: t.startTicks };
}

/** The machine's busy ticks (every state but idle and iowait) from /proc/stat's `cpu` line. */
export function machineBusyTicks(procStat: string): number {
  const line = procStat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = v;
  return user + nice + system + irq + softirq + steal;
}

export const CPU_GROUPS = ['kube-apiserver', 'etcd', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler', 'kubelet+containerd', 'client', 'rest of the machine'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];

/** The group of a lab process by its name in lab.json ("kube-proxy/node-1" → kube-proxy). */
export function cpuGroup(processName: string): Exclude<CpuGroup, 'client' | 'rest of the machine'> | undefined {
  const base = processName.split('/')[0]!;
  if (base === 'kube-apiserver' || base === 'etcd' || base === 'kube-proxy' || base === 'kube-controller-manager' || base === 'kube-scheduler') return base;
  if (base === 'kubelet' || base === 'containerd') return 'kubelet+containerd';
  return undefined;
}

export interface CpuSnapshot {
  /** per process (name → { ticks, startTicks }) */
  processes: Record<string, { ticks: number; startTicks: number }>;
  /** the client: the bench process (kit) or the client-go program's own rusage, seconds */
  clientSeconds: number;
  machineBusyTicks: number;
}

/**
 * CPU seconds of each group between two snapshots. A process is counted only when both
 * snapshots saw it with the same start time (a restarted process is left out, not
 * guessed). `rest of the machine` is the machine's busy time less everything named:
 * other labs and jobs sharing the CPUs, the kernel's softirq work for loopback traffic.
 */
export function cpuSeconds(before: CpuSnapshot, after: CpuSnapshot, ticksPerSecond: number): Record<CpuGroup, number> {
  const out = Object.fromEntries(CPU_GROUPS.map((g) => [g, 0])) as Record<CpuGroup, number>;
  let named = 0;
  for (const [name, a] of Object.entries(after.processes)) {
    const b = before.processes[name];
    const g = cpuGroup(name);
    if (!b || !g || b.startTicks !== a.startTicks) continue;
    const s = (a.ticks - b.ticks) / ticksPerSecond;
    out[g] += s;
    named += s;
  }
  out.client = after.clientSeconds - before.clientSeconds;
  out['rest of the machine'] = Math.max(0, (after.machineBusyTicks - before.machineBusyTicks) / ticksPerSecond - named - out.client);
  return out;
}

// ---------------------------------------------------------------------------------------
// the API server's /metrics, two scrapes around a run

export interface LatencyWindow {
  count: number;
  meanSeconds: number;
  p50Seconds: number;
  p99Seconds: number;
}

export interface ApiserverWindow {
  /** POST services / endpointslices as the API server timed them (apiserver_request_duration_seconds) */
  postServices?: LatencyWindow;
  postSlices?: LatencyWindow;
  /** the IPAddress object the API server's ClusterIP allocator creates for each Service,
   * through its own loopback client (MultiCIDRServiceAllocator, on and locked since v1.34) */
  postIpAddresses?: LatencyWindow;
  /** etcd creates as the API server timed them (etcd_request_duration_seconds), per resource */
  etcdCreates: Record<string, LatencyWindow>;
  /** every etcd request of the window (all operations and resources) */
  etcdAll?: LatencyWindow;
  /** POST answers to services, endpointslices and ipaddresses by resource and code (apiserver_request_total), e.g. "services 201" */
  postCodes: Record<string, number>;
  /** time requests spent queued by API Priority and Fairness */
  apfWaitSeconds: number;
  /** watch events sent to watchers for services and endpointslices (apiserver_watch_events_total) */
  watchEvents: { services: number; endpointslices: number };
  /** apiserver_resource_objects (else apiserver_storage_objects) for services at the end */
  servicesStored?: number;
}

function latency(before: PromHistogram | undefined, after: PromHistogram | undefined): LatencyWindow | undefined {
  if (!after) return undefined;
  const d = before ? histogramDelta(before, after).histogram : after;
  if (d.count <= 0) return undefined;
  return { count: d.count, meanSeconds: d.sum / d.count, p50Seconds: histogramQuantile(0.5, d), p99Seconds: histogramQuantile(0.99, d) };
}

const diff = (b: number | undefined, a: number | undefined): number => (a ?? 0) - (b ?? 0);

/** What the API server saw between two scrapes of its /metrics. */
export function apiserverWindow(before: Families, after: Families): ApiserverWindow {
  const req = 'apiserver_request_duration_seconds';
  const post = (resource: string) => latency(histogram(before, req, { verb: 'POST', resource }), histogram(after, req, { verb: 'POST', resource }));
  const etcdCreates: Record<string, LatencyWindow> = {};
  const resources = new Set((after.get('etcd_request_duration_seconds')?.histograms ?? []).filter((h) => h.labels.operation === 'create').map((h) => h.labels.resource ?? ''));
  for (const resource of resources) {
    const w = latency(histogram(before, 'etcd_request_duration_seconds', { operation: 'create', resource }), histogram(after, 'etcd_request_duration_seconds', { operation: 'create', resource }));
    if (w) etcdCreates[resource] = w;
  }
  const postCodes: Record<string, number> = {};
  for (const s of after.get('apiserver_request_total')?.samples ?? []) {
    if (s.labels.verb !== 'POST' || !['services', 'endpointslices', 'ipaddresses'].includes(s.labels.resource ?? '')) continue;
    const code = `${s.labels.resource} ${s.labels.code ?? '?'}`;
    const d = diff(counterValue(before, 'apiserver_request_total', s.labels), s.value);
    if (d > 0) postCodes[code] = (postCodes[code] ?? 0) + d;
  }
  const stored = gaugeValue(after, 'apiserver_resource_objects', { resource: 'services' }) ?? gaugeValue(after, 'apiserver_storage_objects', { resource: 'services' });
  const apf = 'apiserver_flowcontrol_request_wait_duration_seconds';
  return {
    ...(post('services') ? { postServices: post('services')! } : {}),
    ...(post('endpointslices') ? { postSlices: post('endpointslices')! } : {}),
    ...(post('ipaddresses') ? { postIpAddresses: post('ipaddresses')! } : {}),
    etcdCreates,
    ...(latency(histogram(before, 'etcd_request_duration_seconds'), histogram(after, 'etcd_request_duration_seconds')) ? { etcdAll: latency(histogram(before, 'etcd_request_duration_seconds'), histogram(after, 'etcd_request_duration_seconds'))! } : {}),
    postCodes,
    apfWaitSeconds: (histogram(after, apf)?.sum ?? 0) - (histogram(before, apf)?.sum ?? 0),
    watchEvents: {
      services: diff(counterValue(before, 'apiserver_watch_events_total', { resource: 'services' }), counterValue(after, 'apiserver_watch_events_total', { resource: 'services' })),
      endpointslices: diff(counterValue(before, 'apiserver_watch_events_total', { resource: 'endpointslices' }), counterValue(after, 'apiserver_watch_events_total', { resource: 'endpointslices' })),
    },
    ...(stored !== undefined ? { servicesStored: stored } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// one run and the table

export interface RunFigures {
  client: BenchClient;
  /** the Services carried ClusterIPs chosen by the bench (else the API server allocated them) */
  chosenIps: boolean;
  /** Services + EndpointSlices created */
  objects: number;
  seconds: number;
  objectsPerSecond: number;
  /** the Services phase and the EndpointSlices phase (every Service first, as the kit does) */
  phases: { servicesPerSecond: number; slicesPerSecond: number };
  /** Services already in the store when the run started (keep mode) */
  servicesBefore: number;
  cpu: Record<CpuGroup, number>;
  /** each group's CPU use of the quiet lab just before the run, in cores (background work
   * that the run's objects do not cause) */
  idleCores: Partial<Record<CpuGroup, number>>;
  apiserver: ApiserverWindow;
  /** seconds to delete the run's objects afterwards (undefined: kept) */
  deleteSeconds?: number;
}

const ms = (s: number | undefined): string => (s === undefined ? '—' : (s * 1000).toFixed(1));

/** CPU milliseconds per object the run caused in a group: its CPU seconds less the quiet
 * lab's background use over the run's wall time. */
export function cpuMsPerObject(r: RunFigures, g: CpuGroup): number {
  return ((r.cpu[g] - (r.idleCores[g] ?? 0) * r.seconds) / r.objects) * 1000;
}

/** One row per run for console.table: rate (and of each phase), the API server's own
 * latencies, and CPU milliseconds per object by group (background use of the quiet lab
 * taken out; the rest of the machine is everything that is not this lab or its client). */
export function runRows(runs: readonly RunFigures[]): Record<string, string>[] {
  return runs.map((r, i) => {
    const etcdCreate = Object.values(r.apiserver.etcdCreates);
    const etcdCount = etcdCreate.reduce((a, w) => a + w.count, 0);
    const etcdMean = etcdCount > 0 ? etcdCreate.reduce((a, w) => a + w.meanSeconds * w.count, 0) / etcdCount : undefined;
    const c = (g: CpuGroup): string => cpuMsPerObject(r, g).toFixed(2);
    return {
      run: `${i + 1} ${r.client}${r.chosenIps ? '+ip' : ''}`,
      'objects/s': r.objectsPerSecond.toFixed(0),
      'svc/s | slice/s': `${r.phases.servicesPerSecond.toFixed(0)} | ${r.phases.slicesPerSecond.toFixed(0)}`,
      'POST ms mean svc|ipaddr|slice': `${ms(r.apiserver.postServices?.meanSeconds)} | ${ms(r.apiserver.postIpAddresses?.meanSeconds)} | ${ms(r.apiserver.postSlices?.meanSeconds)}`,
      'etcd create ms (n)': `${ms(etcdMean)} (${etcdCount})`,
      'APF wait s': r.apiserver.apfWaitSeconds.toFixed(1),
      'CPU ms/object: apiserver': c('kube-apiserver'),
      etcd: c('etcd'),
      'kube-proxies': c('kube-proxy'),
      'ctrl-mgr': c('kube-controller-manager'),
      client: c('client'),
      'rest of machine (cores)': (r.cpu['rest of the machine'] / r.seconds).toFixed(2),
    };
  });
}

export interface Comparison {
  kitMean: number;
  goMean: number;
  /** kit / client-go of the mean rates; undefined when one side has no run */
  ratio?: number;
  /** kit / client-go of the mean client CPU seconds per object */
  kitCpuPerObject: number;
  goCpuPerObject: number;
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Mean rate of each client (arithmetic: in a kit, go, go, kit order a linear drift cancels)
 * and their ratio, over the runs with (or without) chosen ClusterIPs. */
export function compareClients(runs: readonly RunFigures[], chosenIps = false): Comparison {
  const of = (c: BenchClient) => runs.filter((r) => r.client === c && r.chosenIps === chosenIps);
  const kit = of('kit');
  const go = of('client-go');
  const kitMean = mean(kit.map((r) => r.objectsPerSecond));
  const goMean = mean(go.map((r) => r.objectsPerSecond));
  return {
    kitMean,
    goMean,
    ...(kit.length > 0 && go.length > 0 ? { ratio: kitMean / goMean } : {}),
    kitCpuPerObject: mean(kit.map((r) => r.cpu.client / r.objects)),
    goCpuPerObject: mean(go.map((r) => r.cpu.client / r.objects)),
  };
}

/** The lines of a text exposition that belong to the named families (HELP, TYPE, samples). */
export function filterFamilies(text: string, names: readonly string[]): string {
  const want = new Set(names);
  const keep = (name: string): boolean => want.has(name) || want.has(name.replace(/_(bucket|sum|count)$/, ''));
  return text
    .split('\n')
    .filter((l) => {
      const m = l.startsWith('#') ? /^#\s+(?:HELP|TYPE)\s+(\S+)/.exec(l) : /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(l);
      return m !== null && keep(m[1]!);
    })
    .join('\n')
    .concat('\n');
}
