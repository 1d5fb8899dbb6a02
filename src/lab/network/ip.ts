// iproute2 helpers the lab network needs beyond src/netns: `ip -n` (no /sys remount,
// cheaper than `ip netns exec`), batches, link MACs and the processes inside a namespace.
import { TIMEOUTS } from '../../timeouts.js';
import { waitFor, WaitTimeoutError } from '../../wait-for.js';
import { existsSync } from 'node:fs';
import { CommandError, run } from '../../netns/netns.js';

/** `ip -n <ns> …` */
export async function ipn(ns: string, args: readonly string[]): Promise<string> {
  return run('ip', ['-n', ns, ...args]);
}

/** Runs many `ip` commands in one process (`ip -n <ns> -batch -`); stops at the first error. */
export async function ipBatch(ns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await run('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

export async function linkMac(ns: string, dev: string): Promise<string> {
  const out = await ipn(ns, ['-j', 'link', 'show', 'dev', dev]);
  const parsed = JSON.parse(out) as { address?: string }[];
  const mac = parsed[0]?.address;
  if (!mac) throw new Error(`no MAC address for ${dev} in ${ns}`);
  return mac;
}

/** Deletes a link; a link that is already gone is fine. */
export async function deleteLinkIfPresent(ns: string, dev: string): Promise<boolean> {
  try {
    await ipn(ns, ['link', 'del', 'dev', dev]);
    return true;
  } catch (e) {
    if (e instanceof CommandError && /Cannot find device|does not exist|No such device/i.test(e.stderr)) return false;
    throw e;
  }
}

/** The namespace's own sysctls that keep a lab namespace quiet and of the lab's families.
 * Without IPv6, IPv6 is off in the namespace. With it: on, no duplicate-address detection
 * (every address is planned, and a tentative address would refuse connections for the
 * first second), and forwarding when the namespace routes. Bridge netfilter is per
 * namespace since Linux 5.3; when br_netfilter is loaded a new namespace starts with
 * bridge-nf-call-iptables=1, which the lab never needs. Set before any link is made:
 * links take the `default` values when they are created. */
export function baseSysctls(opts: { bridgeNetfilterOff?: boolean; ipv6?: boolean; forwarding?: boolean } = {}): Record<string, number> {
  const s: Record<string, number> = opts.ipv6
    ? {
        'net.ipv6.conf.all.disable_ipv6': 0,
        'net.ipv6.conf.default.disable_ipv6': 0,
        'net.ipv6.conf.all.accept_dad': 0,
        'net.ipv6.conf.default.accept_dad': 0,
        'net.ipv6.conf.all.accept_ra': 0,
        'net.ipv6.conf.default.accept_ra': 0,
        ...(opts.forwarding ? { 'net.ipv6.conf.all.forwarding': 1 } : {}),
      }
    : {
        'net.ipv6.conf.all.disable_ipv6': 1,
        'net.ipv6.conf.default.disable_ipv6': 1,
      };
  if (opts.forwarding) s['net.ipv4.ip_forward'] = 1;
  if (opts.bridgeNetfilterOff && existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    s['net.bridge.bridge-nf-call-iptables'] = 0;
    s['net.bridge.bridge-nf-call-ip6tables'] = 0;
    s['net.bridge.bridge-nf-call-arptables'] = 0;
  }
  return s;
}

/** PIDs of processes whose network namespace is `ns` (`ip netns pids`). */
export async function netnsPids(ns: string): Promise<number[]> {
  try {
    const out = await run('ip', ['netns', 'pids', ns]);
    return out
      .split(/\s+/)
      .filter((t) => /^\d+$/.test(t))
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, every process in the namespace. Returns the PIDs signalled. */
export async function killNetnsProcesses(ns: string, graceMs = 2_000): Promise<number[]> {
  const pids = (await netnsPids(ns)).filter((p) => p !== process.pid);
  if (pids.length === 0) return [];
  for (const pid of pids) signal(pid, 'SIGTERM');
  await waitFor(() => Promise.resolve(!pids.some(alive)), { timeout: graceMs, interval: TIMEOUTS.labStopPollMs, what: `processes of ${ns} to exit` }).catch((e: unknown) => {
    if (!(e instanceof WaitTimeoutError)) throw e; // still running: SIGKILL below
  });
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

