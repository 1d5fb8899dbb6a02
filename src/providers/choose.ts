// Which cluster a run uses, decided before anything starts (DESIGN.md §3):
// 1. SLI_PROVIDER when set (kubeconfig | lab | kind | k3s);
// 2. KUBECONFIG, or ~/.kube/config with a current context: the user's cluster;
// 3. otherwise the embedded lab, which needs Linux and root.
// kind and k3s (testcontainers) need a Docker engine and are chosen explicitly.
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
  /** one line for the run's log: why this provider */
  reason: string;
}

export function chooseProvider(env: Record<string, string | undefined>, host: HostFacts): ProviderChoice {
  const explicit = env.SLI_PROVIDER;
  if (explicit !== undefined && explicit !== '') {
    if (!(PROVIDER_NAMES as readonly string[]).includes(explicit)) {
      throw new ProviderConfigError(`SLI_PROVIDER="${explicit}" is not a provider: use one of ${PROVIDER_NAMES.join(', ')}`);
    }
    const provider = explicit as ProviderName;
    if (provider === 'kubeconfig') return fromKubeconfig(env, host, 'SLI_PROVIDER=kubeconfig');
    if (provider === 'lab') labPreflight(host);
    return { provider, reason: `SLI_PROVIDER=${provider}` };
  }
  if (env.KUBECONFIG) return fromKubeconfig(env, host, 'KUBECONFIG is set');
  const home = `${host.home}/.kube/config`;
  const text = host.readFile(home);
  if (text !== undefined && /^current-context:\s*\S+/m.test(text)) {
    return { provider: 'kubeconfig', kubeconfig: home, reason: `${home} has a current context` };
  }
  labPreflight(host);
  return { provider: 'lab', reason: 'no KUBECONFIG and no current context: the embedded lab' };
}

function fromKubeconfig(env: Record<string, string | undefined>, host: HostFacts, why: string): ProviderChoice {
  const paths = (env.KUBECONFIG ?? `${host.home}/.kube/config`).split(':').filter(Boolean);
  const missing = paths.filter((p) => host.readFile(p) === undefined);
  if (missing.length === paths.length) {
    throw new ProviderError(
      `${why}, but no kubeconfig file exists at ${paths.join(', ')}: point KUBECONFIG at your cluster's kubeconfig, or unset it to use the embedded lab`,
    );
  }
  return { provider: 'kubeconfig', kubeconfig: paths.join(':'), reason: why };
}

function labPreflight(host: HostFacts): void {
  if (host.platform !== 'linux') {
    throw new ProviderError(
      `no cluster given and the embedded lab needs Linux (this is ${host.platform}): set KUBECONFIG to a cluster, or SLI_PROVIDER=kind or k3s on a Docker host`,
    );
  }
  if (host.uid !== 0) {
    throw new ProviderError(
      'no cluster given and the embedded lab needs root (network namespaces): run as root, set KUBECONFIG to a cluster, or SLI_PROVIDER=kind or k3s on a Docker host',
    );
  }
}
