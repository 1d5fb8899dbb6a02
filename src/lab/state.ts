// The lab's state directory: everything a `lab down` needs to undo a `lab up`, also after
// the CLI that made it was killed.
//
// Location: $KUBE_SLI_LAB_DIR if set; otherwise, as root (the lab needs root),
// /var/lib/kube-sli/lab (FHS: state of a system service, survives reboots of the user's
// session, same place for sudo and a root CI job); as a non-root user
// ${XDG_STATE_HOME:-~/.local/state}/kube-sli/lab (only used for reading/cleaning).
//
// Layout:
//   lab.json           LabState below (written atomically: temp file + fsync + rename)
//   pki/               CA, certificates, keys (0600), service-account key pair
//   kubeconfigs/       admin.kubeconfig, kube-controller-manager.kubeconfig, ...
//   logs/              one log per process (<name>.log)
//   etcd/              etcd data directory
//   nodes/, hollow/    real nodes' and hollow nodes' files
import { mkdir, open, readFile, rename, rm, rmdir, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const STATE_FILE = 'lab.json';
export const STATE_VERSION = 1;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (env.KUBE_SLI_LAB_DIR) return env.KUBE_SLI_LAB_DIR;
  if (uid === 0) return '/var/lib/kube-sli/lab';
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'kube-sli', 'lab');
}

export interface StateLayout {
  dir: string;
  stateFile: string;
  pki: string;
  kubeconfigs: string;
  logs: string;
  etcdData: string;
  adminKubeconfig: string;
}

export function stateLayout(dir: string): StateLayout {
  return {
    dir,
    stateFile: join(dir, STATE_FILE),
    pki: join(dir, 'pki'),
    kubeconfigs: join(dir, 'kubeconfigs'),
    logs: join(dir, 'logs'),
    etcdData: join(dir, 'etcd'),
    adminKubeconfig: join(dir, 'kubeconfigs', 'admin.kubeconfig'),
  };
}

/** A process the lab started. Killing is only allowed when /proc/<pid> still shows the
 * same command line and start time (so a recycled PID is never hit). */
export interface ProcessRecord {
  /** unique name in the lab, e.g. "etcd", "kube-apiserver", "kube-proxy/node-1" */
  name: string;
  pid: number;
  /** the full argv as started (compared with /proc/<pid>/cmdline) */
  argv: string[];
  /** field 22 of /proc/<pid>/stat (clock ticks since boot) */
  startTicks: number;
  logFile: string;
  startedAt: string;
}

export interface NodeRecord {
  name: string;
  netns?: string;
  [k: string]: unknown;
}

export interface LabState {
  version: typeof STATE_VERSION;
  createdAt: string;
  /** e.g. { "kube-apiserver": "v1.34.4", etcd: "3.6.4" } */
  versions: Record<string, string>;
  /** where the binaries came from and the argv prefix of each component */
  binaries: { source: string; argv: Record<string, string[]> };
  ports: Record<string, number>;
  serviceCIDR: string;
  clusterCIDR: string;
  apiServerUrl: string;
  kubeconfigPath: string;
  proxyMode?: 'iptables' | 'nftables';
  processes: ProcessRecord[];
  /** set while a start is in progress (pid of the CLI starting the lab) */
  startingPid?: number;
  nodes: NodeRecord[];
  /** network namespaces and root-namespace links the lab made (for clean-up after a crash) */
  netns: string[];
  links: string[];
}

export function emptyState(): LabState {
  return {
    version: STATE_VERSION,
    createdAt: new Date().toISOString(),
    versions: {},
    binaries: { source: '', argv: {} },
    ports: {},
    serviceCIDR: '',
    clusterCIDR: '',
    apiServerUrl: '',
    kubeconfigPath: '',
    processes: [],
    nodes: [],
    netns: [],
    links: [],
  };
}

export class StateError extends Error {}

export async function readLabState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new StateError(`${join(dir, STATE_FILE)} is not valid JSON (${(e as Error).message}); remove it by hand after checking no lab process runs`);
  }
  const s = parsed as Partial<LabState>;
  if (s.version !== STATE_VERSION) {
    throw new StateError(`${join(dir, STATE_FILE)} has version ${String(s.version)}, this kube-sli understands ${STATE_VERSION}`);
  }
  return { ...emptyState(), ...s };
}

/** Atomic write: temp file in the same directory, fsync, rename over the old file. */
export async function writeLabState(dir: string, state: LabState): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

// In-process serialisation of read-modify-write cycles (node runtime, kube-proxy and the
// control plane may record things concurrently from one CLI process).
const chains = new Map<string, Promise<unknown>>();

/** Read-modify-write of lab.json; `fn` may mutate and/or return the new state. */
export async function updateLabState(dir: string, fn: (s: LabState) => LabState | void): Promise<LabState> {
  const prev = chains.get(dir) ?? Promise.resolve();
  const next = prev.then(async () => {
    const cur = (await readLabState(dir)) ?? emptyState();
    const out = fn(cur) ?? cur;
    await writeLabState(dir, out);
    return out;
  });
  // the caller gets the error through `next`; the chain only orders the writes
  chains.set(dir, next.catch(() => undefined));
  return next;
}

/** Removes what the lab put in `dir` (only the known entries, never anything else), then
 * the directory itself if that left it empty. Missing entries are fine. */
export async function removeStateDir(dir: string): Promise<void> {
  const l = stateLayout(dir);
  // nodes/: containerd and kubelet state of the real nodes; lab down unmounts everything
  // below the state dir before it gets here
  // hollow/: the hollow nodes' kubeconfigs and kubemark's /tmp (their mounts were private)
  for (const p of [l.pki, l.kubeconfigs, l.logs, l.etcdData, join(dir, 'nodes'), join(dir, 'hollow')]) await rm(p, { recursive: true, force: true });
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n === STATE_FILE || n.startsWith(`${STATE_FILE}.tmp-`) || n === 'lock') await rm(join(dir, n), { force: true });
  }
  try {
    await rmdir(dir);
  } catch {
    /* not empty: someone else's files; leave them */
  }
}
