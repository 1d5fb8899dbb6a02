// A target as fixtures/target.ts provides it, for unit tests that drive a Recorder without a
// cluster (nothing here is ever contacted: the kubeconfig path does not exist).
import type { ProvidedTarget } from '../../../fixtures/context.js';

export function unitTarget(proxyMode: 'iptables' | 'nftables'): ProvidedTarget {
  return {
    provider: 'lab',
    reason: 'unit test',
    kubeconfigPath: '/nonexistent',
    session: 'unit',
    families: ['ipv4'],
    facts: { kubernetesVersion: 'v1.34.4', proxyMode, serviceCidrs: ['10.96.0.0/16'], podCidrs: ['10.244.0.0/16'], ipFamilies: ['ipv4'], nodes: [], kernel: null, kubeProxy: { version: 'v1.34.4', reportedGates: {} }, sources: {} },
  };
}
