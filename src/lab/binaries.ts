// Where the lab's Kubernetes binaries come from, in this order:
//  1. $KUBE_SLI_K8S_BIN_DIR: official release binaries (separate etcd, kube-apiserver, ...)
//     or a `kube-lab` multi-call binary; per component the separate file wins.
//     If set, it must be complete: no silent fallback to something else.
//  2. PATH: a `kube-lab` multi-call binary, else all components as separate binaries.
//  3. Build: scripts/build-lab-binaries.sh (a no-op when its cache is current).
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
  'kubelet',
] as const;
export type Component = (typeof COMPONENTS)[number];

export interface LabBinaries {
  source: 'env' | 'path' | 'build';
  /** component → argv prefix, e.g. { 'kube-apiserver': ['/…/kube-lab', 'kube-apiserver'] } */
  argv: Record<Component, string[]>;
  /** agnhost, when found next to the components (the build always provides it) */
  agnhost?: string;
  /** upstream's e2e tests (lab/k8s/e2e), when found next to the components */
  e2eTest?: string;
}

export class BinariesError extends Error {}

export interface FindBinariesOptions {
  env?: NodeJS.ProcessEnv;
  /** the build script (default: <repo>/scripts/build-lab-binaries.sh) */
  buildScript?: string;
  /** build progress lines; default: written to stderr */
  onProgress?: (line: string) => void;
  /** false: do not build, fail instead */
  build?: boolean;
}

export function repoRoot(): string {
  // src/lab/binaries.ts → repo root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const s = await stat(p);
    if (!s.isFile()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves every component from one directory; returns the missing ones. */
async function fromDir(dir: string): Promise<{ argv: Partial<Record<Component, string[]>>; missing: Component[]; agnhost?: string; e2eTest?: string }> {
  const argv: Partial<Record<Component, string[]>> = {};
  const missing: Component[] = [];
  const multi = join(dir, 'kube-lab');
  const hasMulti = await isExecutableFile(multi);
  for (const c of COMPONENTS) {
    const own = join(dir, c);
    if (await isExecutableFile(own)) argv[c] = [own];
    else if (hasMulti) argv[c] = [multi, c];
    else missing.push(c);
  }
  const agnhost = join(dir, 'agnhost');
  const e2eTest = join(dir, 'e2e.test');
  return { argv, missing, ...((await isExecutableFile(agnhost)) ? { agnhost } : {}), ...((await isExecutableFile(e2eTest)) ? { e2eTest } : {}) };
}

async function onPath(name: string, pathVar: string): Promise<string | undefined> {
  for (const d of pathVar.split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    if (await isExecutableFile(p)) return p;
  }
  return undefined;
}

export async function findBinaries(opts: FindBinariesOptions = {}): Promise<LabBinaries> {
  const env = opts.env ?? process.env;

  const envDir = env.KUBE_SLI_K8S_BIN_DIR;
  if (envDir) {
    // whatever makes stat fail (missing, unreadable), the directory cannot be used: said below
    const s = await stat(envDir).catch(() => undefined);
    if (!s?.isDirectory()) {
      throw new BinariesError(
        `KUBE_SLI_K8S_BIN_DIR=${envDir} is not a directory. Fix: point it at a directory with the release binaries ` +
          `(${COMPONENTS.join(', ')}) or a kube-lab multi-call binary, or unset it to use PATH / build them.`,
      );
    }
    const r = await fromDir(envDir);
    if (r.missing.length > 0) {
      throw new BinariesError(
        `KUBE_SLI_K8S_BIN_DIR=${envDir} lacks ${r.missing.join(', ')} (no such executable, and no kube-lab multi-call binary there). ` +
          `Fix: add them (official release binaries; etcd comes from the etcd release), or unset KUBE_SLI_K8S_BIN_DIR.`,
      );
    }
    return { source: 'env', argv: r.argv as Record<Component, string[]>, ...(r.agnhost ? { agnhost: r.agnhost } : {}), ...(r.e2eTest ? { e2eTest: r.e2eTest } : {}) };
  }

  const pathVar = env.PATH ?? '';
  const multi = await onPath('kube-lab', pathVar);
  const agnhost = await onPath('agnhost', pathVar);
  if (multi) {
    const argv = Object.fromEntries(COMPONENTS.map((c) => [c, [multi, c]])) as Record<Component, string[]>;
    return { source: 'path', argv, ...(agnhost ? { agnhost } : {}) };
  }
  const found = await Promise.all(COMPONENTS.map(async (c) => [c, await onPath(c, pathVar)] as const));
  if (found.every(([, p]) => p !== undefined)) {
    const argv = Object.fromEntries(found.map(([c, p]) => [c, [p!]])) as Record<Component, string[]>;
    return { source: 'path', argv, ...(agnhost ? { agnhost } : {}) };
  }

  if (opts.build === false) {
    throw new BinariesError(
      `no Kubernetes binaries found: KUBE_SLI_K8S_BIN_DIR is unset and PATH has neither kube-lab nor all of ${COMPONENTS.join(', ')}. ` +
        `Fix: run scripts/build-lab-binaries.sh, or set KUBE_SLI_K8S_BIN_DIR.`,
    );
  }
  return build(opts, env);
}

async function build(opts: FindBinariesOptions, env: NodeJS.ProcessEnv): Promise<LabBinaries> {
  const script = opts.buildScript ?? join(repoRoot(), 'scripts', 'build-lab-binaries.sh');
  if (!(await isExecutableFile(script))) {
    throw new BinariesError(`no Kubernetes binaries found and the build script ${script} is missing. Fix: set KUBE_SLI_K8S_BIN_DIR.`);
  }
  const progress = opts.onProgress ?? ((l: string) => process.stderr.write(`${l}\n`));
  progress(`kube-sli lab: no binaries in KUBE_SLI_K8S_BIN_DIR or PATH; running ${script} (a cold build takes ~10 min)`);
  const child = execa(script, [], { env, extendEnv: false, reject: false, stdin: 'ignore', stripFinalNewline: true });
  const errLines: string[] = [];
  let buf = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      errLines.push(line);
      progress(line);
    }
  });
  const res = await child;
  if (buf) errLines.push(buf);
  if (res.exitCode !== 0) {
    const all = errLines.join('\n');
    const errorLine = errLines.find((l) => l.includes('ERROR:')) ?? errLines.at(-1) ?? res.message ?? 'no output';
    const goHint = /too old|'go' not found|GOTOOLCHAIN|go\.mod requires go|toolchain/i.test(all)
      ? ' This is a Go toolchain problem: install Go >= 1.21 (Debian: apt-get install golang-go) or run with GOTOOLCHAIN=go1.25.0 (fetched via the module proxy); see lab/k8s/README.md.'
      : '';
    throw new BinariesError(`building the lab binaries failed (${script}, exit ${res.exitCode ?? '?'}): ${errorLine.trim()}.${goHint}`);
  }
  const paths = String(res.stdout).split('\n').map((l) => l.trim()).filter(Boolean);
  const kubeLab = paths.find((p) => p.endsWith('/kube-lab'));
  if (!kubeLab || !(await isExecutableFile(kubeLab))) {
    throw new BinariesError(`${script} succeeded but printed no usable kube-lab path (stdout: ${JSON.stringify(res.stdout)})`);
  }
  const agnhost = paths.find((p) => p.endsWith('/agnhost'));
  const e2eTest = paths.find((p) => p.endsWith('/e2e.test'));
  const argv = Object.fromEntries(COMPONENTS.map((c) => [c, [kubeLab, c]])) as Record<Component, string[]>;
  return { source: 'build', argv, ...(agnhost ? { agnhost } : {}), ...(e2eTest ? { e2eTest } : {}) };
}
