// The embedded lab as one thing: `lab up` / `lab down` / `lab status`.
//
// up:  preflight (nothing made yet) → plan (pure) → kube-apiserver egress selector
//      config → control plane (creates lab.json) → record labId/netns in lab.json BEFORE
//      creating them → network → lab daemon (apiserver relays, egress proxy, node
//      runtime when present) → Nodes registered (by the runtime, or as plain objects when
//      it is absent) → one kube-proxy per node, waited on until its rules exist → Nodes
//      Ready (runtime only). Any failure: labDown of whatever was recorded.
// down: every recorded process (newest first: kube-proxies, daemon, control plane; only
//      when /proc still matches the record) → every namespace with the lab's prefix
//      (processes inside are killed; nft/iptables state lives there and goes with them)
//      → the lab's files. Works from lab.json alone; without lab.json it still removes
//      the namespaces of the default labId of that state dir.
//
// The control plane runs in the root namespace on 127.0.0.1 only; everything else lives
// in namespaces the lab made.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { findBinaries, repoRoot } from './binaries.js';
import {
  LabError,
  assertPortsFree,
  isRecordedProcessAlive,
  liveProcesses,
  logTail,
  procInfo,
  spawnDetached,
  startControlPlane,
  stopControlPlane,
  DEFAULT_PORTS,
  type ControlPlanePorts,
} from './control-plane/index.js';
import { spawnKubeProxy, waitKubeProxyRules, isProxyMode, PROXY_MODES, type ProxyMode } from './kube-proxy.js';
import { createLabNetwork, destroyAll, egressSelectorConfig, planNetwork, labPrefix, type NetworkPlan } from './network/index.js';
import { listNetns } from '../netns/netns.js';
import { defaultStateDir, readLabState, removeStateDir, stateLayout, updateLabState, type LabState } from './state.js';

export { LabError };

/** Files of the orchestration (not the control plane's) live here, inside the state dir. */
export const RUN_DIR = 'run';

export interface LabInfo {
  labId: string;
  nodes: number;
  proxyMode: ProxyMode;
  nodeCidr: string;
  clusterCidr: string;
  serviceCidr: string;
}

/** lab.json as the orchestration writes it (extra keys survive updateLabState). */
export type OrchestratedState = LabState & { lab?: LabInfo };

export interface LabPaths {
  runDir: string;
  egressSocket: string;
  egressConfig: string;
  daemonReady: string;
  podState: string;
  podLogs: string;
}

export function labPaths(stateDir: string): LabPaths {
  const runDir = join(stateDir, RUN_DIR);
  return {
    runDir,
    egressSocket: join(runDir, 'egress.sock'),
    egressConfig: join(runDir, 'egress-selector.yaml'),
    daemonReady: join(runDir, 'daemon.ready'),
    podState: join(runDir, 'pods.json'),
    podLogs: join(runDir, 'pods'),
  };
}

/** Default labId of a state dir: stable, so `lab down` finds the namespaces of a lab
 * whose lab.json never got written. */
export function defaultLabId(stateDir: string): string {
  const h = createHash('sha256').update(resolve(stateDir)).digest();
  return `l${h.readUInt32BE(0).toString(36).padStart(7, '0').slice(-7)}`;
}

export interface LabUpOptions {
  nodes?: number;
  proxyMode?: string;
  stateDir?: string;
  labId?: string;
  ports?: Partial<ControlPlanePorts>;
  /** progress lines (stderr in the CLI) */
  onProgress?: (msg: string) => void;
  /** how long to wait for Nodes Ready when the runtime is present; default 120 s */
  readyTimeoutMs?: number;
}

export interface LabUpResult {
  kubeconfigPath: string;
  stateDir: string;
  labId: string;
  proxyMode: ProxyMode;
  nodes: string[];
  /** the node runtime ran (Nodes Ready) or not (Nodes registered as plain objects) */
  runtime: boolean;
  timings: Record<string, number>;
}

export class LabPreflightError extends LabError {
  override name = 'LabPreflightError';
}

async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    try {
      await access(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** Tools the lab needs for a proxy mode. */
export function requiredTools(mode: ProxyMode): string[] {
  return mode === 'nftables' ? ['ip', 'nft'] : ['ip', 'iptables', 'iptables-save', 'iptables-restore'];
}

/** Everything that can be checked before anything is made. Throws LabPreflightError. */
export async function labPreflight(o: {
  proxyMode: string;
  nodes: number;
  stateDir: string;
  labId: string;
  platform?: string;
  uid?: number | undefined;
}): Promise<NetworkPlan> {
  if (!isProxyMode(o.proxyMode)) {
    throw new LabPreflightError(`unknown proxy mode "${o.proxyMode}". Fix: use one of ${PROXY_MODES.join(', ')}.`);
  }
  let plan: NetworkPlan;
  try {
    plan = planNetwork({ labId: o.labId, nodes: o.nodes });
  } catch (e) {
    throw new LabPreflightError((e as Error).message);
  }
  const platform = o.platform ?? process.platform;
  if (platform !== 'linux') {
    throw new LabPreflightError(`the embedded lab needs Linux (network namespaces, netfilter); this is ${platform}. Fix: run on Linux, or point KUBECONFIG at an existing cluster.`);
  }
  const uid = 'uid' in o ? o.uid : process.getuid?.();
  if (uid !== 0) {
    throw new LabPreflightError('the embedded lab needs root (network namespaces, nftables/iptables). Fix: run as root (sudo -E kube-sli lab up), or point KUBECONFIG at an existing cluster.');
  }
  for (const tool of requiredTools(o.proxyMode)) {
    if (!(await onPath(tool))) {
      const pkg = tool === 'ip' ? 'iproute2' : tool === 'nft' ? 'nftables' : 'iptables';
      throw new LabPreflightError(`"${tool}" is not on PATH, and --proxy-mode ${o.proxyMode} needs it. Fix: install ${pkg} (e.g. apt-get install ${pkg}), or choose the other proxy mode.`);
    }
  }
  const existing = (await readLabState(o.stateDir)) as OrchestratedState | undefined;
  if (existing) {
    const live = await liveProcesses(existing);
    if (live.length > 0 || (existing.startingPid && existing.startingPid !== process.pid && (await procInfo(existing.startingPid)))) {
      throw new LabPreflightError(
        `a lab is already up in ${o.stateDir} (${live.map((p) => `${p.name} pid ${p.pid}`).join(', ') || `starting, pid ${existing.startingPid}`}). ` +
          `Fix: use it (KUBECONFIG=${existing.kubeconfigPath}), or run kube-sli lab down first.`,
      );
    }
    throw new LabPreflightError(`${o.stateDir} holds the remains of a lab that is not running (lab.json without live processes). Fix: kube-sli lab down, then kube-sli lab up.`);
  }
  const leftovers = (await listNetns()).filter((n) => n.startsWith(labPrefix(o.labId)));
  if (leftovers.length > 0) {
    throw new LabPreflightError(`network namespaces of lab "${o.labId}" exist already (${leftovers.join(', ')}). Fix: kube-sli lab down (same --state-dir/KUBE_SLI_LAB_DIR), or another --lab-id.`);
  }
  const egress = labPaths(o.stateDir).egressSocket;
  if (Buffer.byteLength(egress) > 107) {
    throw new LabPreflightError(`the state dir path is too long for a unix socket (${egress}). Fix: a shorter --state-dir / KUBE_SLI_LAB_DIR.`);
  }
  return plan;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** argv that runs this kit's CLI (source via tsx, like bin/kube-sli.js). */
export function kitCliArgv(): string[] {
  return [process.execPath, join(repoRoot(), 'bin', 'kube-sli.js')];
}

export interface DaemonReady {
  pid: number;
  runtime: boolean;
  runtimeError?: string;
  nodes: string[];
}

async function waitDaemonReady(stateDir: string, pid: number, argv: string[], startTicks: number, logFile: string, timeoutMs = 30_000): Promise<DaemonReady> {
  const file = labPaths(stateDir).daemonReady;
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = JSON.parse(await readFile(file, 'utf8')) as DaemonReady;
      if (r.pid === pid) return r;
    } catch {
      /* not yet */
    }
    if (!(await isRecordedProcessAlive({ pid, argv, startTicks }))) {
      throw new LabError(`the lab daemon (pid ${pid}) exited before it was ready; log ${logFile}:\n${await logTail(logFile)}`);
    }
    await sleep(100);
  }
  throw new LabError(`the lab daemon (pid ${pid}) was not ready within ${timeoutMs} ms; log ${logFile}:\n${await logTail(logFile)}`);
}

function kubeClient(kubeconfigPath: string): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** Without the node runtime, Nodes exist as plain API objects (no heartbeat, never
 * Ready): enough for `kubectl get nodes`, kube-proxy and nodes/<n>:10249/proxy. */
async function registerPlainNodes(kubeconfigPath: string, plan: NetworkPlan): Promise<void> {
  const api = kubeClient(kubeconfigPath);
  for (const n of plan.nodes) {
    await api.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kube-sli.io/lab': plan.labId } },
        spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
        status: { addresses: [{ type: 'InternalIP', address: n.internalIp }, { type: 'Hostname', address: n.name }] },
      },
    });
  }
}

async function waitNodesReady(kubeconfigPath: string, names: string[], timeoutMs: number): Promise<void> {
  const api = kubeClient(kubeconfigPath);
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const list = await api.listNode();
      const ready = new Set(
        list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? ''),
      );
      const missing = names.filter((n) => !ready.has(n));
      if (missing.length === 0) return;
      last = `not Ready: ${missing.join(', ')}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
  throw new LabError(`nodes not Ready within ${timeoutMs} ms (${last}); see the lab daemon log`);
}

export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const progress = opts.onProgress ?? (() => undefined);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const labId = opts.labId ?? defaultLabId(stateDir);
  const proxyMode = opts.proxyMode ?? 'nftables';
  const nodes = opts.nodes ?? 2;
  const plan = await labPreflight({ proxyMode, nodes, stateDir, labId });
  const mode = proxyMode as ProxyMode;
  const ports: ControlPlanePorts = { ...DEFAULT_PORTS, ...opts.ports };
  await assertPortsFree([
    { port: ports.etcdClient, purpose: 'etcd client port', option: '--ports etcdClient=N' },
    { port: ports.etcdPeer, purpose: 'etcd peer port', option: '--ports etcdPeer=N' },
    { port: ports.apiserver, purpose: 'kube-apiserver secure port', option: '--ports apiserver=N' },
    { port: ports.controllerManager, purpose: 'kube-controller-manager secure port', option: '--ports controllerManager=N' },
    { port: ports.scheduler, purpose: 'kube-scheduler secure port', option: '--ports scheduler=N' },
  ]).catch((e: unknown) => {
    throw new LabPreflightError((e as Error).message);
  });
  timings.preflight = Date.now() - t0;

  const paths = labPaths(stateDir);
  const layout = stateLayout(stateDir);
  try {
    await mkdir(paths.runDir, { recursive: true, mode: 0o700 });
    await writeFile(paths.egressConfig, egressSelectorConfig(paths.egressSocket), { mode: 0o600 });

    const cp = await startControlPlane({
      stateDir,
      serviceCIDR: plan.serviceCidr,
      clusterCIDR: plan.clusterCidr,
      nodeCIDRMaskSize: plan.podCidrPrefix,
      ports,
      // pods reach the API at the fabric address (relay); the `kubernetes` Service points there
      advertiseAddress: plan.fabric.address,
      extraArgs: { 'kube-apiserver': [`--egress-selector-config-file=${paths.egressConfig}`] },
      onProgress: progress,
    });
    timings.controlPlane = Date.now() - t0;

    // Record before creating: a crash from here on leaves enough in lab.json for lab down.
    await updateLabState(stateDir, (s) => {
      const o = s as OrchestratedState;
      o.lab = { labId, nodes, proxyMode: mode, nodeCidr: plan.nodeCidr, clusterCidr: plan.clusterCidr, serviceCidr: plan.serviceCidr };
      o.proxyMode = mode;
      o.nodes = plan.nodes.map((n) => ({ name: n.name, netns: n.netns, internalIp: n.internalIp, podCidr: n.podCidr }));
      o.netns = [plan.fabric.netns, ...plan.nodes.map((n) => n.netns)];
      o.startingPid = process.pid;
    });
    progress(`creating the lab network (${plan.nodes.length} nodes, prefix ${plan.prefix})`);
    await createLabNetwork(plan);
    timings.network = Date.now() - t0;

    const argv = [...kitCliArgv(), 'lab', 'daemon', '--state-dir', stateDir];
    const daemon = await spawnDetached({ name: 'lab-daemon', argv, logFile: join(layout.logs, 'lab-daemon.log'), cwd: repoRoot() });
    await updateLabState(stateDir, (s) => {
      s.processes.push(daemon);
    });
    progress(`lab daemon started (pid ${daemon.pid})`);
    const ready = await waitDaemonReady(stateDir, daemon.pid, daemon.argv, daemon.startTicks, daemon.logFile);
    timings.daemon = Date.now() - t0;
    if (!ready.runtime) {
      progress(`node runtime not available (${ready.runtimeError ?? 'src/lab/runtime/index.ts missing'}): registering Nodes without it (they stay NotReady)`);
      await registerPlainNodes(cp.kubeconfigPath, plan);
    }

    const proxies = await Promise.all(
      plan.nodes.map(async (node) => {
        const rec = await spawnKubeProxy({
          node,
          mode,
          clusterCIDR: plan.clusterCidr,
          kubeconfig: cp.kubeProxyKubeconfig,
          argv: cp.binaries.argv['kube-proxy'],
          configDir: paths.runDir,
          logDir: layout.logs,
        });
        await updateLabState(stateDir, (s) => {
          s.processes.push(rec);
        });
        progress(`kube-proxy (${mode}) on ${node.name} started (pid ${rec.pid})`);
        return { node, rec };
      }),
    );
    await Promise.all(proxies.map(({ node, rec }) => waitKubeProxyRules(rec, node.netns, mode)));
    timings.kubeProxy = Date.now() - t0;
    progress(`kube-proxy programmed ${mode} rules on every node`);

    if (ready.runtime) {
      await waitNodesReady(cp.kubeconfigPath, plan.nodes.map((n) => n.name), opts.readyTimeoutMs ?? 120_000);
      timings.nodesReady = Date.now() - t0;
      progress('all nodes Ready');
    }
    await updateLabState(stateDir, (s) => {
      delete s.startingPid;
    });
    timings.total = Date.now() - t0;
    progress(`lab up in ${(timings.total / 1000).toFixed(1)} s: KUBECONFIG=${cp.kubeconfigPath}`);
    return { kubeconfigPath: cp.kubeconfigPath, stateDir, labId, proxyMode: mode, nodes: plan.nodes.map((n) => n.name), runtime: ready.runtime, timings };
  } catch (e) {
    progress(`lab up failed (${(e as Error).message.split('\n')[0]}); removing what it made`);
    await labDown(stateDir, { labId }).catch((d: unknown) => progress(`clean-up after the failure also failed: ${(d as Error).message}`));
    throw e;
  }
}

export interface LabDownReport {
  stopped: { name: string; pid: number; outcome: string }[];
  namespaces: string[];
  killedPids: number[];
  removed: boolean;
}

/** Tears the lab down from lab.json (and the state dir's default labId); idempotent. */
export async function labDown(stateDirIn: string = defaultStateDir(), opts: { labId?: string; graceMs?: number } = {}): Promise<LabDownReport> {
  const stateDir = resolve(stateDirIn);
  const state = (await readLabState(stateDir)) as OrchestratedState | undefined;
  const report: LabDownReport = { stopped: [], namespaces: [], killedPids: [], removed: false };
  if (state) {
    // stopControlPlane stops every recorded process newest first: kube-proxies, the
    // daemon, then scheduler, controller-manager, apiserver, etcd.
    const r = await stopControlPlane(stateDir, { keepState: true, graceMs: opts.graceMs ?? 5_000 });
    report.stopped = r.stopped;
  }
  const ids = new Set([state?.lab?.labId, opts.labId, defaultLabId(stateDir)].filter((x): x is string => typeof x === 'string'));
  for (const id of ids) {
    const d = await destroyAll(id, { killProcesses: true });
    report.namespaces.push(...d.namespaces);
    report.killedPids.push(...d.killedPids);
  }
  if (state) {
    await updateLabState(stateDir, (s) => {
      s.netns = [];
      s.links = [];
      s.nodes = [];
    });
  }
  await rm(labPaths(stateDir).runDir, { recursive: true, force: true });
  await removeStateDir(stateDir);
  report.removed = !(await stat(stateDir).then(() => true, () => false));
  return report;
}

export interface LabStatus {
  stateDir: string;
  /** up: every recorded process runs; degraded: some do; down: no lab.json */
  state: 'up' | 'degraded' | 'stopped' | 'down';
  labId?: string;
  proxyMode?: string;
  kubeconfigPath?: string;
  apiServerUrl?: string;
  processes: { name: string; pid: number; alive: boolean }[];
  netns: { name: string; present: boolean }[];
  runtime?: boolean;
  nodes?: { name: string; ready: string }[];
}

export async function labStatus(stateDirIn: string = defaultStateDir(), opts: { queryNodes?: boolean } = {}): Promise<LabStatus> {
  const stateDir = resolve(stateDirIn);
  const state = (await readLabState(stateDir)) as OrchestratedState | undefined;
  if (!state) return { stateDir, state: 'down', processes: [], netns: [] };
  const processes = await Promise.all(state.processes.map(async (p) => ({ name: p.name, pid: p.pid, alive: await isRecordedProcessAlive(p) })));
  const present = new Set(await listNetns());
  const alive = processes.filter((p) => p.alive).length;
  const status: LabStatus = {
    stateDir,
    state: processes.length > 0 && alive === processes.length ? 'up' : alive > 0 ? 'degraded' : 'stopped',
    processes,
    netns: state.netns.map((name) => ({ name, present: present.has(name) })),
    kubeconfigPath: state.kubeconfigPath,
    apiServerUrl: state.apiServerUrl,
    ...(state.lab ? { labId: state.lab.labId, proxyMode: state.lab.proxyMode } : {}),
  };
  try {
    const r = JSON.parse(await readFile(labPaths(stateDir).daemonReady, 'utf8')) as DaemonReady;
    status.runtime = r.runtime;
  } catch {
    /* no daemon */
  }
  if (opts.queryNodes && status.state !== 'stopped' && state.kubeconfigPath) {
    try {
      const list = await kubeClient(state.kubeconfigPath).listNode();
      status.nodes = list.items.map((n) => ({
        name: n.metadata?.name ?? '?',
        ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      }));
    } catch {
      /* apiserver not reachable */
    }
  }
  return status;
}

/** The admin kubeconfig path of the lab in stateDir, or a LabError naming the fix. */
export async function labKubeconfig(stateDirIn: string = defaultStateDir()): Promise<string> {
  const stateDir = resolve(stateDirIn);
  const state = await readLabState(stateDir);
  if (!state?.kubeconfigPath) throw new LabError(`no lab in ${stateDir}. Fix: kube-sli lab up (or set KUBE_SLI_LAB_DIR/--state-dir to the lab's state dir).`);
  return state.kubeconfigPath;
}

/** Runs kubectl with the lab's kubeconfig (tests, bench). */
/** Runs the lab's own kubectl (upstream, from the kube-lab binary), not whatever is on PATH. */
export async function labKubectl(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  const [file, ...pre] = (await findBinaries()).argv.kubectl;
  const r = await execa(file!, [...pre, `--kubeconfig=${kubeconfigPath}`, ...args], { ...(input !== undefined ? { input } : {}), timeout: 60_000 });
  return String(r.stdout);
}
