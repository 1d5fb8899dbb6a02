// kube-proxy's CPU on the lab, its own process and its children apart. Its /metrics
// (process_cpu_seconds_total) counts only its own process, but every sync runs `nft` (or
// iptables-restore) as a child, and the kernel adds a child's CPU to the parent's
// cutime/cstime once the parent has waited for it (proc(5), /proc/<pid>/stat fields 16-17).
// The lab started kube-proxy, so its pid is in lab.json and its /proc is readable here; on
// any other cluster this view does not exist and nothing claims it.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { procStatField } from './control-plane/process.js';
import { readLabState } from './state.js';

export interface KubeProxyTicks {
  node: string;
  pid: number;
  /** starttime: a restarted kube-proxy (another process) is not compared with the old one */
  startTicks: number;
  /** utime + stime */
  selfTicks: number;
  /** cutime + cstime: children waited for (its nft / iptables-restore runs) */
  childTicks: number;
}

/** The ticks of /proc/<pid>/stat, apart: own and waited-for children. */
export function parseProcTicks(stat: string): Pick<KubeProxyTicks, 'startTicks' | 'selfTicks' | 'childTicks'> {
  const f = (n: number): number => {
    const v = Number(procStatField(stat, n));
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat has no field ${n}: ${stat.slice(0, 120)}`);
    return v;
  };
  return { selfTicks: f(14) + f(15), childTicks: f(16) + f(17), startTicks: f(22) };
}

/** Every lab kube-proxy's ticks now (processes that are gone are left out). */
export async function readLabKubeProxyTicks(stateDir: string): Promise<KubeProxyTicks[]> {
  const state = await readLabState(stateDir);
  const out: KubeProxyTicks[] = [];
  for (const p of state?.processes ?? []) {
    if (!p.name.startsWith('kube-proxy/')) continue;
    const stat = await readFile(`/proc/${p.pid}/stat`, 'utf8').catch(() => undefined);
    if (stat) out.push({ node: p.name.slice('kube-proxy/'.length), pid: p.pid, ...parseProcTicks(stat) });
  }
  return out;
}

export interface KubeProxyCpu {
  node: string;
  /** CPU seconds of its own process over the window */
  selfSeconds: number;
  /** CPU seconds of the children it ran and waited for over the window */
  childSeconds: number;
}

/** CPU seconds per node between two readings; a node whose kube-proxy restarted between them is left out. */
export function kubeProxyCpu(before: readonly KubeProxyTicks[], after: readonly KubeProxyTicks[], ticksPerSecond: number): KubeProxyCpu[] {
  return after.flatMap((a) => {
    const b = before.find((x) => x.node === a.node && x.pid === a.pid && x.startTicks === a.startTicks);
    return b ? [{ node: a.node, selfSeconds: (a.selfTicks - b.selfTicks) / ticksPerSecond, childSeconds: (a.childTicks - b.childTicks) / ticksPerSecond }] : [];
  });
}

/** USER_HZ, the unit of /proc/<pid>/stat's times. */
export async function clockTicksPerSecond(): Promise<number> {
  const n = Number((await execa('getconf', ['CLK_TCK'])).stdout.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`getconf CLK_TCK gave "${n}"`);
  return n;
}
