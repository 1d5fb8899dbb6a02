// inotify instances: every kubelet, kube-proxy, controller and containerd opens some (file
// watches on its configuration, cAdvisor), and the kernel caps them per user with
// fs.inotify.max_user_instances, 128 by default. A lab that runs out fails late and
// obscurely ("inotify_init: too many open files" in one kubelet's log, "failed complete: too
// many open files" from kube-proxy), so lab up counts before it starts. kind's known issues
// ("Pod errors due to too many open files",
// https://kind.sigs.k8s.io/docs/user/known-issues/#pod-errors-due-to-too-many-open-files)
// give the same cause and fix.
import { readdir, readFile, readlink } from 'node:fs/promises';

export const MAX_INSTANCES_SYSCTL = '/proc/sys/fs/inotify/max_user_instances';
/** what scripts/setup.mjs raises the limit to, and the fix the error names */
export const RECOMMENDED_MAX_INSTANCES = 8192;

/**
 * Instances a lab holds, counted on the lab (v1.34.4): control plane 17 (controller-manager
 * 8, apiserver 6, scheduler 3), per real node 8 (kubelet 6, kube-proxy 1, containerd 1), per
 * hollow node 2 (kubemark's kubelet and proxy in one process). With a margin of a quarter.
 */
export function instancesNeeded(nodes: number, hollowNodes = 0, controlPlane = true): number {
  return Math.ceil(((controlPlane ? 17 : 0) + 8 * nodes + 2 * hollowNodes) * 1.25);
}

/** Pure: the problem, or undefined when the lab fits. */
export function inotifyProblem(o: { max: number; used: number; nodes: number; hollowNodes?: number; controlPlane?: boolean }): string | undefined {
  const need = instancesNeeded(o.nodes, o.hollowNodes ?? 0, o.controlPlane ?? true);
  const free = o.max - o.used;
  if (free >= need) return undefined;
  const what = [o.nodes ? `${o.nodes} node(s)` : '', o.hollowNodes ? `${o.hollowNodes} hollow node(s)` : ''].filter(Boolean).join(' and ');
  return (
    `${o.controlPlane === false ? `${what} more` : `a lab of ${what}`} needs about ${need} inotify instances, and ${Math.max(0, free)} of fs.inotify.max_user_instances = ${o.max} are free (${o.used} in use by root's processes, other labs among them); ` +
    `its kubelets and kube-proxies would fail with "too many open files". Fix: sysctl -w fs.inotify.max_user_instances=${Math.max(RECOMMENDED_MAX_INSTANCES, o.used + need)} (npm run setup raises it), or fewer nodes.`
  );
}

/** inotify instances one process holds (0 when it is gone or not readable). */
export async function instancesOf(pid: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.filter((l) => l === 'anon_inode:inotify').length;
}

/** inotify instances held by processes of this user, from /proc/<pid>/fd. */
export async function inotifyInUse(uid = process.getuid?.() ?? 0): Promise<number> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p)).map(Number);
  const counts = await Promise.all(
    pids.map(async (pid) => {
      const owner = await readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/^Uid:\s+(\d+)/m.exec(s)?.[1]), () => NaN);
      return owner === uid ? instancesOf(pid) : 0;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

export async function inotifyMax(): Promise<number> {
  return Number((await readFile(MAX_INSTANCES_SYSCTL, 'utf8')).trim());
}
