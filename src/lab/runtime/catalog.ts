// Images the lab can run, mapped to local programs. The lab pulls nothing: a container
// whose image matches no entry stays Waiting (ImageNotInLabCatalog).
//
// Default mapping (defaultCatalog):
//   registry.k8s.io/e2e-test-images/agnhost[:tag]   entrypoint /agnhost
//     args only                 → <agnhost> <args…>
//     command ["/agnhost", …]   → <agnhost> <command[1:]…> <args…>   ("agnhost" too)
//     any other command         → not runnable (CatalogError: RunContainerError)
//   ghcr.io/kube-sli/kube-sli[:tag]                 entrypoint kube-sli
//     args only / command ["kube-sli", …]
//                               → node --import tsx <repo>/bin/kube-sli.js <…>
//     command ["kube-sli-server", …] → node --import tsx <repo>/src/workload/server.ts <…>
//     command ["kube-sli-client", …] → node --import tsx <repo>/src/workload/client.ts <…>
// `node` is process.execPath; kit programs run with cwd = the repo (so `--import tsx`
// resolves to the repo's tsx).
import { basename, join } from 'node:path';
import { repoRoot } from '../binaries.js';
import type { CatalogEntry } from './types.js';

export const AGNHOST_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost';
export const KIT_IMAGE = 'ghcr.io/kube-sli/kube-sli';

/** The container's command cannot run from this image in the lab. */
export class CatalogError extends Error {
  override name = 'CatalogError';
}

/** Image reference without tag or digest: "reg:5000/a/b:1.2@sha256:…" → "reg:5000/a/b". */
export function imageRepository(image: string): string {
  let s = image;
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  return s;
}

/** First entry whose image prefix matches the image's repository (tag/digest ignored). */
export function matchCatalog(catalog: readonly CatalogEntry[], image: string): CatalogEntry | undefined {
  const repo = imageRepository(image);
  return catalog.find((e) => repo.startsWith(e.image));
}

export interface DefaultCatalogOptions {
  agnhostPath?: string;
  /** repo with bin/kube-sli.js and src/workload; default this repo */
  repoDir?: string;
  /** node binary; default process.execPath */
  nodePath?: string;
}

export function agnhostEntry(agnhostPath: string): CatalogEntry {
  return {
    image: AGNHOST_IMAGE,
    resolve({ command, args }) {
      const a = args ?? [];
      if (!command || command.length === 0) return [agnhostPath, ...a];
      const [first, ...rest] = command;
      if (first === '/agnhost' || first === 'agnhost') return [agnhostPath, ...rest, ...a];
      throw new CatalogError(`command "${command.join(' ')}" is not runnable in the lab from ${AGNHOST_IMAGE}: only /agnhost is (use args, or command ["/agnhost", …])`);
    },
  };
}

export function kitEntry(repoDir: string = repoRoot(), nodePath: string = process.execPath): CatalogEntry {
  const programs: Record<string, string> = {
    'kube-sli': join(repoDir, 'bin', 'kube-sli.js'),
    'kube-sli-server': join(repoDir, 'src', 'workload', 'server.ts'),
    'kube-sli-client': join(repoDir, 'src', 'workload', 'client.ts'),
  };
  return {
    image: KIT_IMAGE,
    cwd: repoDir,
    resolve({ command, args }) {
      const a = args ?? [];
      const first = command?.[0];
      const name = first === undefined ? 'kube-sli' : basename(first);
      const script = programs[name];
      if (!script) {
        throw new CatalogError(`command "${command?.join(' ')}" is not runnable in the lab from ${KIT_IMAGE}: use one of ${Object.keys(programs).join(', ')}`);
      }
      return [nodePath, '--import', 'tsx', script, ...(command?.slice(1) ?? []), ...a];
    },
  };
}

export function defaultCatalog(opts: DefaultCatalogOptions = {}): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  if (opts.agnhostPath) entries.push(agnhostEntry(opts.agnhostPath));
  entries.push(kitEntry(opts.repoDir, opts.nodePath));
  return entries;
}
