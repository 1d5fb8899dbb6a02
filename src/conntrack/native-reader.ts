// Finds or builds kube-sli-ct-events (native/ct-events.c), the event reader the collector
// prefers to `conntrack -E`: conntrack-tools v1.4.7 sets `-b` on a socket that receives no
// events and filters `-d` in user space (see the C file's header for the measurements).
//
// Where the binary comes from, in order:
// 1. KUBE_SLI_CT_EVENTS_BIN (the kit's image builds it in a build stage);
// 2. a build cache keyed by the source's hash, $XDG_CACHE_HOME/kube-sli/bin (else
//    ~/.cache/kube-sli/bin), compiled with `cc` against the shared libnetfilter_conntrack
//    that conntrack itself uses (no -dev package needed).
// When neither works the caller falls back to `conntrack -E` and says so in its status.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const NATIVE_READER_SOURCE = fileURLToPath(new URL('./native/ct-events.c', import.meta.url));
export const NATIVE_READER_ENV = 'KUBE_SLI_CT_EVENTS_BIN';
/** a cold compile takes ~0.3 s; a loaded 2-core machine gets headroom */
export const NATIVE_READER_BUILD_TIMEOUT_MS = 60_000;

export type NativeReaderResolution =
  | { ok: true; bin: string; source: 'env' | 'cache' | 'built' }
  | { ok: false; reason: string };

export interface ResolveNativeReaderOptions {
  env?: Record<string, string | undefined>;
  /** default $XDG_CACHE_HOME/kube-sli/bin or ~/.cache/kube-sli/bin */
  cacheDir?: string;
  /** C compiler; default `cc` */
  cc?: string;
  sourcePath?: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached binary's path for this source (its name carries the source's hash). */
export function nativeReaderCachePath(opts: ResolveNativeReaderOptions = {}): string {
  const env = opts.env ?? process.env;
  const source = readFileSync(opts.sourcePath ?? NATIVE_READER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = opts.cacheDir ?? join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kube-sli', 'bin');
  return join(dir, `kube-sli-ct-events-${hash}`);
}

export async function resolveNativeReader(opts: ResolveNativeReaderOptions = {}): Promise<NativeReaderResolution> {
  const env = opts.env ?? process.env;
  const fromEnv = env[NATIVE_READER_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    return executable(fromEnv)
      ? { ok: true, bin: fromEnv, source: 'env' }
      : { ok: false, reason: `${NATIVE_READER_ENV}=${fromEnv} is not an executable file: unset it or point it at a built kube-sli-ct-events` };
  }
  const sourcePath = opts.sourcePath ?? NATIVE_READER_SOURCE;
  let bin: string;
  try {
    bin = nativeReaderCachePath({ ...opts, env, sourcePath });
  } catch (e) {
    return { ok: false, reason: `cannot read ${sourcePath}: ${(e as Error).message}` };
  }
  if (executable(bin)) return { ok: true, bin, source: 'cache' };
  const cc = opts.cc ?? 'cc';
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    mkdirSync(join(bin, '..'), { recursive: true });
    const res = await execa(cc, ['-O2', '-o', tmp, sourcePath, '-l:libnetfilter_conntrack.so.3'], {
      reject: false,
      stdin: 'ignore',
      timeout: NATIVE_READER_BUILD_TIMEOUT_MS,
    });
    if (res.exitCode !== 0) {
      const why = String(res.stderr || res.shortMessage).trim().split('\n').slice(-3).join(' ');
      return {
        ok: false,
        reason:
          `cannot build ${sourcePath} with ${cc}: ${why}. Install a C compiler and libnetfilter-conntrack3 ` +
          `(Debian: apt-get install gcc libc6-dev libnetfilter-conntrack3), or set ${NATIVE_READER_ENV}`,
      };
    }
    // rename is atomic: agents building at the same time each install a complete binary
    renameSync(tmp, bin);
    return { ok: true, bin, source: 'built' };
  } catch (e) {
    return { ok: false, reason: `cannot build ${sourcePath} into ${bin}: ${(e as Error).message}` };
  } finally {
    rmSync(tmp, { force: true });
  }
}
