// Where the cluster comes from. Modelled on testcontainers: `start()` returns a started
// handle that knows how to reach the cluster and how to stop what the kit brought up
// (a user's own cluster is never stopped).
export type ProviderName = 'kubeconfig' | 'lab' | 'kind' | 'k3s';
export const PROVIDER_NAMES: readonly ProviderName[] = ['kubeconfig', 'lab', 'kind', 'k3s'];
export type ProxyMode = 'iptables' | 'nftables';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables'];

export interface StartedCluster {
  provider: ProviderName;
  kubeconfigPath: string;
  /** stops what the kit started; a no-op for a user's cluster */
  stop(): Promise<void>;
}

export class ProviderError extends Error {}

/** A provider setting names something that does not exist (a typo, not a broken host). */
export class ProviderConfigError extends ProviderError {}
