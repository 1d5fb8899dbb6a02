// Which cluster a run uses, decided before anything starts. The target is always named:
// 1. SLI_PROVIDER when set (kubeconfig | lab | kind | k3s);
// 2. KUBECONFIG (its current context, or SLI_CONTEXT), or SLI_CONTEXT=<name> in
//    ~/.kube/config: the user's cluster;
// 3. a current context in ~/.kube/config that nobody named is refused: a conformance run
//    creates thousands of Services, and the context a shell happens to point at may be
//    production;
// 4. otherwise the embedded lab, which needs Linux and root.
// kind and k3s (testcontainers) need a Docker engine and are chosen explicitly.
import * as k8s from '@kubernetes/client-node';
import { PROVIDER_NAMES, ProviderConfigError, ProviderError, type ProviderName } from './types.js';

export interface HostFacts {
  platform: string;
  uid: number | undefined;
  home: string;
  /** reads a file or returns undefined when it is not there */
  readFile(path: string): string | undefined;
}

export interface ProviderChoice {
  provider: ProviderName;
  /** the kubeconfig path(s) for `kubeconfig` */
  kubeconfig?: string;
  /** the context to use in it (SLI_CONTEXT); unset: the kubeconfig's current context */
  context?: string;
  /** one line for the run's log: why this provider */
  reason: string;
}

const HOW_TO_NAME = (home: string, context: string): string =>
  `to run on it, name it: SLI_CONTEXT=${context} (or KUBECONFIG=${home}); to use the embedded lab instead: SLI_PROVIDER=lab`;

export function chooseProvider(env: Record<string, string | undefined>, host: HostFacts): ProviderChoice {
  const explicit = env.SLI_PROVIDER;
  const context = env.SLI_CONTEXT || undefined;
  if (explicit !== undefined && explicit !== '') {
    if (!(PROVIDER_NAMES as readonly string[]).includes(explicit)) {
      throw new ProviderConfigError(`SLI_PROVIDER="${explicit}" is not a provider: use one of ${PROVIDER_NAMES.join(', ')}`);
    }
    const provider = explicit as ProviderName;
    if (provider === 'kubeconfig') return fromKubeconfig(env, host, 'SLI_PROVIDER=kubeconfig');
    if (context !== undefined) {
      throw new ProviderConfigError(
        `SLI_CONTEXT=${context} names a context of your kubeconfig, but SLI_PROVIDER=${provider} brings its own cluster: unset SLI_CONTEXT, or set SLI_PROVIDER=kubeconfig`,
      );
    }
    if (provider === 'lab') labPreflight(host);
    return { provider, reason: `SLI_PROVIDER=${provider}` };
  }
  if (env.KUBECONFIG) return fromKubeconfig(env, host, `KUBECONFIG=${env.KUBECONFIG}`);
  if (context !== undefined) return fromKubeconfig(env, host, `SLI_CONTEXT=${context}`);
  const home = `${host.home}/.kube/config`;
  const current = currentContext(host.readFile(home));
  if (current !== undefined) {
    throw new ProviderConfigError(`${home} has the current context "${current}", but kube-sli never uses a context nobody named: ${HOW_TO_NAME(home, current)}`);
  }
  labPreflight(host);
  return { provider: 'lab', reason: 'no KUBECONFIG, no SLI_CONTEXT and no current context: the embedded lab' };
}

/** The file's current context, YAML or JSON (the lab writes JSON, which is YAML too). */
function currentContext(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(text);
    return kc.getCurrentContext() || undefined;
  } catch {
    return /^current-context:\s*["']?([^"'\s]+)/m.exec(text)?.[1];
  }
}

/** Context names of a kubeconfig file; undefined when it does not parse. */
function contextNames(text: string): string[] | undefined {
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(text);
    return kc.getContexts().map((c) => c.name);
  } catch {
    return undefined;
  }
}

function fromKubeconfig(env: Record<string, string | undefined>, host: HostFacts, why: string): ProviderChoice {
  const home = `${host.home}/.kube/config`;
  const paths = (env.KUBECONFIG || home).split(':').filter(Boolean);
  const texts = paths.map((p) => host.readFile(p));
  if (texts.every((t) => t === undefined)) {
    throw new ProviderError(
      `${why}, but no kubeconfig file exists at ${paths.join(', ')}: point KUBECONFIG at your cluster's kubeconfig, or unset it to use the embedded lab`,
    );
  }
  const context = env.SLI_CONTEXT || undefined;
  const kubeconfig = paths.join(':');
  if (context === undefined) {
    // the first current-context of the KUBECONFIG list wins, as in kubectl
    const current = texts.map(currentContext).find((c) => c !== undefined);
    if (!env.KUBECONFIG) {
      // SLI_PROVIDER=kubeconfig alone does not name a cluster
      throw new ProviderConfigError(
        current === undefined
          ? `${why}, but neither KUBECONFIG nor SLI_CONTEXT names a cluster: set SLI_CONTEXT=<context> or KUBECONFIG=<file>`
          : `${why}, but nothing names the cluster: ${home} has the current context "${current}", which kube-sli never uses unnamed; ${HOW_TO_NAME(home, current)}`,
      );
    }
    if (current === undefined) {
      throw new ProviderConfigError(`${why} has no current context: name the context with SLI_CONTEXT=<context>`);
    }
    return { provider: 'kubeconfig', kubeconfig, reason: `${why} (its current context "${current}")` };
  }
  const known = texts.flatMap((t) => (t === undefined ? [] : (contextNames(t) ?? [])));
  if (!known.includes(context)) {
    throw new ProviderConfigError(
      `SLI_CONTEXT=${context} is not a context of ${kubeconfig}${known.length ? `; its contexts: ${known.join(', ')}` : ' (it has none)'}: set SLI_CONTEXT to one of them`,
    );
  }
  return { provider: 'kubeconfig', kubeconfig, context, reason: env.KUBECONFIG ? `${why}, SLI_CONTEXT=${context}` : `SLI_CONTEXT=${context} in ${kubeconfig}` };
}

function labPreflight(host: HostFacts): void {
  if (host.platform !== 'linux') {
    throw new ProviderError(
      `no cluster given and the embedded lab needs Linux (this is ${host.platform}): set KUBECONFIG or SLI_CONTEXT to name a cluster, or SLI_PROVIDER=kind or k3s on a Docker host`,
    );
  }
  if (host.uid !== 0) {
    throw new ProviderError(
      'no cluster given and the embedded lab needs root (network namespaces): run as root, set KUBECONFIG or SLI_CONTEXT to name a cluster, or SLI_PROVIDER=kind or k3s on a Docker host',
    );
  }
}
