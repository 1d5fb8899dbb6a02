// Labs that killed test runs leave in temporary state dirs: `kube-sli lab list` shows every
// lab on the machine and `kube-sli lab down --all` removes them all. The lab registers in
// a registry of this test's own (KUBE_SLI_LAB_REGISTRY), the way a `lab up` of a test run
// does before anything else. Note: `down --all` also removes namespaces and node cgroups of
// any lab it finds without an entry (orphans), so this file runs only where the lab
// project runs alone (one file at a time, as in CI).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/lab/binaries.js';
import { procInfo } from '../../src/lab/control-plane/index.js';
import { labDown, labUp, type OrchestratedState } from '../../src/lab/lab.js';
import { labCgroupRoots, mountsUnder } from '../../src/lab/node/teardown.js';
import { readLabState } from '../../src/lab/state.js';
import { listNetns } from '../../src/netns/netns.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(labSkipReason !== undefined)('lab list and lab down --all', () => {
  it('lists a lab left in a temporary state dir, and down --all removes everything of it', async () => {
    const registry = await mkdtemp(join(tmpdir(), 'ksli-reg-'));
    dirs.push(registry);
    const stateDir = await mkdtemp(join(tmpdir(), 'ksli-left-'));
    await rm(stateDir, { recursive: true });
    dirs.push(stateDir);
    const env = { ...process.env, KUBE_SLI_LAB_REGISTRY: registry };
    process.env.KUBE_SLI_LAB_REGISTRY = registry;
    try {
      const lab = await labUp({ stateDir, nodes: 1, proxyMode: 'nftables', ports: await freeControlPlanePorts() });
      const state = (await readLabState(stateDir)) as OrchestratedState;
      const bin = join(repoRoot(), 'bin', 'kube-sli.js');

      const list = await execa(process.execPath, [bin, 'lab', 'list', '--json'], { env });
      const labs = JSON.parse(list.stdout) as { labId: string; stateDir?: string; state: string }[];
      expect(labs).toContainEqual(expect.objectContaining({ labId: lab.labId, stateDir, state: 'up' }));

      const down = await execa(process.execPath, [bin, 'lab', 'down', '--all'], { env, reject: false });
      expect(down.exitCode, down.stderr).toBe(0);
      expect(down.stderr).toMatch(/down --all: \d+ of \d+ lab\(s\) removed/);
      expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${lab.labId}-`))).toEqual([]);
      expect(await mountsUnder(stateDir)).toEqual([]);
      expect(await labCgroupRoots(lab.labId)).toEqual([]);
      for (const p of state.processes) {
        const i = await procInfo(p.pid);
        expect(!i || i.state === 'Z', p.name).toBe(true);
      }
      const after = await execa(process.execPath, [bin, 'lab', 'list', '--json'], { env });
      expect((JSON.parse(after.stdout) as { labId: string }[]).map((l) => l.labId)).not.toContain(lab.labId);
    } finally {
      delete process.env.KUBE_SLI_LAB_REGISTRY;
    }
  }, 10 * 60_000);
});
