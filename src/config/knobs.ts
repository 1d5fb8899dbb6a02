// The run's configuration: profile, workload knobs (SERVICES, CLIENTS, CONN_PER_CLIENT,
// CLIENT_CONCURRENCY, as in the KubeCon NA 2024 talk "From Observability to Performance")
// and threshold overrides, from the environment and an optional JSON config file. Everything is validated before anything touches a cluster,
// all problems are reported at once, and each names its input and the fix.
// Precedence: environment > config file > profile.
import { readFileSync } from 'node:fs';
import { SloValidationError, ThresholdError, validateSlo } from '../sli/index.js';
import { loadProfile, ProfileError, SLI, type ProfiledSlo, type ProfileName, type SliName } from './profiles.js';
import { timeoutFactor, TimeoutFactorError } from '../timeouts.js';
import { LOADGEN_LIMITS } from '../workload/loadgen/limits.js';

/** SLI_IP_FAMILY: the address family of the Services the suites create and measure. */
export const IP_FAMILY_KNOB = ['ipv4', 'ipv6', 'dual'] as const;
export type IpFamilyKnob = (typeof IP_FAMILY_KNOB)[number];

export interface Workload {
  /** scale points: numbers of Services, swept in order */
  services: number[];
  endpointsPerService: number;
  clients: number;
  connPerClient: number;
  clientConcurrency: number;
  /** endpoints of the one big Service the programming suite adds (100,000 in the KubeCon NA 2024 talk) */
  bigServiceEndpoints: number;
  /** how long throughput and churn streams run, seconds */
  streamSeconds: number;
  /** keep the test namespace when a test fails (SLI_KEEP=1) */
  keep: boolean;
  /**
   * first-packet: also record each client node's same-node connections as their own series
   * (label clientNode; SLI_BY_CLIENT_NODE=1), which `kube-sli ab --paired` sets: there each
   * node runs one side's kube-proxy at the same time
   */
  byClientNode: boolean;
  /** the kit image (agent and clients); the lab maps it to local programs */
  image: string;
  /** network-ready suite: pods measured at the steady arrival rate */
  netreadyPods: number;
  /** network-ready suite: steady arrival rate, pods per second */
  netreadyRate: number;
  /** network-ready suite: flux P, pods per second created (and deleted once measured) across nodes */
  netreadyFluxRate: number;
  /** network-ready suite: how long the flux runs, seconds */
  netreadyFluxSeconds: number;
  /** request-overhead: seconds of each run (every path runs twice per mode, A B C D D C B A) */
  overheadSeconds: number;
  /** request-overhead: connections the generator keeps busy (closed loop) or spreads the rate over (open loop) */
  overheadConcurrency: number;
  /** request-overhead: port of the host-network server on its node */
  overheadHostPort: number;
  /** request-overhead: open-loop rate as a fraction of the slowest path's closed-loop maximum */
  overheadRateFraction: number;
  /** request-overhead: open-loop rate in requests/s; 0 derives it from overheadRateFraction */
  overheadRate: number;
  /** request-overhead: the NodePort to ask for; 0 lets the cluster allocate one */
  overheadNodePort: number;
  /** UDP request/response exchanges per second, per client (UDP_RATE) */
  udpRate: number;
  /** UDP exchanges per client (UDP_EXCHANGES; default CONN_PER_CLIENT) */
  udpExchanges: number;
  /** an exchange without a reply by then is lost, ms (UDP_TIMEOUT_MS) */
  udpTimeoutMs: number;
  /** Services over IPv4, IPv6, or both (dual: every family measured as its own series) */
  ipFamily: IpFamilyKnob;
}

/** Bounds of the UDP knobs, each with its reason (checked before anything touches a cluster). */
export const UDP_LIMITS = {
  /** what one loadgen pod's schedule keeps up with on a small node (the run records any slip) */
  rate: 20_000,
  /** the source-port cycle of the loadgen: one port per exchange, none reused within a run */
  exchanges: 40_000,
  /** below conntrack's 30 s UDP timeout (nf_conntrack_udp_timeout), so a late reply still meets its entry */
  timeoutMs: 25_000,
  /** exchanges waiting for their reply at once, per client (the loadgen's concurrency limit) */
  inFlight: 1000,
} as const;

export const DEFAULT_WORKLOAD: Workload = {
  services: [100, 1000, 5000, 10000],
  endpointsPerService: 2,
  clients: 10,
  connPerClient: 2000,
  clientConcurrency: 1,
  bigServiceEndpoints: 1000,
  streamSeconds: 10,
  keep: false,
  byClientNode: false,
  image: 'ghcr.io/kube-sli/kube-sli:0.1.0',
  netreadyPods: 20,
  netreadyRate: 1,
  netreadyFluxRate: 2,
  netreadyFluxSeconds: 20,
  overheadSeconds: 5,
  overheadConcurrency: 8,
  overheadHostPort: 18080,
  overheadRateFraction: 0.5,
  overheadRate: 0,
  overheadNodePort: 0,
  udpRate: 200,
  udpExchanges: 2000,
  udpTimeoutMs: 1000,
  ipFamily: 'ipv4',
};

/** Rates the lab on one machine can host; beyond, its CPU (not the CNI) sets the latency. */
export const NETREADY_MAX_RATE = 20;

/**
 * Measured pods alive at once under flux P: a pod lives until every source saw it (then it
 * is deleted), so P × this many seconds of arrivals bounds the pods present at once.
 */
export const NETREADY_POD_LIFETIME_S = 10;

/** Pods the network-ready suite keeps at once at flux rate P (plus one prober per node). */
export function netreadyPeakPods(fluxRate: number): number {
  return Math.ceil(fluxRate * NETREADY_POD_LIFETIME_S);
}

/**
 * Ports the host-network server must not take: on the nodes they belong to the kubelet
 * (10248, 10250), kube-proxy (10249, 10256), the kit's agent (9464), etcd and the API server
 * of control-plane nodes (2379, 2380, 6443), or to the default NodePort range, whose DNAT
 * rules would take the traffic before the server sees it.
 */
export const RESERVED_HOST_PORTS: readonly (readonly [number, number, string])[] = [
  [2379, 2380, 'etcd'],
  [6443, 6443, 'kube-apiserver'],
  [9464, 9464, "kube-sli's node agent"],
  [10248, 10259, 'kubelet, kube-proxy, controller-manager and scheduler'],
  [30000, 32767, 'the default NodePort range (--service-node-port-range)'],
];

/** Why `port` cannot serve on the host network, or undefined. */
export function hostPortProblem(port: number): string | undefined {
  if (!Number.isInteger(port) || port < 1024 || port > 65535) return 'must be an integer from 1024 to 65535 (an unprivileged port)';
  const hit = RESERVED_HOST_PORTS.find(([lo, hi]) => port >= lo && port <= hi);
  return hit ? `is taken on the nodes by ${hit[2]} (${hit[0]}${hit[1] !== hit[0] ? `-${hit[1]}` : ''}); choose another, e.g. 18080` : undefined;
}

export interface RunConfig {
  profile: ProfileName;
  slos: Record<SliName, ProfiledSlo>;
  workload: Workload;
  /** where each non-default value came from, e.g. {"workload.clients": "env CLIENTS"} */
  sources: Record<string, string>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid kube-sli configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const RATE_ENV = { netreadyRate: 'NETREADY_RATE', netreadyFluxRate: 'NETREADY_FLUX_RATE' } as const;

const WORKLOAD_ENV: Record<Exclude<keyof Workload, 'services' | 'keep' | 'byClientNode' | 'image' | 'ipFamily' | keyof typeof RATE_ENV | 'overheadRateFraction' | 'overheadRate' | 'overheadNodePort'>, string> = {
  endpointsPerService: 'ENDPOINTS_PER_SERVICE',
  clients: 'CLIENTS',
  connPerClient: 'CONN_PER_CLIENT',
  clientConcurrency: 'CLIENT_CONCURRENCY',
  bigServiceEndpoints: 'BIG_SERVICE_ENDPOINTS',
  streamSeconds: 'STREAM_SECONDS',
  netreadyPods: 'NETREADY_PODS',
  netreadyFluxSeconds: 'NETREADY_FLUX_SECONDS',
  overheadSeconds: 'OVERHEAD_SECONDS',
  overheadConcurrency: 'OVERHEAD_CONCURRENCY',
  overheadHostPort: 'OVERHEAD_HOST_PORT',
  udpRate: 'UDP_RATE',
  udpExchanges: 'UDP_EXCHANGES',
  udpTimeoutMs: 'UDP_TIMEOUT_MS',
};
const SLI_NAMES = Object.values(SLI) as SliName[];
const FILE_KEYS = new Set(['profile', 'workload', 'thresholds', 'minSamples']);

interface FileConfig {
  profile?: unknown;
  workload?: Record<string, unknown>;
  thresholds?: Record<string, unknown>;
  minSamples?: Record<string, unknown>;
}

function positiveInt(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function readConfigFile(path: string, problems: string[]): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push(`config file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); fix SLI_CONFIG or create the file`);
    return {};
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push(`config file ${path}: not valid JSON (${(e as Error).message})`);
    return {};
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push(`config file ${path}: must be a JSON object with profile, workload, thresholds, minSamples`);
    return {};
  }
  for (const k of Object.keys(doc)) {
    if (!FILE_KEYS.has(k)) problems.push(`config file ${path}: unknown key "${k}"; allowed: ${[...FILE_KEYS].join(', ')}`);
  }
  return doc;
}

/** Builds and validates the run configuration. Throws ConfigError listing every problem. */
export function loadRunConfig(
  env: Record<string, string | undefined> = process.env,
  opts: { configFile?: string } = {},
): RunConfig {
  const problems: string[] = [];
  const sources: Record<string, string> = {};
  const path = opts.configFile ?? env.SLI_CONFIG;
  const file: FileConfig = path ? readConfigFile(path, problems) : {};
  const fileRef = (key: string): string => `config file ${path} ${key}`;

  // profile
  let profileName = 'default';
  if (file.profile !== undefined) {
    if (typeof file.profile === 'string') {
      profileName = file.profile;
      sources.profile = fileRef('profile');
    } else problems.push(`${fileRef('profile')}: must be a string (default or strict)`);
  }
  if (env.SLI_PROFILE !== undefined) {
    profileName = env.SLI_PROFILE;
    sources.profile = 'env SLI_PROFILE';
  }
  let slos: Record<SliName, ProfiledSlo>;
  try {
    slos = loadProfile(profileName);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    problems.push(e.message);
    slos = loadProfile('default');
  }

  // workload
  const workload: Workload = { ...DEFAULT_WORKLOAD, services: [...DEFAULT_WORKLOAD.services] };
  const fw = file.workload ?? {};
  if (typeof fw !== 'object' || Array.isArray(fw)) problems.push(`${fileRef('workload')}: must be an object`);
  for (const k of Object.keys(fw)) {
    if (!(k in DEFAULT_WORKLOAD)) problems.push(`${fileRef(`workload.${k}`)}: unknown knob; allowed: ${Object.keys(DEFAULT_WORKLOAD).join(', ')}`);
  }
  const setServices = (raw: unknown, where: string): void => {
    const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
    const nums = parts.map(positiveInt);
    const bad = parts.filter((_, i) => nums[i] === undefined);
    if (bad.length > 0 || parts.length === 0) {
      problems.push(`${where}=${JSON.stringify(raw)}: ${bad.map((b) => JSON.stringify(b)).join(', ')} not a positive integer; give scale points such as 100,1000,10000`);
      return;
    }
    workload.services = nums as number[];
    sources['workload.services'] = where;
  };
  if (fw.services !== undefined) setServices(fw.services, fileRef('workload.services'));
  if (env.SERVICES !== undefined) setServices(env.SERVICES, 'env SERVICES');
  for (const [key, envName] of Object.entries(WORKLOAD_ENV) as [keyof typeof WORKLOAD_ENV, string][]) {
    for (const [raw, where] of [
      [fw[key], fileRef(`workload.${key}`)],
      [env[envName], `env ${envName}`],
    ] as const) {
      if (raw === undefined) continue;
      const n = positiveInt(raw);
      if (n === undefined) problems.push(`${where}=${JSON.stringify(raw)}: must be a positive integer`);
      else {
        workload[key] = n;
        sources[`workload.${key}`] = where;
      }
    }
  }
  for (const [key, envName] of Object.entries(RATE_ENV) as [keyof typeof RATE_ENV, string][]) {
    for (const [raw, where] of [
      [fw[key], fileRef(`workload.${key}`)],
      [env[envName], `env ${envName}`],
    ] as const) {
      if (raw === undefined) continue;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > NETREADY_MAX_RATE) {
        problems.push(`${where}=${JSON.stringify(raw)}: must be a number of pods per second in (0, ${NETREADY_MAX_RATE}], e.g. 2`);
      } else {
        workload[key] = n;
        sources[`workload.${key}`] = where;
      }
    }
  }
  for (const [key, raw, where] of [
    ['keep', fw.keep, fileRef('workload.keep')],
    ['keep', env.SLI_KEEP, 'env SLI_KEEP'],
    ['byClientNode', fw.byClientNode, fileRef('workload.byClientNode')],
    ['byClientNode', env.SLI_BY_CLIENT_NODE, 'env SLI_BY_CLIENT_NODE'],
  ] as const) {
    if (raw === undefined) continue;
    if (raw === true || raw === '1' || raw === 'true') workload[key] = true;
    else if (raw === false || raw === '0' || raw === 'false' || raw === '') workload[key] = false;
    else {
      problems.push(`${where}=${JSON.stringify(raw)}: use 1 or 0`);
      continue;
    }
    sources[`workload.${key}`] = where;
  }
  for (const [raw, where] of [
    [fw.image, fileRef('workload.image')],
    [env.SLI_IMAGE, 'env SLI_IMAGE'],
  ] as const) {
    if (raw === undefined) continue;
    if (typeof raw !== 'string' || !/^[\w.\-/:@]+$/.test(raw)) problems.push(`${where}=${JSON.stringify(raw)}: not an image reference`);
    else {
      workload.image = raw;
      sources['workload.image'] = where;
    }
  }
  // request-overhead knobs that are not positive integers: a fraction, and two ports/rates where 0 means "derive"
  for (const [raw, where] of [
    [fw.overheadRateFraction, fileRef('workload.overheadRateFraction')],
    [env.OVERHEAD_RATE_FRACTION, 'env OVERHEAD_RATE_FRACTION'],
  ] as const) {
    if (raw === undefined) continue;
    const f = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof f !== 'number' || !(f > 0 && f <= 1)) problems.push(`${where}=${JSON.stringify(raw)}: must be a number in (0, 1], e.g. 0.5 for half the slowest path's closed-loop maximum`);
    else {
      workload.overheadRateFraction = f;
      sources['workload.overheadRateFraction'] = where;
    }
  }
  const zeroOrInt = (key: 'overheadRate' | 'overheadNodePort', envName: string, max: number, fix: string): void => {
    for (const [raw, where] of [
      [fw[key], fileRef(`workload.${key}`)],
      [env[envName], `env ${envName}`],
    ] as const) {
      if (raw === undefined) continue;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) problems.push(`${where}=${JSON.stringify(raw)}: ${fix}`);
      else {
        workload[key] = n;
        sources[`workload.${key}`] = where;
      }
    }
  };
  zeroOrInt(
    'overheadRate',
    'OVERHEAD_RATE',
    LOADGEN_LIMITS.ratePerSecond,
    `must be an integer from 1 to ${LOADGEN_LIMITS.ratePerSecond} requests/s (what one loadgen keeps on schedule), or 0 to derive it from OVERHEAD_RATE_FRACTION`,
  );
  zeroOrInt('overheadNodePort', 'OVERHEAD_NODE_PORT', 65535, "must be a port inside the cluster's NodePort range (default 30000-32767), or 0 to let the cluster allocate one");
  const hostPortIssue = hostPortProblem(workload.overheadHostPort);
  if (hostPortIssue) problems.push(`OVERHEAD_HOST_PORT ${workload.overheadHostPort} ${hostPortIssue}`);
  if (workload.overheadConcurrency > LOADGEN_LIMITS.concurrency) {
    problems.push(`OVERHEAD_CONCURRENCY ${workload.overheadConcurrency}: at most ${LOADGEN_LIMITS.concurrency} connections per loadgen`);
  }
  for (const [raw, where] of [
    [fw.ipFamily, fileRef('workload.ipFamily')],
    [env.SLI_IP_FAMILY, 'env SLI_IP_FAMILY'],
  ] as const) {
    if (raw === undefined) continue;
    if (typeof raw !== 'string' || !(IP_FAMILY_KNOB as readonly string[]).includes(raw)) {
      problems.push(`${where}=${JSON.stringify(raw)}: not an IP family; use ${IP_FAMILY_KNOB.join(', ')} (dual: every family of a dual-stack cluster, each its own series)`);
    } else {
      workload.ipFamily = raw as IpFamilyKnob;
      sources['workload.ipFamily'] = where;
    }
  }
  try {
    timeoutFactor(env);
  } catch (e) {
    if (!(e instanceof TimeoutFactorError)) throw e;
    problems.push(e.message);
  }
  if (sources['workload.udpExchanges'] === undefined) workload.udpExchanges = workload.connPerClient;
  problems.push(...udpProblems(workload, sources));
  if (workload.clientConcurrency > workload.connPerClient) {
    problems.push(
      `CLIENT_CONCURRENCY ${workload.clientConcurrency} exceeds CONN_PER_CLIENT ${workload.connPerClient}: each client cannot have more connections in flight than it makes`,
    );
  }

  if (workload.netreadyFluxRate * workload.netreadyFluxSeconds < 2) {
    problems.push(
      `NETREADY_FLUX_RATE ${workload.netreadyFluxRate} × NETREADY_FLUX_SECONDS ${workload.netreadyFluxSeconds} creates fewer than 2 pods: network-ready throughput needs at least 2; raise either`,
    );
  }

  // thresholds and minSamples overrides
  const override = (kind: 'thresholds' | 'minSamples', sli: string, raw: unknown, where: string): void => {
    if (!(SLI_NAMES as string[]).includes(sli)) {
      problems.push(`${where}: unknown SLI "${sli}"; known: ${SLI_NAMES.join(', ')}`);
      return;
    }
    const slo = slos[sli as SliName];
    if (kind === 'thresholds') {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!list || list.some((t) => typeof t !== 'string') || list.length === 0) {
        problems.push(`${where}: give thresholds as a list such as "p(99)<5ms,p(50)<1ms"`);
        return;
      }
      slo.thresholds = list.map((t: string) => t.trim());
    } else {
      const n = positiveInt(raw);
      if (n === undefined) {
        problems.push(`${where}=${JSON.stringify(raw)}: must be a positive integer`);
        return;
      }
      slo.minSamples = n;
    }
    slo.origin = `${where} (overrides the ${profileName} profile)`;
    sources[`${kind}.${sli}`] = where;
  };
  for (const kind of ['thresholds', 'minSamples'] as const) {
    const section = file[kind] ?? {};
    for (const [sli, raw] of Object.entries(section)) override(kind, sli, raw, fileRef(`${kind}.${sli}`));
  }
  for (const [name, raw] of Object.entries(env)) {
    const t = /^SLI_THRESHOLDS_(.+)$/.exec(name);
    if (t) override('thresholds', t[1]!.toLowerCase(), raw, `env ${name}`);
    const m = /^SLI_MIN_SAMPLES_(.+)$/.exec(name);
    if (m) override('minSamples', m[1]!.toLowerCase(), raw, `env ${name}`);
  }
  for (const slo of Object.values(slos)) {
    try {
      validateSlo(slo);
    } catch (e) {
      if (e instanceof SloValidationError || e instanceof ThresholdError) problems.push(`${slo.origin}: ${e.message}`);
      else throw e;
    }
  }

  const nr = slos[SLI.netreadyLatency];
  if (workload.netreadyPods < nr.minSamples) {
    problems.push(`NETREADY_PODS ${workload.netreadyPods} is below the ${nr.minSamples} samples ${SLI.netreadyLatency} needs (minSamples): raise NETREADY_PODS or lower SLI_MIN_SAMPLES_${SLI.netreadyLatency.toUpperCase()}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { profile: profileName as ProfileName, slos, workload, sources };
}

/** Out-of-range UDP knobs, each naming the knob, its source and the fix. */
function udpProblems(w: Workload, sources: Record<string, string>): string[] {
  const where = (k: keyof Workload, env: string): string => sources[`workload.${k}`] ?? (k === 'udpExchanges' ? 'env CONN_PER_CLIENT (UDP_EXCHANGES defaults to it)' : `default ${env}`);
  const out: string[] = [];
  if (w.udpRate > UDP_LIMITS.rate) out.push(`${where('udpRate', 'UDP_RATE')}=${w.udpRate}: at most ${UDP_LIMITS.rate} exchanges/s per client; add clients (CLIENTS) for more load`);
  if (w.udpExchanges > UDP_LIMITS.exchanges) {
    out.push(`${where('udpExchanges', 'UDP_EXCHANGES')}=${w.udpExchanges}: at most ${UDP_LIMITS.exchanges} UDP exchanges per client (one source port each, none reused in a run); set UDP_EXCHANGES lower or add clients`);
  }
  if (w.udpTimeoutMs > UDP_LIMITS.timeoutMs) {
    out.push(`${where('udpTimeoutMs', 'UDP_TIMEOUT_MS')}=${w.udpTimeoutMs}: at most ${UDP_LIMITS.timeoutMs} ms, below conntrack's 30 s UDP timeout (a later reply would meet a new entry); use e.g. 1000`);
  }
  const inFlight = Math.ceil((w.udpRate * w.udpTimeoutMs) / 1000);
  if (inFlight > UDP_LIMITS.inFlight) {
    out.push(`UDP_RATE ${w.udpRate}/s × UDP_TIMEOUT_MS ${w.udpTimeoutMs} ms may keep ${inFlight} exchanges waiting per client, more than the loadgen's ${UDP_LIMITS.inFlight}: lower UDP_RATE or UDP_TIMEOUT_MS`);
  }
  return out;
}

/**
 * The families a run measures, primary first, from SLI_IP_FAMILY and what the cluster has
 * (its Service and pod ranges). A family the cluster lacks is a configuration error that
 * names the knob, what the cluster has and the fix, before anything is created.
 */
export function runFamilies(knob: IpFamilyKnob, cluster: { ipFamilies: readonly ('ipv4' | 'ipv6')[]; serviceCidrs: readonly string[]; podCidrs: readonly string[] }): ('ipv4' | 'ipv6')[] {
  const want: ('ipv4' | 'ipv6')[] = knob === 'dual' ? ['ipv4', 'ipv6'] : [knob];
  const missing = want.filter((f) => !cluster.ipFamilies.includes(f));
  if (missing.length > 0) {
    const has = cluster.ipFamilies.length > 0 ? cluster.ipFamilies.join(' and ') : 'no family with both a Service and a pod range';
    const fix =
      cluster.ipFamilies.length === 1
        ? `set SLI_IP_FAMILY=${cluster.ipFamilies[0]}${knob === 'ipv4' ? ' (ipv4 is the default)' : ''}, or run against a cluster with ${missing.join(' and ')} (the lab: kube-sli lab up --ip-family ${knob === 'dual' ? 'dual' : missing[0]})`
        : `set SLI_IP_FAMILY to one of ${cluster.ipFamilies.join(', ')}${cluster.ipFamilies.length > 1 ? ', dual' : ''}`;
    throw new ConfigError([
      `env SLI_IP_FAMILY=${knob}: the cluster has no ${missing.join(' and ')} (it has ${has}: Service CIDRs ${cluster.serviceCidrs.join(',') || 'none'}, pod CIDRs ${cluster.podCidrs.join(',') || 'none'}); ${fix}`,
    ]);
  }
  // dual: the cluster's order, so the primary family comes first
  return cluster.ipFamilies.filter((f) => want.includes(f));
}
