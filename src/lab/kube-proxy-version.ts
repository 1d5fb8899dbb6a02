// Which kube-proxy the lab runs, and the configuration dialect that version accepts.
// Pure: no I/O. The field table comes from the upstream KubeProxyConfiguration
// (kubeproxy.config.k8s.io/v1alpha1) types of each release, k8s.io/kube-proxy
// config/v1alpha1/types.go, v0.27.16 and v0.28.0 … v0.34.4:
//   logging                        since 1.28
//   nftables section, mode         since 1.29 (feature gate NFTablesProxyMode: alpha 1.29-1.30,
//                                  beta and on by default from 1.31)
//   iptables.localhostNodePorts    since 1.27
// kube-proxy decodes its config file strictly: an unknown field is an error, so the lab
// leaves out what a version does not know, and refuses what it cannot express.

/** The oldest kube-proxy whose config can say everything the lab needs (localhostNodePorts). */
export const MIN_KUBE_PROXY_MINOR = 27;
/** Newest minor the field table was checked against; newer versions use its dialect. */
export const NEWEST_KNOWN_MINOR = 34;

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  /** as written, e.g. v1.27.16 or v1.36.0-alpha.0.12+abc */
  text: string;
}

/** A release version as `--kube-proxy` takes it: v1.<minor>.<patch>, nothing else. */
export function parseReleaseVersion(s: string): KubeVersion | undefined {
  const m = /^v(1)\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: s };
}

/** Any gitVersion a build reports (a release, or a developer build: v1.36.0-alpha.0.12+abc). */
export function parseGitVersion(s: string): KubeVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?$/.exec(s);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: s };
}

/** `kube-proxy --version` prints `Kubernetes v1.27.16`; undefined when it printed something else. */
export function versionFromVersionOutput(out: string): KubeVersion | undefined {
  const m = /^Kubernetes (v\S+)\s*$/m.exec(out);
  return m ? parseGitVersion(m[1]!) : undefined;
}

export interface KubeProxyDialect {
  minor: number;
  /** the `logging` section */
  logging: boolean;
  /** the `nftables` section and mode: nftables */
  nftables: boolean;
  /** nftables mode needs --feature-gates NFTablesProxyMode=true (alpha) */
  nftablesNeedsGate: boolean;
  /** iptables.localhostNodePorts */
  localhostNodePorts: boolean;
}

export class KubeProxyVersionError extends Error {
  override name = 'KubeProxyVersionError';
}

/** The config dialect of a kube-proxy version; throws for versions the lab cannot configure. */
export function kubeProxyDialect(v: KubeVersion): KubeProxyDialect {
  if (v.major !== 1 || v.minor < MIN_KUBE_PROXY_MINOR) {
    throw new KubeProxyVersionError(
      `kube-proxy ${v.text} is older than v1.${MIN_KUBE_PROXY_MINOR}: its configuration has no iptables.localhostNodePorts, so it would accept NodePort traffic on 127.0.0.1 where the lab's kube-proxy does not. Fix: use v1.${MIN_KUBE_PROXY_MINOR}.0 or newer.`,
    );
  }
  const minor = Math.min(v.minor, NEWEST_KNOWN_MINOR);
  return {
    minor: v.minor,
    logging: minor >= 28,
    nftables: minor >= 29,
    nftablesNeedsGate: minor >= 29 && minor <= 30,
    localhostNodePorts: true,
  };
}

/** Feature gates as --feature-gates=A=true,B=false flags set them (a later flag wins). Throws on a malformed value. */
export function featureGatesFromArgs(args: readonly string[]): Record<string, boolean> {
  const gates: Record<string, boolean> = {};
  for (const a of args) {
    const m = /^--feature-gates=(.*)$/.exec(a);
    if (!m) continue;
    for (const item of m[1]!.split(',').filter((s) => s.trim() !== '')) {
      const kv = /^\s*([A-Za-z0-9]+)=(true|false)\s*$/i.exec(item);
      if (!kv) throw new KubeProxyVersionError(`--feature-gates item "${item}" must be <Gate>=true or <Gate>=false, e.g. --kube-proxy-arg=--feature-gates=MinimizeIPTablesRestore=false`);
      gates[kv[1]!] = kv[2]!.toLowerCase() === 'true';
    }
  }
  return gates;
}

/** A flag as --kube-proxy-arg takes it: one `--name` or `--name=value` (also -v=N). */
export function isFlagArg(a: string): boolean {
  return /^--?[a-z0-9][a-z0-9-]*(=.*)?$/.test(a);
}

/** The flag's name without dashes and value. */
export function flagName(a: string): string {
  return a.replace(/^--?/, '').replace(/=.*$/s, '');
}

/** Flag names `kube-proxy --help` lists (pflag's "  --name" / "  -v, --v" lines). */
export function flagsFromHelp(help: string): Set<string> {
  const names = new Set<string>();
  for (const m of help.matchAll(/^\s+(?:-([a-zA-Z]), )?--([a-z0-9][a-z0-9-]*)/gm)) {
    names.add(m[2]!);
    if (m[1]) names.add(m[1]);
  }
  return names;
}
