// Builds bench/bulk-create-go (the client-go side of `npm run bench -- services`) on
// demand and caches it outside the work tree. It is built against the lab's own module
// graph: its go.mod is lab/k8s/go.mod with another module name, so client-go is the one
// of the lab's Kubernetes release (v0.<minor>.<patch>, the release's staging tree as
// published), every other module at the version the release tested, and the compiled
// packages are mostly in the Go build cache already from the lab's build. Nothing of the
// lab's build changes: lab/k8s and scripts/build-lab-binaries.sh are only read.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../src/lab/binaries.js';
import { kubeSliCacheRoot } from '../src/lab/kube-proxy-build.js';

export const BULK_CREATE_DIR = join(repoRoot(), 'bench', 'bulk-create-go');
const LAB_MODULE_DIR = join(repoRoot(), 'lab', 'k8s');
/** go build flags (part of the cache key) */
const BUILD_ARGS = ['build', '-trimpath', '-ldflags=-s -w'];
/** a cold build compiles client-go and its dependencies: minutes on 2 loaded cores */
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** lab/k8s/go.mod as the module of bulk-create: another name, no `tool` lines (agnhost). */
export function bulkCreateGoMod(labGoMod: string): string {
  const lines = labGoMod.split('\n');
  if (!lines.some((l) => /^module\s+\S+/.test(l))) throw new Error('lab/k8s/go.mod has no module line');
  if (!/^\s*k8s\.io\/client-go\s+v\S+/m.test(labGoMod)) throw new Error('lab/k8s/go.mod does not require k8s.io/client-go');
  return lines
    .filter((l) => !/^tool\s/.test(l) && !/^\/\/ Code generated/.test(l))
    .map((l) => (/^module\s/.test(l) ? 'module kube-sli/bench/bulk-create' : l))
    .join('\n');
}

/** The cache key: main.go, the lab's go.mod/go.sum, its Kubernetes version and the build flags. */
export function bulkCreateKey(parts: { mainGo: string; labGoMod: string; labGoSum: string; k8sVersion: string }): string {
  const h = createHash('sha256');
  for (const p of [parts.mainGo, parts.labGoMod, parts.labGoSum, parts.k8sVersion.trim(), BUILD_ARGS.join(' ')]) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function executable(p: string): Promise<boolean> {
  return access(p, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export interface BulkCreateBinary {
  binary: string;
  k8sVersion: string;
  built: boolean;
  buildSeconds?: number;
}

/** The cached bulk-create binary, built first when absent. */
export async function ensureBulkCreateGo(o: { env?: NodeJS.ProcessEnv; onProgress?: (m: string) => void } = {}): Promise<BulkCreateBinary> {
  const env = o.env ?? process.env;
  const [mainGo, labGoMod, labGoSum, k8sVersion] = await Promise.all(
    [join(BULK_CREATE_DIR, 'main.go'), join(LAB_MODULE_DIR, 'go.mod'), join(LAB_MODULE_DIR, 'go.sum'), join(LAB_MODULE_DIR, 'K8S_VERSION')].map((p) => readFile(p, 'utf8')),
  ) as [string, string, string, string];
  const version = k8sVersion.trim();
  const key = bulkCreateKey({ mainGo, labGoMod, labGoSum, k8sVersion });
  const root = kubeSliCacheRoot(env);
  const binary = join(root, 'bin', `bulk-create-${version}-${key}`);
  if (await executable(binary)) return { binary, k8sVersion: version, built: false };

  const buildDir = join(root, 'build', `bulk-create-${key}`);
  await mkdir(buildDir, { recursive: true });
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(buildDir, 'go.mod'), bulkCreateGoMod(labGoMod));
  await writeFile(join(buildDir, 'go.sum'), labGoSum);
  await writeFile(join(buildDir, 'main.go'), mainGo);
  o.onProgress?.(`building bulk-create (client-go of Kubernetes ${version}) in ${buildDir} -> ${binary}`);
  const t0 = performance.now();
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    const r = await execa('nice', ['-n', '15', 'go', ...BUILD_ARGS, '-o', tmp, '.'], {
      cwd: buildDir,
      // -mod=mod: go build records the go.sum lines it needs (the lab's go.sum has them all)
      env: { ...env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0', GO111MODULE: 'on' },
      extendEnv: false,
      reject: false,
      all: true,
      timeout: BUILD_TIMEOUT_MS,
    }).catch((e: unknown) => {
      throw new Error(`bulk-create: cannot run "go" (${(e as Error).message}): install Go >= 1.21, as for the lab's own build`);
    });
    if (r.exitCode !== 0) {
      throw new Error(`bulk-create: go build in ${buildDir} failed (exit ${r.exitCode ?? r.signal}): ${String(r.all ?? '').trim().split('\n').slice(-8).join('\n')}`);
    }
    await rename(tmp, binary);
  } finally {
    await rm(tmp, { force: true });
  }
  return { binary, k8sVersion: version, built: true, buildSeconds: (performance.now() - t0) / 1000 };
}
