// Starting a lab daemon inside a node's network namespace. The wrapper (nsenter, or
// `ip netns exec`) execs the daemon in place, so the PID stays the same; the record is
// taken only once /proc shows the daemon's own argv, so `lab down` later signals exactly
// that process and never a recycled PID.
import { TIMEOUTS } from '../../timeouts.js';
import { StopWaiting, waitFor } from '../../wait-for.js';
import { logTail, procInfo, spawnDetached } from '../control-plane/process.js';
import type { ProcessRecord } from '../state.js';

/** `nsenter --net` and not `ip netns exec`: the latter remounts /sys in a new mount
 * namespace, which hides the cgroup hierarchies from a kubelet ("failed to get mounted
 * cgroup subsystems"). */
export function nsenterNet(netns: string): string[] {
  return ['nsenter', `--net=/var/run/netns/${netns}`, '--'];
}

export async function spawnInNetns(o: { name: string; wrapper: readonly string[]; argv: readonly string[]; logFile: string; env?: NodeJS.ProcessEnv; execTimeoutMs?: number }): Promise<ProcessRecord> {
  const inner = [...o.argv];
  const rec = await spawnDetached({ name: o.name, argv: [...o.wrapper, ...inner], logFile: o.logFile, ...(o.env ? { env: o.env } : {}) });
  const info = await waitFor(
    async () => {
      const i = await procInfo(rec.pid);
      if (!i || i.state === 'Z') throw new StopWaiting(new Error(`${o.name} exited at once: ${await logTail(rec.logFile)}`));
      return i.cmdline.length === inner.length && i.cmdline.every((a, k) => a === inner[k]) ? i : undefined;
    },
    { timeout: o.execTimeoutMs ?? TIMEOUTS.labExecMs, interval: TIMEOUTS.labExecPollMs, what: `${o.name} (pid ${rec.pid}) to exec` },
  );
  return { ...rec, argv: inner, startTicks: info.startTicks };
}
