// Builds the lab's images offline-first and caches them by content hash:
//
//   base     Debian (debootstrap, minbase) with the packages the kit's Dockerfile and
//            upstream's e2e tests expect in an image (node, tcpdump, conntrack,
//            iproute2, nftables, iptables, netcat, curl), documentation stripped (every
//            byte is unpacked again on every node of every lab). Key: suite + packages.
//   build    base + npm and a C compiler: the Dockerfile's BUILD_IMAGE, where `npm ci`
//            runs and the conntrack reader is compiled; neither reaches a node.
//   agnhost  base + the agnhost built with the lab binaries, as upstream's image is
//            (ENTRYPOINT /agnhost, CMD pause). Key: agnhost's sha256 + base.
//   pause    scratch + agnhost, entrypoint `agnhost pause`: the sandbox. Key: agnhost.
//   kit      the repository's Dockerfile, built by buildah with BASE_IMAGE = base and
//            labelled with the Dockerfile's sha256, so a pod's image can be traced to the
//            file it came from. Key: Dockerfile + every file its COPY lines take + base.
//
// Each image ends as a docker-archive tar under <cache>/images, named by its key; a lab
// node imports those archives (import.ts). Nothing here pulls from a registry: the base
// comes from Debian's archive (the same packages the set-up installs), the kit's
// dependencies from the npm registry, once per key.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../binaries.js';
import { kitVersion } from '../../kube/images.js';
import { AGNHOST_IMAGE, KIT_IMAGE, PAUSE_IMAGE } from './refs.js';

export const BASE_SUITE = 'trixie';
/** trixie: its nodejs is 20, the kit's minimum; bookworm's is 18. */
export const BASE_PACKAGES = [
  'nodejs',
  'ca-certificates',
  'conntrack',
  'tcpdump',
  'iproute2',
  'nftables',
  'iptables',
  'netcat-openbsd',
  'curl',
  'procps',
] as const;
/** The build base adds these with apt: debootstrap's own resolver cannot place npm's
 * many dependencies (it leaves them unconfigured). */
export const BUILD_APT_PACKAGES = ['npm', 'gcc', 'libc6-dev', 'libnetfilter-conntrack3'] as const;
/** Bump when the recipe below changes in a way the keys do not see. */
const RECIPE = 3;

export interface LabImage {
  /** the reference pods use */
  ref: string;
  /** docker-archive tar holding it */
  archive: string;
  key: string;
  role: 'base' | 'agnhost' | 'pause' | 'kit';
}

export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
}

export function imageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.KUBE_SLI_CACHE || join(homedir(), '.cache', 'kube-sli'), 'images');
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The sources the Dockerfile's COPY lines name (files or directories, relative to the
 * repository), read from the Dockerfile itself so the key follows it. */
export function dockerfileCopySources(dockerfile: string): string[] {
  const out: string[] = [];
  for (const raw of dockerfile.split('\n')) {
    const m = /^\s*COPY\s+(?!--from)(.*)$/i.exec(raw);
    if (!m) continue;
    const parts = m[1]!.trim().split(/\s+/).filter((p) => !p.startsWith('--'));
    out.push(...parts.slice(0, -1).map((p) => p.replace(/\/$/, '')));
  }
  return [...new Set(out)].sort();
}

/** Content key of the kit image: Dockerfile, .dockerignore and every file it copies. */
export async function kitKey(repo: string, baseKey: string): Promise<{ key: string; dockerfileSha: string }> {
  const dockerfile = await readFile(join(repo, 'Dockerfile'), 'utf8');
  const dockerfileSha = sha(dockerfile);
  const h = createHash('sha256').update(`recipe ${RECIPE}\nbase ${baseKey}\nversion ${kitVersion()}\n${dockerfile}\n`);
  const ignore = await readFile(join(repo, '.dockerignore'), 'utf8').catch(() => '');
  h.update(ignore);
  for (const src of dockerfileCopySources(dockerfile)) {
    const p = join(repo, src);
    const s = await stat(p).catch((e: unknown) => {
      // only a missing path is "not in the repo"; anything else (permissions, I/O) as it is
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    });
    if (!s) throw new ImageBuildError(`the Dockerfile copies "${src}", which is not in ${repo}`);
    const files = s.isDirectory() ? (await walk(p)).filter((f) => !/(^|\/)node_modules\//.test(relative(repo, f))).sort() : [p];
    for (const f of files) h.update(`${relative(repo, f)} ${await fileSha(f)}\n`);
  }
  return { key: h.digest('hex').slice(0, 16), dockerfileSha };
}

export function baseKey(): string {
  return sha(`recipe ${RECIPE}\nsuite ${BASE_SUITE}\nvariant minbase\n${BASE_PACKAGES.join(',')}`).slice(0, 16);
}

export interface EnsureImagesOptions {
  agnhostPath: string;
  onProgress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

class Buildah {
  constructor(
    private readonly root: string,
    private readonly log: (l: string) => void,
  ) {}

  private args(a: string[]): string[] {
    return ['--root', join(this.root, 'storage'), '--runroot', join(this.root, 'run'), '--storage-driver', 'overlay', ...a];
  }

  async run(a: string[], what: string): Promise<string> {
    const r = await execa('buildah', this.args(a), { reject: false, all: true });
    if (r.exitCode !== 0) throw new ImageBuildError(`buildah ${a[0]} (${what}) failed with exit code ${r.exitCode}:\n${String(r.all).split('\n').slice(-20).join('\n')}`);
    return String(r.stdout).trim();
  }

  async hasImage(ref: string): Promise<boolean> {
    const r = await execa('buildah', this.args(['inspect', '--type', 'image', ref]), { reject: false });
    return r.exitCode === 0;
  }

  /** Streams a long step's output to progress (bud, debootstrap take minutes when cold). */
  async stream(a: string[], what: string, cwd?: string): Promise<void> {
    const p = execa('buildah', this.args(a), { reject: false, all: true, ...(cwd ? { cwd } : {}) });
    const tail: string[] = [];
    p.all?.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (/^STEP \d+\/\d+/.test(line)) this.log(`  ${what}: ${line.slice(0, 120)}`);
      }
    });
    const r = await p;
    if (r.exitCode !== 0) throw new ImageBuildError(`buildah ${a[0]} (${what}) failed with exit code ${r.exitCode}:\n${tail.join('\n')}`);
  }

  async pushArchive(ref: string, archive: string): Promise<void> {
    const tmp = `${archive}.tmp-${process.pid}`;
    await rm(tmp, { force: true });
    await this.run(['push', '--quiet', ref, `docker-archive:${tmp}:${ref}`], `export ${ref}`);
    await rename(tmp, archive);
  }
}

export async function requireTool(tool: string, pkg: string): Promise<void> {
  const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
  if (r.exitCode !== 0) throw new ImageBuildError(`"${tool}" is not on PATH; the lab builds its images with it. Fix: apt-get install ${pkg} (the set-up, npm test, installs it).`);
}

function debianMirror(env: NodeJS.ProcessEnv): string {
  return env.KUBE_SLI_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
}

/** Builds what is missing and returns every image the lab imports (pause, agnhost, kit). */
export async function ensureLabImages(o: EnsureImagesOptions): Promise<LabImage[]> {
  const env = o.env ?? process.env;
  const log = o.onProgress ?? (() => undefined);
  const cache = imageCacheDir(env);
  await mkdir(cache, { recursive: true });
  const b = new Buildah(cache, log);
  const repo = repoRoot();
  const agnSha = await fileSha(o.agnhostPath);
  const bKey = baseKey();
  const baseRef = `localhost/kube-sli/lab-base:${bKey}`;
  const kit = await kitKey(repo, `${bKey} ${BUILD_APT_PACKAGES.join(',')}`);
  const want: LabImage[] = [
    { role: 'pause', ref: PAUSE_IMAGE, key: sha(`recipe ${RECIPE}\npause ${agnSha}`).slice(0, 16), archive: '' },
    { role: 'agnhost', ref: AGNHOST_IMAGE, key: sha(`recipe ${RECIPE}\nagnhost ${agnSha}\nbase ${bKey}`).slice(0, 16), archive: '' },
    { role: 'kit', ref: KIT_IMAGE, key: kit.key, archive: '' },
  ];
  for (const w of want) w.archive = join(cache, `${w.role}-${w.key}.tar`);
  const missing = [];
  for (const w of want) if (!(await exists(w.archive))) missing.push(w);
  if (missing.length === 0) return want;

  await requireTool('buildah', 'buildah');
  const needBase = missing.some((w) => w.role !== 'pause');
  if (needBase && !(await b.hasImage(baseRef))) {
    await requireTool('debootstrap', 'debootstrap');
    const t0 = Date.now();
    log(`images: building the base (debootstrap ${BASE_SUITE} minbase + ${BASE_PACKAGES.length} packages; about a minute)`);
    const tmp = await mkdtemp(join(cache, 'rootfs-'));
    try {
      const r = await execa('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, BASE_SUITE, tmp, debianMirror(env)], { reject: false, all: true });
      if (r.exitCode !== 0) throw new ImageBuildError(`debootstrap ${BASE_SUITE} failed (exit ${r.exitCode}); set KUBE_SLI_DEBIAN_MIRROR to a reachable Debian mirror if the default is not:\n${String(r.all).split('\n').slice(-15).join('\n')}`);
      // documentation and translations (copyright files stay): unpacked on every node
      await execa('sh', ['-c', 'find usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete; rm -rf usr/share/man usr/share/info usr/share/locale usr/share/i18n/locales var/lib/apt/lists/*'], { cwd: tmp });
      await rm(join(tmp, 'var/cache/apt/archives'), { recursive: true, force: true });
      await mkdir(join(tmp, 'var/cache/apt/archives/partial'), { recursive: true });
      const c = await b.run(['from', 'scratch'], 'base');
      try {
        await b.run(['copy', c, tmp, '/'], 'base rootfs');
        await b.run(['config', '--cmd', '["/bin/sh"]', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--label', `io.kube-sli.base=${BASE_SUITE}`, c], 'base config');
        await b.run(['commit', '--quiet', c, baseRef], 'base commit');
      } finally {
        await b.run(['rm', c], 'base container').catch((e: unknown) => log(`images: could not remove the working container ${c} (remove it with buildah rm): ${(e as Error).message}`));
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    log(`images: base ${baseRef} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const buildRef = `localhost/kube-sli/lab-build:${sha(`${bKey}\n${BUILD_APT_PACKAGES.join(',')}`).slice(0, 16)}`;
  if (missing.some((w) => w.role === 'kit') && !(await b.hasImage(buildRef))) {
    const t0 = Date.now();
    log(`images: building the build base (${baseRef} + ${BUILD_APT_PACKAGES.join(', ')})`);
    const c = await b.run(['from', baseRef], 'build base');
    try {
      await b.run(['run', '--isolation', 'chroot', '--network', 'host', c, '--', 'sh', '-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${BUILD_APT_PACKAGES.join(' ')} && apt-get clean && rm -rf /var/lib/apt/lists/*`], 'build base');
      await b.run(['commit', '--quiet', c, buildRef], 'build base commit');
    } finally {
      await b.run(['rm', c], 'build base container').catch((e: unknown) => log(`images: could not remove the working container ${c} (remove it with buildah rm): ${(e as Error).message}`));
    }
    log(`images: build base ${buildRef} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  for (const w of missing) {
    const t0 = Date.now();
    log(`images: building ${w.ref} (${w.role}, key ${w.key})`);
    if (w.role === 'kit') {
      // npm inside the build trusts what the host trusts (the host may reach the npm
      // registry through a TLS-inspecting proxy whose CA only the host's bundle holds)
      const hostCa = env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
      const ca = (await exists(hostCa)) ? ['--volume', `${hostCa}:/run/kube-sli-host-ca.crt:ro`, '--build-arg', 'NPM_CONFIG_CAFILE=/run/kube-sli-host-ca.crt'] : [];
      await b.stream(
        ['bud', '--isolation', 'chroot', '--network', 'host', '--layers', ...ca, '--build-arg', `BASE_IMAGE=${baseRef}`, '--build-arg', `BUILD_IMAGE=${buildRef}`, '--build-arg', `VERSION=${kitVersion()}`, '--label', `io.kube-sli.dockerfile.sha256=${kit.dockerfileSha}`, '-f', join(repo, 'Dockerfile'), '-t', w.ref, repo],
        'kit image',
      );
    } else {
      const c = await b.run(['from', w.role === 'pause' ? 'scratch' : baseRef], w.role);
      try {
        await b.run(['copy', '--chmod', '0755', c, o.agnhostPath, '/agnhost'], w.role);
        const cfg = w.role === 'pause' ? ['--entrypoint', '["/agnhost","pause"]', '--cmd', '[]'] : ['--entrypoint', '["/agnhost"]', '--cmd', '["pause"]'];
        await b.run(['config', ...cfg, '--label', `io.kube-sli.agnhost.sha256=${agnSha}`, c], w.role);
        await b.run(['commit', '--quiet', c, w.ref], w.role);
      } finally {
        await b.run(['rm', c], w.role).catch((e: unknown) => log(`images: could not remove the working container ${c} (remove it with buildah rm): ${(e as Error).message}`));
      }
    }
    await b.pushArchive(w.ref, w.archive);
    await pruneArchives(cache, w.role, w.archive);
    log(`images: ${w.ref} ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return want;
}

/** Archives of a role kept beside the newest: another checkout of the kit on this machine
 * (its own source tree, its own key) may be importing one of them right now. */
const KEEP_OLDER_ARCHIVES = 3;

/** Removes all but the newest few archives of older keys of an image. */
async function pruneArchives(cache: string, role: string, current: string): Promise<void> {
  const older = [];
  for (const f of await readdir(cache)) {
    const p = join(cache, f);
    if (!f.startsWith(`${role}-`) || !f.endsWith('.tar') || p === current) continue;
    const st = await stat(p).catch(() => undefined);
    if (st) older.push({ p, mtime: st.mtimeMs });
  }
  older.sort((a, b) => b.mtime - a.mtime);
  for (const o of older.slice(KEEP_OLDER_ARCHIVES)) await rm(o.p, { force: true });
}
