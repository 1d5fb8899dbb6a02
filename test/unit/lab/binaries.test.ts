import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BinariesError, COMPONENTS, findBinaries } from '../../../src/lab/binaries.js';

// Lookup only: the "binaries" here are empty executables; nothing runs them.
let root: string;
async function exe(dir: string, name: string, body = 'exit 0'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}
const noBuild = join('/nonexistent', 'build.sh');

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ksli-bin-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('findBinaries: KUBE_SLI_K8S_BIN_DIR', () => {
  it('uses separate release binaries', async () => {
    const d = join(root, 'rel');
    for (const c of COMPONENTS) await exe(d, c);
    const b = await findBinaries({ env: { KUBE_SLI_K8S_BIN_DIR: d, PATH: '' }, buildScript: noBuild });
    expect(b.source).toBe('env');
    expect(b.argv['kube-apiserver']).toEqual([join(d, 'kube-apiserver')]);
    expect(b.agnhost).toBeUndefined();
  });

  it('uses a kube-lab multi-call binary, with separate files winning per component', async () => {
    const d = join(root, 'multi');
    const kl = await exe(d, 'kube-lab');
    await exe(d, 'etcd');
    await exe(d, 'agnhost');
    const b = await findBinaries({ env: { KUBE_SLI_K8S_BIN_DIR: d, PATH: '' }, buildScript: noBuild });
    expect(b.argv.etcd).toEqual([join(d, 'etcd')]);
    expect(b.argv['kube-scheduler']).toEqual([kl, 'kube-scheduler']);
    expect(b.argv.kubectl).toEqual([kl, 'kubectl']);
    expect(b.agnhost).toBe(join(d, 'agnhost'));
  });

  it('wins over PATH', async () => {
    const d = join(root, 'env');
    await exe(d, 'kube-lab');
    const p = join(root, 'path');
    await exe(p, 'kube-lab');
    const b = await findBinaries({ env: { KUBE_SLI_K8S_BIN_DIR: d, PATH: p }, buildScript: noBuild });
    expect(b.argv.etcd[0]).toBe(join(d, 'kube-lab'));
  });

  it('names a missing directory and the fix', async () => {
    await expect(findBinaries({ env: { KUBE_SLI_K8S_BIN_DIR: join(root, 'nope'), PATH: '' } })).rejects.toThrow(
      /KUBE_SLI_K8S_BIN_DIR=.*nope is not a directory.*Fix/,
    );
  });

  it('names the missing components of an incomplete directory (no silent fallback)', async () => {
    const d = join(root, 'partial');
    await exe(d, 'kube-apiserver');
    await exe(d, 'etcd');
    await writeFile(join(d, 'kubectl'), 'not executable');
    const p = join(root, 'path');
    await exe(p, 'kube-lab');
    const err = await findBinaries({ env: { KUBE_SLI_K8S_BIN_DIR: d, PATH: p } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BinariesError);
    expect((err as Error).message).toMatch(/lacks kube-controller-manager, kube-scheduler, kube-proxy, kubectl/);
  });
});

describe('findBinaries: PATH', () => {
  it('uses kube-lab on PATH', async () => {
    const p1 = join(root, 'a');
    const p2 = join(root, 'b');
    await mkdir(p1);
    const kl = await exe(p2, 'kube-lab');
    const b = await findBinaries({ env: { PATH: `${p1}:${p2}` }, buildScript: noBuild });
    expect(b.source).toBe('path');
    expect(b.argv['kube-proxy']).toEqual([kl, 'kube-proxy']);
  });

  it('uses separate binaries on PATH only when all are there', async () => {
    const p = join(root, 'p');
    for (const c of COMPONENTS) await exe(p, c);
    const b = await findBinaries({ env: { PATH: p }, buildScript: noBuild });
    expect(b.argv.kubectl).toEqual([join(p, 'kubectl')]);
  });
});

describe('findBinaries: build', () => {
  it('runs the build script when PATH is incomplete, and reports progress', async () => {
    const out = join(root, 'cache');
    const kl = await exe(out, 'kube-lab');
    const ag = await exe(out, 'agnhost');
    const p = join(root, 'p');
    await exe(p, 'kubectl'); // a lone kubectl on PATH is not enough
    const script = await exe(root, 'build.sh', `echo "[build 0s] building" >&2\necho ${kl}\necho ${ag}`);
    const lines: string[] = [];
    const b = await findBinaries({ env: { PATH: `${p}:/usr/bin:/bin` }, buildScript: script, onProgress: (l) => lines.push(l) });
    expect(b.source).toBe('build');
    expect(b.argv.kubectl).toEqual([kl, 'kubectl']);
    expect(b.agnhost).toBe(ag);
    expect(lines).toContain('[build 0s] building');
  });

  it('turns a Go version failure into a clear error', async () => {
    const script = await exe(
      root,
      'build.sh',
      `echo "build-lab-binaries: ERROR: Go 1.19.8 is too old: lab/k8s/go.mod needs go >= 1.24.0." >&2\nexit 1`,
    );
    const err = await findBinaries({ env: { PATH: '/usr/bin:/bin' }, buildScript: script, onProgress: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BinariesError);
    expect((err as Error).message).toMatch(/Go 1\.19\.8 is too old.*Go toolchain problem.*GOTOOLCHAIN=go1\.25\.0/s);
  });

  it('fails clearly when building is off or the script is missing', async () => {
    await expect(findBinaries({ env: { PATH: '' }, build: false })).rejects.toThrow(/no Kubernetes binaries found.*build-lab-binaries/);
    await expect(findBinaries({ env: { PATH: '' }, buildScript: noBuild })).rejects.toThrow(/build script .* is missing/);
  });
});
