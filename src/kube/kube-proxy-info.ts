// What a running kube-proxy says about itself on /metrics: its version
// (kubernetes_build_info, component-base's legacyregistry), its feature gates as it applied
// them (kubernetes_feature_enabled{name,stage}), when its process started and when it last
// finished a sync of the rules.
import type { KubeClients } from './clients.js';
import { gaugeValue, parseMetrics, samples, type Families } from './prom-text.js';
import { proxyText } from './proxy.js';
import { TIMEOUTS } from '../timeouts.js';

export interface KubeProxyInfo {
  /** git_version of kubernetes_build_info; null when it serves none */
  version: string | null;
  /** gate → enabled, as kubernetes_feature_enabled reports them */
  featureGates: Record<string, boolean>;
  /** process_start_time_seconds (Unix s) */
  processStart?: number;
  /** kubeproxy_sync_proxy_rules_last_timestamp_seconds (Unix s): the last completed sync */
  lastSync?: number;
}

export function kubeProxyInfo(f: Families): KubeProxyInfo {
  const build = samples(f, 'kubernetes_build_info')[0];
  const featureGates: Record<string, boolean> = {};
  for (const s of samples(f, 'kubernetes_feature_enabled')) if (s.labels.name) featureGates[s.labels.name] = s.value === 1;
  const processStart = gaugeValue(f, 'process_start_time_seconds');
  const lastSync = gaugeValue(f, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds');
  return {
    version: build?.labels.git_version ?? null,
    featureGates,
    ...(processStart !== undefined ? { processStart } : {}),
    ...(lastSync !== undefined ? { lastSync } : {}),
  };
}

/** A node's kube-proxy through nodes/<node>:<port>/proxy/metrics. */
export async function readKubeProxyInfo(clients: KubeClients, node: string, port = 10249): Promise<KubeProxyInfo> {
  const text = await proxyText(clients, { kind: 'node', name: node, port }, '/metrics', { timeoutMs: TIMEOUTS.metricsScrapeMs, retry: false });
  return kubeProxyInfo(await parseMetrics(text));
}

/** "A=true,B=false" of the named gates as kube-proxy reports them ("A=?" when it does not). */
export function describeGates(names: readonly string[], reported: Record<string, boolean>): string {
  return [...names].sort().map((g) => `${g}=${g in reported ? String(reported[g]) : '? (not in kubernetes_feature_enabled)'}`).join(',');
}
