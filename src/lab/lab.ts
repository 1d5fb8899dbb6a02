// The embedded lab as one thing: `lab up` / `lab down` / `lab status` / `lab list`.
//
// up:  preflight (nothing made yet: tools, cgroups, CNI, state dir) → images (built or
//      taken from the cache; nothing made in the lab yet) → plan (pure) → kube-apiserver
//      egress selector config → control plane (creates lab.json) → record labId/netns in
//      lab.json BEFORE creating them → network → lab daemon (apiserver relays, egress
//      proxy) → Node objects with their podCIDRs → per node: containerd, image import,
//      kubelet (real nodes, node/) → one kube-proxy per node, waited on until its rules
//      exist → Nodes Ready. Any failure: labDown of whatever was recorded.
// down: every recorded process (newest first: kube-proxies, kubelets, containerds,
//      daemon, control plane; only when /proc still matches the record) → the pods'
//      processes (through the nodes' cgroups) → every namespace with the lab's prefix
//      (processes inside, the shims among them, are killed; nft/iptables state goes with
//      them) → mounts under the state dir → the nodes' cgroups → the kernel tunables the
//      kubelets set (when no other lab is up) → the lab's files. Works from lab.json alone;
//      without lab.json it still removes what carries the default labId of that state dir.
//
// The control plane runs in the root namespace on 127.0.0.1 only; everything else lives
// in namespaces the lab made.
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
import type { KubeProxyChoice } from './kube-proxy-choice.js';
import { createLabNetwork, destroyAll, egressSelectorConfig, planNetwork, labPrefix, type NetworkPlan } from './network/index.js';
import { IP_FAMILIES, isIpFamily, type IpFamily } from './network/plan.js';
import { certPaths } from './pki.js';
import { listNetns, sysctl } from '../netns/netns.js';
import { defaultStateDir, readLabState, removeStateDir, stateLayout, updateLabState, type LabState, type ProcessRecord } from './state.js';
import { ensureLabImages, requireTool, type LabImage } from './images/build.js';
import { DEFAULT_CNI_BIN_DIR, startLabNode } from './node/node.js';
import { confineCpu, controlPlaneCgroup, CPU_SHARES, killCgroupProcesses, nodeDaemonsCgroup, recordKernelTunables, removeLabCgroups, restoreKernelTunables, unmountUnder, CGROUP_V1_ROOT } from './node/teardown.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor } from '../wait-for.js';
import { labIdsOnMachine, registeredLabs, registerLab, unregisterLab } from './registry.js';
import { inotifyInUse, inotifyMax, inotifyProblem } from './inotify.js';
import { assertKubemark, hollowNodesProblem, kubemarkArgv, memAvailableBytes, startHollowNodes, stopHollowNodes, waitHollowReady, isHollowNode, HOLLOW_CPU_CGROUP, HOLLOW_CPU_SHARES } from './hollow.js';

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
  /** absent in labs started before IP families existed: ipv4 */
  ipFamily?: IpFamily;
  /** every family's ranges, primary first */
  serviceCidrs?: string[];
  clusterCidrs?: string[];
  /** kubemark hollow nodes beside the real ones (0 or absent: none) */
  hollowNodes?: number;
}

/** Which kube-proxy the lab's nodes run (lab.json), for the report's environment and swaps. */
export interface KubeProxyRecord {
  source: KubeProxyChoice['source'];
  spec: string;
  argv: string[];
  version: string;
  args: string[];
  featureGates: Record<string, boolean>;
}

/** lab.json as the orchestration writes it (extra keys survive updateLabState). */
export type OrchestratedState = LabState & { lab?: LabInfo; kubeProxy?: KubeProxyRecord; kubeProxyByNode?: Record<string, KubeProxyRecord> };

export function kubeProxyRecord(c: KubeProxyChoice): KubeProxyRecord {
  return { source: c.source, spec: c.spec, argv: [...c.argv], version: c.version, args: [...c.args], featureGates: { ...c.featureGates } };
}

export interface LabPaths {
  runDir: string;
  egressSocket: string;
  egressConfig: string;
  daemonReady: string;
}

export function labPaths(stateDir: string): LabPaths {
  const runDir = join(stateDir, RUN_DIR);
  return {
    runDir,
    egressSocket: join(runDir, 'egress.sock'),
    egressConfig: join(runDir, 'egress-selector.yaml'),
    daemonReady: join(runDir, 'daemon.ready'),
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
  /** ipv4 (default), ipv6 or dual (IPv4 primary) */
  ipFamily?: string;
  stateDir?: string;
  labId?: string;
  ports?: Partial<ControlPlanePorts>;
  /** progress lines (stderr in the CLI) */
  onProgress?: (msg: string) => void;
  /** how long to wait for Nodes Ready; default 120 s */
  readyTimeoutMs?: number;
  /** CNI plugin binaries (default /usr/lib/cni, Debian's containernetworking-plugins) */
  cniBinDir?: string;
  /** a CNI configuration directory of the user's; default: the lab's ptp + host-local */
  cniConfDir?: string;
  /** extra kubelet flags, after the lab's own (a later flag wins) */
  kubeletArgs?: string[];
  /** kubemark hollow nodes to add beside the real ones (hollow.ts); default 0 */
  hollowNodes?: number;
  /** the kube-proxy to run (resolveKubeProxy); default: the lab's own, no extra flags */
  kubeProxy?: KubeProxyChoice;
}

export interface LabUpResult {
  kubeconfigPath: string;
  stateDir: string;
  labId: string;
  proxyMode: ProxyMode;
  ipFamily: IpFamily;
  nodes: string[];
  /** the hollow nodes' names (empty without --hollow-nodes) */
  hollowNodes: string[];
  /** images every node holds */
  images: LabImage[];
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

/** Tools the lab needs for a proxy mode (and IP family: kube-proxy's iptables mode
 * programs IPv6 with the ip6tables tools; nftables mode uses the ip6 family of nft). */
export function requiredTools(mode: ProxyMode, ipFamily: IpFamily = 'ipv4'): string[] {
  if (mode === 'nftables') return ['ip', 'nft'];
  const v4 = ['iptables', 'iptables-save', 'iptables-restore'];
  const v6 = ['ip6tables', 'ip6tables-save', 'ip6tables-restore'];
  return ['ip', ...(ipFamily === 'ipv4' ? v4 : ipFamily === 'ipv6' ? v6 : [...v4, ...v6])];
}

/** What an IPv6 lab needs from the kernel: IPv6 not switched off at boot (ipv6.disable=1
 * removes /proc/sys/net/ipv6), and new namespaces that start with IPv6 on is not needed:
 * the lab sets disable_ipv6=0 in each of its namespaces itself. */
export async function ipv6Preflight(procSys = '/proc/sys/net/ipv6'): Promise<void> {
  if (!(await stat(join(procSys, 'conf', 'default', 'disable_ipv6')).then(() => true, () => false))) {
    throw new LabPreflightError(`this kernel has no IPv6 (${procSys} is missing: booted with ipv6.disable=1, or built without it), and --ip-family ipv6/dual needs it. Fix: boot without ipv6.disable=1, or use --ip-family ipv4.`);
  }
}

/** Tools a real node needs (containerd, runc, ctr from Debian's containerd/runc packages;
 * nsenter from util-linux), with the package that brings each. */
export const NODE_TOOLS: readonly { tool: string; pkg: string }[] = [
  { tool: 'containerd', pkg: 'containerd' },
  { tool: 'containerd-shim-runc-v2', pkg: 'containerd' },
  { tool: 'ctr', pkg: 'containerd' },
  { tool: 'runc', pkg: 'runc' },
  { tool: 'nsenter', pkg: 'util-linux' },
];
/** The plugins the lab's own CNI configuration (and containerd's loopback) uses. */
export const LAB_CNI_PLUGINS = ['ptp', 'host-local', 'portmap', 'loopback'] as const;
/** cgroup v1 controllers a kubelet with per-QoS cgroups needs. */
export const REQUIRED_CGROUP_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'] as const;

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** What real nodes need from the host; each problem names its cause and its fix. */
export async function nodePreflight(o: { cniBinDir: string; cniConfDir?: string | undefined; cgroupRoot?: string }): Promise<void> {
  for (const { tool, pkg } of NODE_TOOLS) {
    if (!(await onPath(tool))) throw new LabPreflightError(`"${tool}" is not on PATH; every lab node runs its own containerd with runc. Fix: apt-get install ${pkg} (npm test's set-up installs it).`);
  }
  const plugins = o.cniConfDir ? ['loopback'] : LAB_CNI_PLUGINS;
  const missing = [];
  for (const p of plugins) if (!(await isFile(join(o.cniBinDir, p)))) missing.push(p);
  if (missing.length > 0) {
    throw new LabPreflightError(`CNI plugin(s) ${missing.join(', ')} not found in ${o.cniBinDir}. Fix: apt-get install containernetworking-plugins (they go to /usr/lib/cni), or give --cni-bin-dir the directory that holds them.`);
  }
  if (o.cniConfDir) {
    // only a missing directory "does not exist"; anything else (permissions, not a directory) as it is
    const confs = (
      await readdir(o.cniConfDir).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      })
    )?.filter((f) => /\.(conf|conflist|json)$/.test(f));
    if (confs === undefined) throw new LabPreflightError(`--cni-conf-dir ${o.cniConfDir} does not exist. Fix: give a directory holding a CNI .conflist or .conf file.`);
    if (confs.length === 0) throw new LabPreflightError(`--cni-conf-dir ${o.cniConfDir} holds no CNI configuration (*.conflist, *.conf, *.json). Fix: put your network's configuration there, or leave the option out for the lab's own (ptp + host-local).`);
  }
  const root = o.cgroupRoot ?? CGROUP_V1_ROOT;
  const absent = [];
  for (const c of REQUIRED_CGROUP_CONTROLLERS) if (!(await stat(join(root, c, 'cgroup.procs')).then(() => true, () => false))) absent.push(c);
  if (absent.length > 0) {
    throw new LabPreflightError(`cgroup controller(s) ${absent.join(', ')} are not mounted under ${root}; the lab's kubelets (cgroupfs driver, cgroup v1) put every pod there. Fix: mount the cgroup v1 hierarchies (e.g. a systemd host with systemd.unified_cgroup_hierarchy=0), or run on a host that has them.`);
  }
}

/** Everything that can be checked before anything is made. Throws LabPreflightError. */
export async function labPreflight(o: {
  proxyMode: string;
  ipFamily?: string;
  nodes: number;
  stateDir: string;
  labId: string;
  platform?: string;
  uid?: number | undefined;
  cniBinDir?: string;
  cniConfDir?: string | undefined;
}): Promise<NetworkPlan> {
  if (!isProxyMode(o.proxyMode)) {
    throw new LabPreflightError(`unknown proxy mode "${o.proxyMode}". Fix: use one of ${PROXY_MODES.join(', ')}.`);
  }
  const ipFamily = o.ipFamily ?? 'ipv4';
  if (!isIpFamily(ipFamily)) {
    throw new LabPreflightError(`unknown IP family "${ipFamily}" (--ip-family). Fix: use one of ${IP_FAMILIES.join(', ')} (dual: IPv4 primary, IPv6 secondary).`);
  }
  let plan: NetworkPlan;
  try {
    plan = planNetwork({ labId: o.labId, nodes: o.nodes, ipFamily });
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
  for (const tool of requiredTools(o.proxyMode, ipFamily)) {
    if (!(await onPath(tool))) {
      const pkg = tool === 'ip' ? 'iproute2' : tool === 'nft' ? 'nftables' : 'iptables';
      throw new LabPreflightError(`"${tool}" is not on PATH, and --proxy-mode ${o.proxyMode} with --ip-family ${ipFamily} needs it. Fix: install ${pkg} (e.g. apt-get install ${pkg}), or choose the other proxy mode.`);
    }
  }
  if (ipFamily !== 'ipv4') await ipv6Preflight();
  const existing: OrchestratedState | undefined = await readLabState(o.stateDir);
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
  await nodePreflight({ cniBinDir: o.cniBinDir ?? DEFAULT_CNI_BIN_DIR, cniConfDir: o.cniConfDir });
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

/** argv that runs this kit's CLI (source via tsx, like bin/kube-sli.js). */
export function kitCliArgv(): string[] {
  return [process.execPath, join(repoRoot(), 'bin', 'kube-sli.js')];
}

export interface DaemonReady {
  pid: number;
  nodes: string[];
}

async function waitDaemonReady(stateDir: string, pid: number, argv: string[], startTicks: number, logFile: string, timeoutMs = TIMEOUTS.labDaemonReadyMs): Promise<DaemonReady> {
  const file = labPaths(stateDir).daemonReady;
  return waitFor(
    async () => {
      if (!(await isRecordedProcessAlive({ pid, argv, startTicks }))) {
        throw new StopWaiting(new LabError(`the lab daemon (pid ${pid}) exited before it was ready; log ${logFile}:\n${await logTail(logFile)}`));
      }
      const r = await readFile(file, 'utf8').then((t) => JSON.parse(t) as DaemonReady, () => undefined);
      return r?.pid === pid ? r : undefined;
    },
    { timeout: timeoutMs, interval: TIMEOUTS.labPollMs, what: `the lab daemon (pid ${pid}, log ${logFile})` },
  );
}

function kubeClient(kubeconfigPath: string): k8s.CoreV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(k8s.CoreV1Api);
}

/** The Node objects exist before their kubelets start, so each carries the podCIDR the
 * lab's routes were planned for (the controller-manager keeps an existing podCIDR); the
 * kubelet registers against the existing object and takes over its status. */
async function createNodeObjects(kubeconfigPath: string, plan: NetworkPlan): Promise<void> {
  const api = kubeClient(kubeconfigPath);
  for (const n of plan.nodes) {
    await api.createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kube-sli.io/lab': plan.labId } },
        spec: { podCIDR: n.podCidr, podCIDRs: n.podCidrs },
      },
    });
  }
}

async function waitNodesReady(kubeconfigPath: string, names: string[], timeoutMs: number, kubelets: ProcessRecord[]): Promise<void> {
  const api = kubeClient(kubeconfigPath);
  await waitFor(
    async () => {
      for (const k of kubelets) {
        if (!(await isRecordedProcessAlive(k))) throw new StopWaiting(new LabError(`${k.name} (pid ${k.pid}) exited; log ${k.logFile}:\n${await logTail(k.logFile)}`));
      }
      const list = await api.listNode();
      const ready = new Set(list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? ''));
      const missing = names.filter((n) => !ready.has(n));
      return missing.length > 0 ? { pending: `not Ready: ${missing.join(', ')}` } : true;
    },
    { timeout: timeoutMs, interval: TIMEOUTS.labPollMs, what: `nodes ${names.join(', ')} Ready (kubelet logs in the state dir's logs/)` },
  ).catch((e: unknown) => {
    throw e instanceof LabError ? e : new LabError((e as Error).message);
  });
}

export async function labUp(opts: LabUpOptions = {}): Promise<LabUpResult> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const progress = opts.onProgress ?? (() => undefined);
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const labId = opts.labId ?? defaultLabId(stateDir);
  const proxyMode = opts.proxyMode ?? 'nftables';
  const nodes = opts.nodes ?? 2;
  const cniBinDir = resolve(opts.cniBinDir ?? DEFAULT_CNI_BIN_DIR);
  const cniConfDir = opts.cniConfDir ? resolve(opts.cniConfDir) : undefined;
  const plan = await labPreflight({ proxyMode, ipFamily: opts.ipFamily ?? 'ipv4', nodes, stateDir, labId, cniBinDir, cniConfDir });
  const hollowCount = opts.hollowNodes ?? 0;
  // memory is estimated before anything is made: hundreds of kubelets can exhaust it
  const hollowProblem = hollowNodesProblem(hollowCount, hollowCount > 0 ? await memAvailableBytes() : 0);
  if (hollowProblem) throw new LabPreflightError(hollowProblem);
  const inotify = inotifyProblem({ max: await inotifyMax(), used: await inotifyInUse(), nodes, hollowNodes: hollowCount });
  if (inotify) throw new LabPreflightError(inotify);
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

  // Images before anything is made: a cold build takes minutes and may fail on its own.
  const binaries = await findBinaries({ onProgress: progress });
  if (!binaries.agnhost) throw new LabPreflightError('no agnhost next to the lab binaries; the lab builds its agnhost and pause images from it. Fix: scripts/build-lab-binaries.sh (builds both), or put agnhost in KUBE_SLI_K8S_BIN_DIR.');
  const kubemark = await kubemarkArgv(binaries.argv.kubelet);
  if (hollowCount > 0) {
    await assertKubemark(kubemark).catch((e: unknown) => {
      throw new LabPreflightError((e as Error).message);
    });
  }
  await requireTool('buildah', 'buildah').catch((e: unknown) => {
    throw new LabPreflightError((e as Error).message);
  });
  const images = await ensureLabImages({ agnhostPath: binaries.agnhost, onProgress: progress });
  timings.images = Date.now() - t0;

  const paths = labPaths(stateDir);
  const layout = stateLayout(stateDir);
  try {
    // first of all: from here on `lab list` / `lab down --all` know this lab
    await registerLab({ labId, stateDir });
    await mkdir(paths.runDir, { recursive: true, mode: 0o700 });
    await writeFile(paths.egressConfig, egressSelectorConfig(paths.egressSocket), { mode: 0o600 });

    const cp = await startControlPlane({
      stateDir,
      serviceCIDR: plan.serviceCidrs.join(','),
      clusterCIDR: plan.clusterCidrs.join(','),
      nodeCIDRMaskSize: plan.podCidrPrefix,
      nodeCIDRMaskSizes: Object.fromEntries(plan.families.map((f, i) => [f, plan.podCidrPrefixes[i]!])),
      ports,
      // pods reach the API at the fabric address (relay); the `kubernetes` Service points there
      advertiseAddress: plan.fabric.address,
      extraArgs: { 'kube-apiserver': [`--egress-selector-config-file=${paths.egressConfig}`] },
      onProgress: progress,
    });
    timings.controlPlane = Date.now() - t0;
    // the control plane is another machine in a real cluster: a bounded CPU weight
    await confineCpu(controlPlaneCgroup(labId), CPU_SHARES.controlPlane, ((await readLabState(stateDir))?.processes ?? []).map((p) => p.pid));

    // Record before creating: a crash from here on leaves enough in lab.json for lab down.
    await updateLabState(stateDir, (s) => {
      const o = s as OrchestratedState;
      o.lab = { labId, nodes, proxyMode: mode, nodeCidr: plan.nodeCidr, clusterCidr: plan.clusterCidr, serviceCidr: plan.serviceCidr, ipFamily: plan.ipFamily, serviceCidrs: plan.serviceCidrs, clusterCidrs: plan.clusterCidrs };
      if (opts.kubeProxy) o.kubeProxy = kubeProxyRecord(opts.kubeProxy);
      o.proxyMode = mode;
      o.nodes = plan.nodes.map((n) => ({ name: n.name, netns: n.netns, internalIp: n.internalIp, podCidr: n.podCidr }));
      o.netns = [plan.fabric.netns, ...plan.nodes.map((n) => n.netns)];
      o.startingPid = process.pid;
    });
    progress(`creating the lab network (${plan.nodes.length} nodes, ${plan.ipFamily}, prefix ${plan.prefix})`);
    await createLabNetwork(plan);
    timings.network = Date.now() - t0;

    const argv = [...kitCliArgv(), 'lab', 'daemon', '--state-dir', stateDir];
    const daemon = await spawnDetached({ name: 'lab-daemon', argv, logFile: join(layout.logs, 'lab-daemon.log'), cwd: repoRoot() });
    await updateLabState(stateDir, (s) => {
      s.processes.push(daemon);
    });
    progress(`lab daemon started (pid ${daemon.pid})`);
    await confineCpu(controlPlaneCgroup(labId), CPU_SHARES.controlPlane, [daemon.pid]);
    await waitDaemonReady(stateDir, daemon.pid, daemon.argv, daemon.startTicks, daemon.logFile);
    timings.daemon = Date.now() - t0;
    await createNodeObjects(cp.kubeconfigPath, plan);

    await recordKernelTunables();
    const record = async (rec: ProcessRecord): Promise<void> => {
      await updateLabState(stateDir, (s) => {
        s.processes.push(rec);
      });
      // a node's daemons share one cgroup, as on a real node (kubelet/, containerd/, kube-proxy/<node>)
      const node = rec.name.split('/')[1];
      if (node) await confineCpu(nodeDaemonsCgroup(labId, node), CPU_SHARES.nodeDaemons, [rec.pid]);
    };
    const started = await Promise.all(
      plan.nodes.map((node) =>
        startLabNode({
          stateDir,
          labId,
          node,
          kubeletArgv: cp.binaries.argv.kubelet,
          kubeletArgs: opts.kubeletArgs ?? [],
          apiServerUrl: cp.apiServerUrl,
          pkiDir: layout.pki,
          caFile: cp.pki.ca.cert,
          cni: { binDir: cniBinDir, ...(cniConfDir ? { confDir: cniConfDir } : {}) },
          images,
          logDir: layout.logs,
          onProcess: record,
          onProgress: progress,
        }),
      ),
    );
    timings.nodes = Date.now() - t0;

    const kp = opts.kubeProxy;
    const proxies = await Promise.all(
      plan.nodes.map(async (node) => {
        const rec = await spawnKubeProxy({
          node,
          mode,
          clusterCIDR: plan.clusterCidrs.join(','),
          kubeconfig: cp.kubeProxyKubeconfig,
          argv: kp?.argv ?? cp.binaries.argv['kube-proxy'],
          ...(kp ? { extraArgs: kp.args, dialect: kp.dialect, featureGates: kp.featureGates } : {}),
          configDir: paths.runDir,
          logDir: layout.logs,
        });
        await record(rec);
        progress(`kube-proxy${kp ? ` ${kp.version}` : ''} (${mode}) on ${node.name} started (pid ${rec.pid})`);
        return { node, rec };
      }),
    );
    await Promise.all(proxies.map(({ node, rec }) => waitKubeProxyRules(rec, node.netns, mode, plan.families)));
    timings.kubeProxy = Date.now() - t0;
    // Node configuration, as a node image would have it: conntrack accounting and
    // timestamps on (kube-proxy's rules loaded nf_conntrack), so the kit's agent needs
    // only NET_ADMIN and NET_RAW, not privilege.
    for (const node of plan.nodes) await sysctl(node.netns, { 'net.netfilter.nf_conntrack_acct': 1, 'net.netfilter.nf_conntrack_timestamp': 1 });
    progress(`kube-proxy programmed ${mode} rules on every node`);

    await waitNodesReady(cp.kubeconfigPath, plan.nodes.map((n) => n.name), opts.readyTimeoutMs ?? TIMEOUTS.labNodesReadyMs, started.map((s) => s.kubelet));
    timings.nodesReady = Date.now() - t0;
    progress('all nodes Ready');
    const hollow = hollowCount > 0 ? await addHollowNodes(stateDir, hollowCount, { onProgress: progress, memoryChecked: true }) : [];
    if (hollowCount > 0) timings.hollowReady = Date.now() - t0;
    await updateLabState(stateDir, (s) => {
      delete s.startingPid;
    });
    timings.total = Date.now() - t0;
    progress(`lab up in ${(timings.total / 1000).toFixed(1)} s: KUBECONFIG=${cp.kubeconfigPath}`);
    return { kubeconfigPath: cp.kubeconfigPath, stateDir, labId, proxyMode: mode, ipFamily: plan.ipFamily, nodes: plan.nodes.map((n) => n.name), hollowNodes: hollow.map((h) => h.name.slice('hollow/'.length)), images, timings };
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
  unmounted: string[];
  cgroupsRemoved: number;
  kernelTunables: string;
  removed: boolean;
}

/** Adds `count` kubemark hollow nodes to the lab in stateDir (after those it has: hollow-<k>
 * on), each recorded in lab.json as it starts, and waits until they are Ready. Memory is
 * estimated first; nothing starts when it does not hold them. */
export async function addHollowNodes(stateDirIn: string, count: number, o: { onProgress?: (line: string) => void; memoryChecked?: boolean } = {}): Promise<ProcessRecord[]> {
  const stateDir = resolve(stateDirIn);
  const state: OrchestratedState | undefined = await readLabState(stateDir);
  if (!state?.lab || !state.ports.apiserver) throw new LabError(`no lab in ${stateDir}. Fix: kube-sli lab up --hollow-nodes N.`);
  const info = state.lab;
  const existing = info.hollowNodes ?? 0;
  const problem = hollowNodesProblem(count, o.memoryChecked ? Number.MAX_SAFE_INTEGER : await memAvailableBytes(), undefined, existing);
  if (problem) throw new LabPreflightError(problem);
  // the lab's own instances are already in use; the new hollow nodes need theirs on top
  if (!o.memoryChecked) {
    const inotify = inotifyProblem({ max: await inotifyMax(), used: await inotifyInUse(), nodes: 0, hollowNodes: count, controlPlane: false });
    if (inotify) throw new LabPreflightError(inotify);
  }
  const kubemark = await kubemarkArgv(state.binaries.argv.kubelet ?? []);
  await assertKubemark(kubemark).catch((e: unknown) => {
    throw new LabPreflightError((e as Error).message);
  });
  const plan = planNetwork({ labId: info.labId, nodes: info.nodes, nodeCidr: info.nodeCidr, clusterCidr: info.clusterCidr, serviceCidr: info.serviceCidr });
  const layout = stateLayout(stateDir);
  // recorded before any starts, so lab status and lab down know what to expect
  await updateLabState(stateDir, (s) => {
    (s as OrchestratedState).lab!.hollowNodes = existing + count;
  });
  // all hollow kubelets share one cgroup, weighted below the control plane: they exist
  // to load it, not to outcompete it (with a real node's weight, 100 of them starved the
  // API server and the relay they talk through on a loaded 2-vCPU machine)
  const recs = await startHollowNodes({
    stateDir,
    count,
    first: existing,
    kubemarkArgv: kubemark,
    fabricNetns: plan.fabric.netns,
    apiServerUrl: `https://${plan.fabric.address}:${state.ports.apiserver}`,
    pkiDir: layout.pki,
    caFile: certPaths(layout.pki, 'ca').cert,
    logDir: layout.logs,
    onProcess: async (rec) => {
      await updateLabState(stateDir, (s) => {
        s.processes.push(rec);
      });
      await confineCpu(HOLLOW_CPU_CGROUP(info.labId), HOLLOW_CPU_SHARES, [rec.pid]);
    },
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  await waitHollowReady(kubeClient(state.kubeconfigPath), recs);
  o.onProgress?.(`${count} hollow nodes Ready (${existing + count} in the lab)`);
  return recs;
}

/** Tears the lab down from lab.json (and the state dir's default labId); idempotent. */
export async function labDown(stateDirIn: string = defaultStateDir(), opts: { labId?: string; graceMs?: number } = {}): Promise<LabDownReport> {
  const stateDir = resolve(stateDirIn);
  const state: OrchestratedState | undefined = await readLabState(stateDir);
  const report: LabDownReport = { stopped: [], namespaces: [], killedPids: [], unmounted: [], cgroupsRemoved: 0, kernelTunables: 'unchanged', removed: false };
  if (state) {
    // hundreds of hollow kubelets: in parallel, before the sequential stop of the rest
    report.stopped.push(...(await stopHollowNodes(state.processes, opts.graceMs ?? 5_000)));
    // stopControlPlane stops every recorded process newest first: kube-proxies, kubelets,
    // containerds, the daemon, then scheduler, controller-manager, apiserver, etcd.
    const r = await stopControlPlane(stateDir, { keepState: true, graceMs: opts.graceMs ?? 5_000 });
    const done = new Set(report.stopped.map((x) => x.pid));
    report.stopped.push(...r.stopped.filter((x) => !done.has(x.pid)));
  }
  const ids = [...new Set([state?.lab?.labId, opts.labId, defaultLabId(stateDir)].filter((x): x is string => typeof x === 'string'))];
  const errors: string[] = [];
  // the pods' containers live in pod namespaces of their own; their cgroups find them
  for (const id of ids) report.killedPids.push(...(await killCgroupProcesses(id)));
  for (const id of ids) {
    const d = await destroyAll(id, { killProcesses: true });
    report.namespaces.push(...d.namespaces);
    report.killedPids.push(...d.killedPids);
  }
  const um = await unmountUnder(stateDir);
  report.unmounted = um.unmounted;
  errors.push(...um.errors);
  for (const id of ids) {
    const cg = await removeLabCgroups(id);
    report.cgroupsRemoved += cg.removed;
    errors.push(...cg.errors);
  }
  report.kernelTunables = await restoreKernelTunables();
  if (state) {
    await updateLabState(stateDir, (s) => {
      s.netns = [];
      s.links = [];
      s.nodes = [];
    });
  }
  if (errors.length > 0) throw new LabError(`lab down could not remove everything in ${stateDir}: ${errors.join('; ')}. Fix: stop what still uses it, then kube-sli lab down again.`);
  await rm(labPaths(stateDir).runDir, { recursive: true, force: true });
  await removeStateDir(stateDir);
  for (const id of ids) await unregisterLab(id);
  report.removed = !(await stat(stateDir).then(() => true, () => false));
  return report;
}

export interface LabListEntry {
  labId: string;
  /** undefined: an orphan (namespaces or cgroups with no registry entry) */
  stateDir?: string;
  state: LabStatus['state'] | 'orphan';
  createdAt?: string;
}

/** Every lab on this machine: registered ones with their state, and orphans. */
export async function labList(): Promise<LabListEntry[]> {
  const out: LabListEntry[] = [];
  const known = new Set<string>();
  for (const e of await registeredLabs()) {
    known.add(e.labId);
    out.push({ labId: e.labId, stateDir: e.stateDir, state: (await labStatus(e.stateDir)).state, createdAt: e.createdAt });
  }
  for (const id of await labIdsOnMachine()) if (!known.has(id)) out.push({ labId: id, state: 'orphan' });
  return out;
}

/** `lab down --all`: every registered lab from its state dir, then whatever orphans remain. */
export async function labDownAll(onProgress: (line: string) => void = () => undefined): Promise<{ labId: string; stateDir?: string; error?: string }[]> {
  const results: { labId: string; stateDir?: string; error?: string }[] = [];
  for (const e of await labList()) {
    const stateDir = e.stateDir ?? join(defaultStateDir(), '..', `orphan-${e.labId}`);
    try {
      onProgress(`down: lab ${e.labId}${e.stateDir ? ` (${e.stateDir})` : ' (orphan: no state dir known)'}`);
      await labDown(stateDir, { labId: e.labId });
      results.push({ labId: e.labId, ...(e.stateDir ? { stateDir: e.stateDir } : {}) });
    } catch (err) {
      results.push({ labId: e.labId, ...(e.stateDir ? { stateDir: e.stateDir } : {}), error: (err as Error).message });
    }
  }
  return results;
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
  nodes?: { name: string; ready: string; hollow?: boolean }[];
  /** hollow nodes recorded for the lab (their processes are among `processes`) */
  hollowNodes?: number;
}

export async function labStatus(stateDirIn: string = defaultStateDir(), opts: { queryNodes?: boolean } = {}): Promise<LabStatus> {
  const stateDir = resolve(stateDirIn);
  const state: OrchestratedState | undefined = await readLabState(stateDir);
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
    ...(state.lab?.hollowNodes ? { hollowNodes: state.lab.hollowNodes } : {}),
  };
  if (opts.queryNodes && status.state !== 'stopped' && state.kubeconfigPath) {
    try {
      const list = await kubeClient(state.kubeconfigPath).listNode();
      status.nodes = list.items.map((n) => ({
        name: n.metadata?.name ?? '?',
        ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
        ...(isHollowNode(n) ? { hollow: true } : {}),
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
