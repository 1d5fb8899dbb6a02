// `--kube-proxy <path | vX.Y.Z>` and `--kube-proxy-arg`: which kube-proxy binary the lab
// runs and with which flags, checked against that binary before the lab starts.
//
// kube-proxy ignores every flag that maps to a KubeProxyConfiguration field when it runs
// with --config (cmd/kube-proxy/app: Options.Complete replaces the flag-filled config with
// the file's), and the lab always gives it --config. So:
//   --feature-gates=…  goes into the config file's featureGates (all versions read it);
//   a flag that sets another config field is refused with the fix, never dropped silently
//     (found by asking the binary: --write-config-to with and without the flag);
//   other flags (-v, --master …) are passed on after --config.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { binaryVersion, ensureKubeProxyVersion } from './kube-proxy-build.js';
import { featureGatesFromArgs, flagName, flagsFromHelp, isFlagArg, parseGitVersion, parseReleaseVersion, versionFromVersionOutput, KubeProxyVersionError } from './kube-proxy-version.js';
import { checkedDialect, type ProxyMode } from './kube-proxy.js';
import type { KubeProxyDialect } from './kube-proxy-version.js';

export interface KubeProxyChoice {
  /** lab: the lab's own build; path: a binary the user built; release: built from the Go module proxy */
  source: 'lab' | 'path' | 'release';
  /** what was asked for (path or version), for messages */
  spec: string;
  /** argv prefix (a multi-call binary takes its command name after it) */
  argv: string[];
  /** as `--version` reports it */
  version: string;
  /** the user's flags, as given */
  args: string[];
  featureGates: Record<string, boolean>;
  dialect: KubeProxyDialect;
}

export class KubeProxyChoiceError extends Error {
  override name = 'KubeProxyChoiceError';
}

/** Gate names listed in the --feature-gates help text ("Options are:\n  Name=true|false (BETA - default=true)"). */
export function gatesFromHelp(help: string): Set<string> {
  const names = new Set<string>();
  for (const m of help.matchAll(/^\s+([A-Z][A-Za-z0-9]+)=true\|false \(/gm)) names.add(m[1]!);
  return names;
}

/** Flags that only steer logging: kube-proxy honours them next to --config. */
const LOGGING_FLAGS = new Set(['v', 'vmodule', 'logging-format']);

async function writtenConfig(argv: readonly string[], flags: readonly string[], dir: string, n: number): Promise<string | Error> {
  const out = join(dir, `c${n}.yaml`);
  const r = await execa(argv[0]!, [...argv.slice(1), ...flags, `--write-config-to=${out}`], { reject: false, all: true, timeout: 30_000 });
  if (r.exitCode !== 0) return new Error(String(r.all ?? '').trim().split('\n').slice(-3).join(' | ') || `exit ${r.exitCode ?? r.signal}`);
  return readFile(out, 'utf8').catch((e: unknown) => e as Error);
}

/** Checks the user's flags against the binary (help, then the config they would set). */
export async function checkKubeProxyArgs(argv: readonly string[], what: string, args: readonly string[]): Promise<Record<string, boolean>> {
  for (const a of args) {
    if (!isFlagArg(a)) throw new KubeProxyChoiceError(`--kube-proxy-arg "${a}" must be one flag in the form --name=value (or --name), e.g. --kube-proxy-arg=--feature-gates=MinimizeIPTablesRestore=false`);
  }
  let gates: Record<string, boolean>;
  try {
    gates = featureGatesFromArgs(args);
  } catch (e) {
    throw new KubeProxyChoiceError((e as Error).message);
  }
  if (args.length === 0) return gates;
  const help = await execa(argv[0]!, [...argv.slice(1), '--help'], { reject: false, all: true, timeout: 30_000 });
  const helpText = String(help.stdout ?? '');
  const known = flagsFromHelp(helpText);
  if (known.size === 0) throw new KubeProxyChoiceError(`${what}: "--help" listed no flags (exit ${help.exitCode}); cannot check --kube-proxy-arg against it`);
  for (const a of args) {
    const name = flagName(a);
    if (!known.has(name)) throw new KubeProxyChoiceError(`${what} rejects --kube-proxy-arg "${a}": its --help lists no flag --${name}. Fix: check the flag with ${argv.join(' ')} --help.`);
  }
  const knownGates = gatesFromHelp(helpText);
  for (const g of Object.keys(gates)) {
    if (knownGates.size > 0 && !knownGates.has(g)) throw new KubeProxyChoiceError(`${what} has no feature gate "${g}" (not in its --help). Fix: check the name with ${argv.join(' ')} --help.`);
  }
  const others = args.filter((a) => flagName(a) !== 'feature-gates' && !LOGGING_FLAGS.has(flagName(a)));
  if (others.length === 0) return gates;
  const dir = await mkdtemp(join(tmpdir(), 'ksli-kp-'));
  try {
    const base = await writtenConfig(argv, [], dir, 0);
    if (base instanceof Error) throw new KubeProxyChoiceError(`${what}: "--write-config-to" failed (${base.message}); cannot tell which --kube-proxy-arg flags it would ignore next to --config`);
    let n = 1;
    for (const a of others) {
      const c = await writtenConfig(argv, [a], dir, n++);
      if (c instanceof Error) throw new KubeProxyChoiceError(`${what} rejects --kube-proxy-arg "${a}": ${c.message}`);
      if (c !== base) {
        throw new KubeProxyChoiceError(
          `--kube-proxy-arg "${a}" sets a KubeProxyConfiguration field, and kube-proxy ignores such flags when it runs with --config (as in the lab). Fix: leave it out; the lab's config file sets mode, sync periods and addresses (--proxy-mode chooses the mode); feature gates go in --kube-proxy-arg=--feature-gates=…`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return gates;
}

/**
 * Resolves --kube-proxy (undefined: the lab's own) and its flags into what the lab runs;
 * builds a release first when it is not cached. Throws KubeProxyChoiceError (or the
 * build's error) naming the input and the fix; nothing of the lab exists yet.
 */
export async function resolveKubeProxy(
  spec: string | undefined,
  args: readonly string[],
  o: { mode: ProxyMode; labArgv: () => Promise<string[]>; onProgress?: (m: string) => void },
): Promise<KubeProxyChoice> {
  let argv: string[];
  let source: KubeProxyChoice['source'];
  let what: string;
  if (spec === undefined) {
    argv = await o.labArgv();
    source = 'lab';
    what = `the lab's kube-proxy (${argv.join(' ')})`;
  } else if (parseReleaseVersion(spec)) {
    const r = await ensureKubeProxyVersion(parseReleaseVersion(spec)!, o.onProgress ? { onProgress: o.onProgress } : {});
    if (r.built) o.onProgress?.(`kube-proxy ${spec}: built ${r.binary} in ${r.buildSeconds?.toFixed(0)} s`);
    argv = [r.binary];
    source = 'release';
    what = `kube-proxy ${spec} (${r.binary})`;
  } else if (/^v?\d+\.\d+/.test(spec) && !spec.includes('/')) {
    throw new KubeProxyChoiceError(`--kube-proxy "${spec}" is neither a release version v1.<minor>.<patch> (e.g. v1.27.16) nor a path to a kube-proxy binary (a path has a "/": ./kube-proxy)`);
  } else {
    const path = isAbsolute(spec) ? spec : resolve(spec);
    const v = await binaryVersion(path);
    if (v.error) throw new KubeProxyChoiceError(`--kube-proxy ${path} ${v.error}. Fix: give the kube-proxy binary you built (e.g. _output/bin/kube-proxy after "make WHAT=cmd/kube-proxy"), or a release version like v1.27.16.`);
    argv = [path];
    source = 'path';
    what = `kube-proxy ${path}`;
  }
  // a multi-call binary (kube-lab) answers --version after its command name
  const r = await execa(argv[0]!, [...argv.slice(1), '--version'], { reject: false, all: true, timeout: 30_000 });
  const reported = versionFromVersionOutput(String(r.all ?? ''));
  if (r.exitCode !== 0 || !reported) throw new KubeProxyChoiceError(`${what}: "--version" printed no "Kubernetes vX.Y.Z" (exit ${r.exitCode ?? r.signal})`);
  return finish(reported.text);

  async function finish(versionText: string): Promise<KubeProxyChoice> {
    const version = parseGitVersion(versionText);
    if (!version) throw new KubeProxyChoiceError(`${what} reports version "${versionText}", which is not a Kubernetes version`);
    const featureGates = await checkKubeProxyArgs(argv, what, args);
    let dialect: KubeProxyDialect;
    try {
      dialect = checkedDialect(version, o.mode, featureGates);
    } catch (e) {
      if (e instanceof KubeProxyVersionError) throw new KubeProxyChoiceError(e.message);
      throw e;
    }
    return { source, spec: spec ?? 'lab', argv, version: version.text, args: [...args], featureGates, dialect };
  }
}
