// Thin, typed wrappers over iproute2 for the network namespaces and links the kit makes.
// Every name the kit creates starts with a prefix it owns, so clean-up can find leftovers
// of a crashed run without touching anything else on the machine.
import { execa, type Options } from 'execa';

export const NETNS_PREFIX = 'ksli-';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | undefined,
  ) {
    super(`${command} failed (exit ${exitCode ?? '?'}): ${stderr.trim() || '(no stderr)'}`);
  }
}

/** Runs a command, returning stdout; failures carry the command line and stderr. */
export async function run(file: string, args: readonly string[], opts: Options = {}): Promise<string> {
  const res = await execa(file, args, { reject: false, stripFinalNewline: true, ...opts });
  if (res.exitCode !== 0 || res.failed) {
    throw new CommandError([file, ...args].join(' '), String(res.stderr ?? res.message ?? ''), res.exitCode);
  }
  return String(res.stdout ?? '');
}

/** argv prefix that runs a command inside a namespace (or as-is for the root namespace). */
export function inNetns(ns: string | undefined, argv: readonly string[]): string[] {
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : [...argv];
}

export async function runIn(ns: string | undefined, argv: readonly string[], opts: Options = {}): Promise<string> {
  const [file, ...args] = inNetns(ns, argv);
  return run(file!, args, opts);
}

export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

export async function addNetns(name: string): Promise<void> {
  if (!name.startsWith(NETNS_PREFIX)) throw new Error(`namespace "${name}" must start with "${NETNS_PREFIX}"`);
  await run('ip', ['netns', 'add', name]);
  await runIn(name, ['ip', 'link', 'set', 'lo', 'up']);
}

/** Deletes a namespace; missing is fine (clean-up must be idempotent). */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await listNetns()).includes(name)) return;
  await run('ip', ['netns', 'del', name]);
}

/** Creates a veth pair with each end born in its namespace (undefined = root), so a
 * name like eth0 never clashes with the root namespace's own links. */
export async function addVethPair(
  a: { ns?: string; name: string },
  b: { ns?: string; name: string },
): Promise<void> {
  const place = (end: { ns?: string }): string[] => (end.ns ? ['netns', end.ns] : []);
  await run('ip', ['link', 'add', 'name', a.name, ...place(a), 'type', 'veth', 'peer', 'name', b.name, ...place(b)]);
  for (const end of [a, b]) await runIn(end.ns, ['ip', 'link', 'set', end.name, 'up']);
}

export async function addAddress(ns: string | undefined, dev: string, cidr: string): Promise<void> {
  const v6 = cidr.includes(':');
  // nodad: an IPv6 address is usable at once instead of after duplicate-address detection.
  await runIn(ns, ['ip', ...(v6 ? ['-6'] : []), 'addr', 'add', cidr, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
}

export async function addRoute(ns: string | undefined, dst: string, via: string, dev?: string): Promise<void> {
  const v6 = dst.includes(':');
  await runIn(ns, ['ip', ...(v6 ? ['-6'] : []), 'route', 'add', dst, 'via', via, ...(dev ? ['dev', dev] : [])]);
}

export async function sysctl(ns: string | undefined, settings: Record<string, string | number>): Promise<void> {
  const args = Object.entries(settings).flatMap(([k, v]) => ['-w', `${k}=${v}`]);
  await runIn(ns, ['sysctl', '-q', ...args]);
}

export async function isRoot(): Promise<boolean> {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Why kernel-level work cannot run here, or undefined when it can. */
export async function kernelSkipReason(tools: readonly string[] = ['ip']): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux network namespaces; this is ${process.platform}`;
  if (!(await isRoot())) return 'needs root to create network namespaces (run as root, e.g. in CI)';
  for (const tool of tools) {
    const found = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (found.exitCode !== 0) return `needs "${tool}" on PATH (Debian: apt-get install ${debianPackageOf(tool)})`;
  }
  return undefined;
}

function debianPackageOf(tool: string): string {
  const map: Record<string, string> = {
    ip: 'iproute2',
    nft: 'nftables',
    'iptables-restore': 'iptables',
    iptables: 'iptables',
    conntrack: 'conntrack',
    tcpdump: 'tcpdump',
    iperf3: 'iperf3',
  };
  return map[tool] ?? tool;
}
