// Undoing what real nodes leave on the host once their kubelet and containerd are
// stopped: container processes (in pod network namespaces, found through the node's
// cgroups), mounts (container root filesystems, pod volumes, pod network namespaces, all
// under the state dir), the cgroups themselves, and the kernel tunables a kubelet sets
// machine-wide. Works from the state dir and the lab id alone, also after SIGKILL.
import { TIMEOUTS } from '../../timeouts.js';
import { waitFor } from '../../wait-for.js';
import { readdir, readFile, rm, rmdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

export const CGROUP_V1_ROOT = '/sys/fs/cgroup';

/** The hierarchies a cgroupfs kubelet checks and writes to: every mounted v1 hierarchy,
 * the named systemd one included (not the v2 mount beside them). */
async function hierarchies(): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(CGROUP_V1_ROOT, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name !== 'unified') out.push(join(CGROUP_V1_ROOT, e.name));
  }
  return out;
}

/** Creates the node's cgroup root in every hierarchy: the kubelet refuses a cgroupRoot
 * that is missing anywhere. A new cpuset cgroup starts with no CPUs and no memory nodes,
 * so it gets its parent's. */
export async function createNodeCgroupRoot(cgroupRoot: string): Promise<void> {
  for (const h of await hierarchies()) {
    const dir = join(h, cgroupRoot);
    await mkdir(dir, { recursive: true });
    if (h.endsWith('/cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const current = (await readFile(join(dir, f), 'utf8')).trim();
        if (current === '') await writeFile(join(dir, f), (await readFile(join(h, f), 'utf8')).trim());
      }
    }
  }
}

/** CPU weights (cgroup v1 cpu.shares) that make one 2-core machine behave like a cluster:
 *  - the control plane (and the lab daemon's relays, its network path) runs on machines of
 *    its own in a real cluster: one cgroup, a small weight, so it does not take the nodes'
 *    CPU from their pods;
 *  - a node's daemons (kubelet, containerd with its shims, kube-proxy) share one cgroup,
 *    as system.slice does on a real node, instead of each weighing as much as all of the
 *    node's pods together;
 *  - the node's pods are in the kubelet's cgroup root (default weight 1024). */
export const CPU_SHARES = { controlPlane: 256, nodeDaemons: 1024 } as const;

export function controlPlaneCgroup(labId: string): string {
  return `/ksli-${labId}-control-plane`;
}

export function nodeDaemonsCgroup(labId: string, node: string): string {
  return `/ksli-${labId}-${node}-daemons`;
}

/** Moves processes (every thread) into a cgroup of the cpu hierarchy with this weight. Its
 * removal goes with the lab's other cgroups (same ksli-<labId>- prefix). */
export async function confineCpu(cgroup: string, shares: number, pids: readonly number[]): Promise<void> {
  const dir = join(CGROUP_V1_ROOT, 'cpu', cgroup);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'cpu.shares'), String(shares));
  for (const pid of pids) await writeFile(join(dir, 'cgroup.procs'), String(pid));
}

/** Cgroup directories of one lab's nodes (ksli-<labId>-<node>), in every hierarchy. */
export async function labCgroupRoots(labId: string): Promise<string[]> {
  const roots: string[] = [];
  for (const h of await hierarchies()) {
    for (const e of await readdir(h, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && e.name.startsWith(`ksli-${labId}-`)) roots.push(join(h, e.name));
    }
  }
  return roots;
}

/** Every cgroup directory below (and including) dir, deepest first. */
async function cgroupTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await cgroupTree(join(dir, e.name))));
  }
  out.push(dir);
  return out;
}

async function procsOf(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
}

export interface NodeTeardownReport {
  killedPids: number[];
  unmounted: string[];
  cgroupsRemoved: number;
  errors: string[];
}

/** SIGKILL every process in the lab's node cgroups (the pods' containers). */
export async function killCgroupProcesses(labId: string): Promise<number[]> {
  const killed = new Set<number>();
  // a process may fork while its siblings die: kill until the cgroups are empty
  await waitFor(
    async () => {
      const pids = new Set<number>();
      for (const root of await labCgroupRoots(labId)) for (const d of await cgroupTree(root)) for (const p of await procsOf(d)) pids.add(p);
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
          killed.add(p);
        } catch {
          /* gone already */
        }
      }
      return pids.size === 0 ? true : { pending: `${pids.size} processes left in the cgroups of lab ${labId}` };
    },
    { timeout: TIMEOUTS.labKillMs, interval: TIMEOUTS.labStopPollMs, what: `every process in the cgroups of lab ${labId} killed` },
  );
  return [...killed];
}

/** Mount points at or below dir, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const pts = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => typeof p === 'string' && p.length > 0)
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(pts)].sort((a, b) => b.length - a.length);
}

export async function unmountUnder(dir: string): Promise<{ unmounted: string[]; errors: string[] }> {
  const unmounted: string[] = [];
  const errors: string[] = [];
  // a mount can hide another at the same point: repeat until nothing is left
  for (let round = 0; round < 5; round++) {
    const pts = await mountsUnder(dir);
    if (pts.length === 0) break;
    for (const p of pts) {
      const r = await execa('umount', [p], { reject: false });
      if (r.exitCode === 0) unmounted.push(p);
      else {
        const lazy = await execa('umount', ['-l', p], { reject: false });
        if (lazy.exitCode === 0) unmounted.push(p);
        else if (round === 4) errors.push(`${p}: ${String(lazy.stderr).trim()}`);
      }
    }
  }
  return { unmounted, errors };
}

/** Removes the lab's node cgroups, deepest first (they must be empty). */
export async function removeLabCgroups(labId: string): Promise<{ removed: number; errors: string[] }> {
  let removed = 0;
  const errors: string[] = [];
  for (const root of await labCgroupRoots(labId)) {
    for (const d of await cgroupTree(root)) {
      try {
        await rmdir(d);
        removed++;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') errors.push(`${d}: ${code ?? (e as Error).message}`);
      }
    }
  }
  return { removed, errors };
}

export async function teardownNodes(stateDir: string, labId: string): Promise<NodeTeardownReport> {
  const killedPids = await killCgroupProcesses(labId);
  const um = await unmountUnder(join(stateDir, 'nodes'));
  const cg = await removeLabCgroups(labId);
  return { killedPids, unmounted: um.unmounted, cgroupsRemoved: cg.removed, errors: [...um.errors, ...cg.errors] };
}

// --- kernel tunables ---------------------------------------------------------------
// The kubelet's container manager sets these machine-wide on start (they are not per
// network namespace). The first lab records the values it found; when the last lab with
// kubelets goes down, they are put back.
export const KUBELET_TUNABLES = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'] as const;
export const TUNABLES_FILE = '/var/lib/kube-sli/kernel-tunables.json';

export async function recordKernelTunables(file = TUNABLES_FILE): Promise<void> {
  if (await stat(file).then(() => true, () => false)) return;
  const values: Record<string, string> = {};
  for (const t of KUBELET_TUNABLES) values[t] = (await readFile(`/proc/sys/${t}`, 'utf8')).trim();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ recordedAt: new Date().toISOString(), values }, null, 2) + '\n');
}

/** Puts the recorded values back when no lab's kubelet cgroups remain on the machine. */
export async function restoreKernelTunables(file = TUNABLES_FILE): Promise<'restored' | 'other-labs-up' | 'nothing-recorded' | `failed: ${string}`> {
  let rec: { values: Record<string, string> };
  try {
    rec = JSON.parse(await readFile(file, 'utf8')) as { values: Record<string, string> };
  } catch {
    return 'nothing-recorded';
  }
  for (const h of await hierarchies()) {
    const others = (await readdir(h, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && e.name.startsWith('ksli-'));
    if (others.length > 0) return 'other-labs-up';
  }
  const failed: string[] = [];
  for (const [t, v] of Object.entries(rec.values)) {
    if ((KUBELET_TUNABLES as readonly string[]).includes(t)) await writeFile(`/proc/sys/${t}`, v).catch((e: unknown) => failed.push(`${t}=${v} (${(e as Error).message})`));
  }
  // keep the record so that the next lab down tries again
  if (failed.length > 0) return `failed: could not put back ${failed.join(', ')}; the values stay recorded in ${file}`;
  await rm(file, { force: true });
  return 'restored';
}
