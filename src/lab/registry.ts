// Every lab on this machine, wherever its state dir is: `lab up` writes one small entry
// per lab (<registry>/<labId>.json → its state dir) before it makes anything, `lab down`
// removes it last. `lab list` reads the entries and also finds what no entry explains
// (namespaces or node cgroups of a lab whose entry is gone), so `lab down --all` can
// remove labs that killed test runs left in temporary state dirs.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listNetns } from '../netns/netns.js';
import { LAB_NETNS_PREFIX } from './network/plan.js';
import { CGROUP_V1_ROOT } from './node/teardown.js';

export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBE_SLI_LAB_REGISTRY || '/var/lib/kube-sli/labs';
}

export interface RegistryEntry {
  labId: string;
  stateDir: string;
  createdAt: string;
  pid: number;
}

export async function registerLab(e: Omit<RegistryEntry, 'createdAt' | 'pid'>, dir = registryDir()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${e.labId}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...e, createdAt: new Date().toISOString(), pid: process.pid }, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

export async function unregisterLab(labId: string, dir = registryDir()): Promise<void> {
  await rm(join(dir, `${labId}.json`), { force: true });
}

export async function registeredLabs(dir = registryDir()): Promise<RegistryEntry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: RegistryEntry[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as RegistryEntry);
    } catch {
      /* a torn entry: its lab shows up as an orphan below */
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Lab ids that own namespaces (ksli-lab-<id>-…) or node cgroups (ksli-<id>-node…) now. */
export async function labIdsOnMachine(): Promise<string[]> {
  const ids = new Set<string>();
  for (const ns of await listNetns()) {
    if (!ns.startsWith(LAB_NETNS_PREFIX)) continue;
    const id = ns.slice(LAB_NETNS_PREFIX.length).split('-')[0];
    if (id) ids.add(id);
  }
  for (const e of await readdir(join(CGROUP_V1_ROOT, 'pids')).catch(() => [] as string[])) {
    const m = /^ksli-([a-z0-9]+)-node/.exec(e);
    if (m) ids.add(m[1]!);
  }
  return [...ids].sort();
}
