// Hollow nodes: kubemark's hollow kubelet (k8s.io/kubernetes cmd/kubemark, `kube-lab
// kubemark --morph=kubelet`) beside the lab's real nodes. Each is the real kubelet code
// with a fake container runtime, fake cAdvisor and stub container manager: it registers
// a Node, heartbeats its Lease and status, watches the pods bound to it and reports them
// Running, so the control plane carries the load of a large cluster (Nodes, pods,
// EndpointSlices with many endpoints that the real kube-proxies watch and program).
// Nothing of a dataplane: no containers, no network; every hollow pod reports the fake
// runtime's one sandbox IP. See kubernetes/community "Kubemark guide"
// (contributors/devel/sig-scalability/kubemark-guide.md) and the proposal "Kubernetes
// Network Performance Measurement via Kubemark".
//
// Where they run: all in the lab's fabric namespace (the apiserver relay listens there,
// no route leads out of it, so a kubelet's DNS lookup of its own name fails at once
// instead of leaving the machine), each on its own kubelet port, each in a private mount
// namespace whose /tmp is <state dir>/hollow/<name>/tmp: kubemark puts its root dir and
// its fake runtime's socket under a hard-coded /tmp, which so stays inside the state dir.
// The kit's own pods stay off them: the Nodes carry HOLLOW_LABEL and a NoSchedule taint
// of the same key; load meant for them tolerates it and selects the label.
import { access, mkdir, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type * as k8s from '@kubernetes/client-node';
import { writeKubeconfig } from './control-plane/kubeconfig.js';
import { LabError } from './control-plane/index.js';
import { isRecordedProcessAlive, logTail, stopRecordedProcess, type StopOutcome } from './control-plane/process.js';
import { issueCert } from './pki.js';
import type { ProcessRecord } from './state.js';
import { nsenterNet, spawnInNetns } from './node/spawn.js';
import { TIMEOUTS } from '../timeouts.js';
import { HOLLOW_LABEL, HOLLOW_NODE_SELECTOR, HOLLOW_TAINT, HOLLOW_TOLERATION, NOT_HOLLOW_AFFINITY, isHollowNode } from '../kube/hollow-nodes.js';
import { StopWaiting, waitFor } from '../wait-for.js';

export { HOLLOW_LABEL, HOLLOW_TAINT, HOLLOW_TOLERATION, HOLLOW_NODE_SELECTOR, NOT_HOLLOW_AFFINITY, isHollowNode };

/** Enough for the proposal's "hundreds"; ports HOLLOW_PORT_BASE.. must stay below 65536. */
export const MAX_HOLLOW_NODES = 2000;
/** kubelet ports of the hollow nodes in the fabric namespace: base + index. */
export const HOLLOW_PORT_BASE = 20000;
/** What one more hollow node costs in memory, measured by `npm run bench -- hollow` on the
 * lab (v1.34.4, 2 vCPU, kernel 6.18; 100 hollow kubelets, 2 pods each, from
 * /proc/<pid>/smaps_rollup): PSS mean 24.3 MiB per hollow kubelet (USS, what its exit
 * frees, mean 23.3 MiB, max 25.8 MiB; its RSS of ~122 MiB counts kube-lab's code, page
 * cache shared by all of them, whole), plus what the control plane grows per hollow node
 * (API server, etcd, controller-manager and scheduler RSS: +254 MiB from 0 to 100 hollow
 * nodes, 2.5 MiB each): 26.8 MiB, rounded up. */
export const HOLLOW_NODE_RSS_BYTES = 27 * 1024 * 1024;
/** Memory the estimate keeps free for everything else: the API server and etcd grow with
 * every Node and pod, the real nodes run containers, the suites run load. */
export const HOLLOW_MEMORY_RESERVE_BYTES = 3 * 1024 * 1024 * 1024;
/** Share of MemAvailable (after the reserve) hollow nodes may take. */
export const HOLLOW_MEMORY_SHARE = 0.75;

export function hollowNodeName(i: number): string {
  return `hollow-${i}`;
}

/** MemAvailable of /proc/meminfo text, in bytes. */
export function parseMemAvailable(meminfo: string): number {
  const m = /^MemAvailable:\s+(\d+)\s+kB$/m.exec(meminfo);
  if (!m) throw new Error('/proc/meminfo has no MemAvailable line (Linux >= 3.14 has it)');
  return Number(m[1]) * 1024;
}

export interface HollowFit {
  /** how many hollow nodes the memory allows */
  fits: number;
  /** bytes that many would need */
  needBytes: number;
  budgetBytes: number;
}

/** How many hollow nodes fit: (MemAvailable - reserve) * share / per-node RSS. Pure. */
export function hollowFit(count: number, memAvailableBytes: number, perNodeBytes = HOLLOW_NODE_RSS_BYTES): HollowFit {
  const budgetBytes = Math.max(0, (memAvailableBytes - HOLLOW_MEMORY_RESERVE_BYTES) * HOLLOW_MEMORY_SHARE);
  return { fits: Math.floor(budgetBytes / perNodeBytes), needBytes: count * perNodeBytes, budgetBytes };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Validates --hollow-nodes against the range and the machine's memory; returns the
 * error text, or undefined when it fits. Pure (MemAvailable is passed in). */
export function hollowNodesProblem(count: number, memAvailableBytes: number, perNodeBytes = HOLLOW_NODE_RSS_BYTES, existing = 0): string | undefined {
  if (!Number.isInteger(count) || count < 0 || count > MAX_HOLLOW_NODES) return `--hollow-nodes ${count} must be a whole number from 0 to ${MAX_HOLLOW_NODES}`;
  if (existing + count > MAX_HOLLOW_NODES) return `--hollow-nodes: ${count} more beside the ${existing} the lab has exceeds ${MAX_HOLLOW_NODES}`;
  if (count === 0) return undefined;
  const f = hollowFit(count, memAvailableBytes, perNodeBytes);
  if (count <= f.fits) return undefined;
  return (
    `--hollow-nodes ${count} needs about ${(f.needBytes / GiB).toFixed(1)} GiB (${(perNodeBytes / MiB).toFixed(0)} MiB per hollow kubelet), ` +
    `but this machine has ${(memAvailableBytes / GiB).toFixed(1)} GiB available; after ${(HOLLOW_MEMORY_RESERVE_BYTES / GiB).toFixed(0)} GiB kept for the control plane, ` +
    `the real nodes and the load, ${(HOLLOW_MEMORY_SHARE * 100).toFixed(0)} % of the rest holds ${f.fits}. Fix: --hollow-nodes ${f.fits} or fewer, or free memory.`
  );
}

export async function memAvailableBytes(): Promise<number> {
  return parseMemAvailable(await readFile('/proc/meminfo', 'utf8'));
}

/** The kube-lab binary answers `kubemark` (builds before hollow nodes do not). */
export async function assertKubemark(argv: readonly string[]): Promise<void> {
  const where = kubemarkPathProblem(argv);
  if (where) throw new LabError(where);
  const [file, ...pre] = argv;
  const r = await execa(file!, [...pre, '--version'], { reject: false, timeout: 30_000, all: true });
  if (r.exitCode !== 0) {
    throw new LabError(
      `${argv.join(' ')} does not run (exit ${r.exitCode ?? '?'}: ${String(r.all).trim().split('\n')[0] ?? ''}); hollow nodes need a kube-lab with the kubemark command. ` +
        'Fix: rebuild the lab binaries (scripts/build-lab-binaries.sh), or leave --hollow-nodes out.',
    );
  }
}

/** kubemark's argv prefix from the kubelet's: the multi-call binary's `kubemark` command
 * (argv [kube-lab, 'kubelet'], or a `kubelet` symlink beside `kube-lab`), else a `kubemark`
 * binary beside the kubelet. */
export async function kubemarkArgv(kubeletArgv: readonly string[]): Promise<string[]> {
  const [file, cmd] = kubeletArgv;
  if (cmd === 'kubelet') return [file!, 'kubemark'];
  const multi = join(dirname(file!), 'kube-lab');
  const isExe = (p: string): Promise<boolean> => access(p, constants.X_OK).then(() => true, () => false);
  if (basename(file!) === 'kubelet' && (await isExe(multi))) return [multi, 'kubemark'];
  return [join(dirname(file!), 'kubemark')];
}

/** The one cgroup (cpu hierarchy) of all hollow kubelets of a lab; its ksli-<labId>-
 * prefix makes lab down remove it with the lab's other cgroups. */
export const HOLLOW_CPU_CGROUP = (labId: string): string => `/ksli-${labId}-hollow-daemons`;
/** cpu.shares of that cgroup: half the control plane's (CPU_SHARES.controlPlane, 256). */
export const HOLLOW_CPU_SHARES = 128;

export function hollowDir(stateDir: string, name?: string): string {
  return name === undefined ? join(stateDir, 'hollow') : join(stateDir, 'hollow', name);
}

/** kubemark runs with its own /tmp: a binary under the host's /tmp would be hidden. */
export function kubemarkPathProblem(argv: readonly string[]): string | undefined {
  const f = argv[0] ?? '';
  return f === '/tmp' || f.startsWith('/tmp/')
    ? `${f} is under /tmp, which each hollow node replaces with its own directory (kubemark writes to a fixed /tmp). Fix: put the lab binaries elsewhere (KUBE_SLI_K8S_BIN_DIR), or leave --hollow-nodes out.`
    : undefined;
}

/** kubemark's flags for one hollow kubelet. Pure. */
export function hollowKubeletArgs(o: { name: string; kubeconfig: string; port: number }): string[] {
  return [
    '--morph=kubelet',
    `--name=${o.name}`,
    `--kubeconfig=${o.kubeconfig}`,
    `--kubelet-port=${o.port}`,
    '--kubelet-read-only-port=0',
    `--node-labels=${HOLLOW_LABEL}=true`,
    `--register-with-taints=${HOLLOW_TAINT.key}=${HOLLOW_TAINT.value}:${HOLLOW_TAINT.effect}`,
    // the fake runtime's image service: no containerd on the host is asked
    '--use-host-image-service=false',
    '--v=0',
  ];
}

/** The wrapper: fabric namespace, then a private mount namespace with /tmp on `tmpDir`. */
export function hollowWrapper(fabricNetns: string, tmpDir: string): string[] {
  return [...nsenterNet(fabricNetns), 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /tmp && exec "$@"', tmpDir];
}

export interface StartHollowOptions {
  stateDir: string;
  count: number;
  /** index of the first (hollow-<first>; a lab that has some adds more after them) */
  first?: number;
  /** argv prefix of kubemark, e.g. [kube-lab, 'kubemark'] */
  kubemarkArgv: readonly string[];
  fabricNetns: string;
  /** the API server as seen in the fabric namespace (the relay) */
  apiServerUrl: string;
  pkiDir: string;
  caFile: string;
  logDir: string;
  onProcess: (rec: ProcessRecord) => Promise<void>;
  onProgress?: (line: string) => void;
}

/** Starts `count` hollow kubelets, a few at a time (each start is a certificate and an
 * exec); each is recorded through onProcess as soon as it runs. */
export async function startHollowNodes(o: StartHollowOptions): Promise<ProcessRecord[]> {
  const first = o.first ?? 0;
  const names = Array.from({ length: o.count }, (_, i) => hollowNodeName(first + i));
  const out: ProcessRecord[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const name = names[i]!;
      const dir = hollowDir(o.stateDir, name);
      const tmp = join(dir, 'tmp');
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      // the Node authorizer and NodeRestriction hold each hollow kubelet to its own Node
      const client = await issueCert(o.pkiDir, { name: `hollow-${name}-client`, cn: `system:node:${name}`, orgs: ['system:nodes'], usage: 'client' });
      // in its own /tmp: kubemark sees the state dir's files only there (the state dir
      // itself may be under the /tmp it no longer sees)
      await writeKubeconfig(join(tmp, 'kubeconfig'), { server: o.apiServerUrl, caFile: o.caFile, client, user: `system:node:${name}` });
      const rec = await spawnInNetns({
        name: `hollow/${name}`,
        wrapper: hollowWrapper(o.fabricNetns, tmp),
        argv: [...o.kubemarkArgv, ...hollowKubeletArgs({ name, kubeconfig: '/tmp/kubeconfig', port: HOLLOW_PORT_BASE + first + i })],
        logFile: join(o.logDir, `hollow-${name}.log`),
      });
      await o.onProcess(rec);
      out[i] = rec;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
  o.onProgress?.(`${o.count} hollow nodes started (${names[0]} … ${names.at(-1)})`);
  return out;
}

/** Waits until every hollow Node is Ready; fails at once when one of them exited. */
export async function waitHollowReady(api: k8s.CoreV1Api, recs: readonly ProcessRecord[], timeoutMs = TIMEOUTS.labHollowReadyMs): Promise<void> {
  const want = new Set(recs.map((r) => r.name.slice('hollow/'.length)));
  let turn = 0;
  await waitFor(
    async () => {
      const list = await api.listNode({ labelSelector: `${HOLLOW_LABEL}=true` });
      const readyNames = new Set(list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? ''));
      const ready = [...want].filter((n) => readyNames.has(n)).length;
      // a node that is not Ready yet may be one whose process exited: check those, at most
      // 25 per poll (2 /proc reads each), a different slice each poll so all are reached
      const waiting = recs.filter((r) => !readyNames.has(r.name.slice('hollow/'.length)));
      const slice = waiting.length <= 25 ? waiting : Array.from({ length: 25 }, (_, i) => waiting[(turn * 25 + i) % waiting.length]!);
      turn++;
      for (const r of slice) {
        if (!(await isRecordedProcessAlive(r))) throw new StopWaiting(new LabError(`${r.name} (pid ${r.pid}) exited; log ${r.logFile}:\n${await logTail(r.logFile)}`));
      }
      return ready === want.size ? true : { pending: `${ready} of ${want.size} hollow nodes Ready` };
    },
    { timeout: timeoutMs, interval: TIMEOUTS.labHollowPollMs, what: `${want.size} hollow nodes Ready (logs: the state dir's logs/hollow-*.log)` },
  ).catch((e: unknown) => {
    throw e instanceof LabError ? e : new LabError((e as Error).message);
  });
}

export interface ProcessMemory {
  /** resident, shared pages counted whole in every process that maps them */
  rssBytes: number;
  /** proportional set size: each shared page divided among the processes that map it */
  pssBytes: number;
  /** unique set size: pages only this process maps (Private_Clean + Private_Dirty), what its exit frees */
  ussBytes: number;
  /** anonymous memory (heap, stacks), shared or not */
  anonBytes: number;
}

/** /proc/<pid>/smaps_rollup text (Linux >= 4.14) in bytes. Pure. */
export function parseSmapsRollup(text: string): ProcessMemory {
  const kB = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`smaps_rollup has no ${field} line (Linux >= 4.14 has it)`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kB('Rss'), pssBytes: kB('Pss'), ussBytes: kB('Private_Clean') + kB('Private_Dirty'), anonBytes: kB('Anonymous') };
}

/** PSS, USS and RSS of a process (undefined when gone). */
export async function processMemory(pid: number): Promise<ProcessMemory | undefined> {
  const t = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => undefined);
  return t ? parseSmapsRollup(t) : undefined;
}

/** VmRSS of a process in bytes (undefined when gone). */
export async function processRssBytes(pid: number): Promise<number | undefined> {
  const t = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const m = t ? /^VmRSS:\s+(\d+)\s+kB$/m.exec(t) : null;
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Stops the recorded hollow kubelets, many at once (one at a time, 500 would take
 * minutes). Only processes whose /proc still matches their record are signalled. */
export async function stopHollowNodes(recs: readonly ProcessRecord[], graceMs: number): Promise<{ name: string; pid: number; outcome: StopOutcome }[]> {
  const hollow = recs.filter((r) => r.name.startsWith('hollow/'));
  const out: { name: string; pid: number; outcome: StopOutcome }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hollow.length) {
      const r = hollow[next++]!;
      out.push({ name: r.name, pid: r.pid, outcome: await stopRecordedProcess(r, graceMs) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(64, hollow.length) }, worker));
  return out;
}
