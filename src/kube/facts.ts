// Facts about the cluster under test, detected once before any suite creates anything
// and recorded in every report: Kubernetes version, kube-proxy mode, Service CIDR, nodes
// and their kernels. Each fact says where it came from; a fact that cannot be read is
// null with the reason, never a guess.
import type * as k8s from '@kubernetes/client-node';
import type { NodeInfo } from '../report/types.js';
import { apiMessage, apiStatus, type KubeClients } from './clients.js';
import { proxyText } from './proxy.js';
import { HOLLOW_LABEL, withoutHollow } from './hollow-nodes.js';
import { describeGates, readKubeProxyInfo } from './kube-proxy-info.js';

export interface ClusterFacts {
  kubernetesVersion: string | null;
  /** kube-proxy mode from kube-proxy's /proxyMode, else SLI_PROXY_MODE, else null */
  proxyMode: string | null;
  serviceCidrs: string[];
  /** pod ranges: SLI_POD_CIDR, else the Nodes' spec.podCIDRs (the loadgen's other allowed range) */
  podCidrs: string[];
  /** the address families the cluster serves Services and pods in, primary first: those
   * with both a Service range and a pod range (the Service ranges' order) */
  ipFamilies: IpFamilyName[];
  nodes: NodeInfo[];
  /** kernel of the nodes; "mixed" when they differ */
  kernel: string | null;
  /** kube-proxy as it reports itself on /metrics (kubernetes_build_info, kubernetes_feature_enabled) */
  kubeProxy: KubeProxyFacts;
  /** how each fact was found, or why it was not */
  sources: Record<string, string>;
}

export type IpFamilyName = 'ipv4' | 'ipv6';

const familyOfCidr = (c: string): IpFamilyName => (c.includes(':') ? 'ipv6' : 'ipv4');

/** Families with a Service range and a pod range, in the Service ranges' order (the
 * first Service range is the cluster's primary family). */
export function clusterIpFamilies(serviceCidrs: readonly string[], podCidrs: readonly string[]): IpFamilyName[] {
  const pods = new Set(podCidrs.map(familyOfCidr));
  return [...new Set(serviceCidrs.map(familyOfCidr))].filter((f) => pods.has(f));
}

export interface KubeProxyFacts {
  /** git_version of kubernetes_build_info; "mixed: a, b" when nodes differ; null when unreadable */
  version: string | null;
  /** gate → enabled as kube-proxy reports it (first node that answered) */
  reportedGates: Record<string, boolean>;
  /** the flags the kit gave kube-proxy (lab only; elsewhere the kit cannot see them) */
  flags?: string[];
  /** the gates set by those flags, as kube-proxy reports them: A=false,B=true */
  featureGates?: string;
}

/** Adds what the lab knows (flags, explicitly set gates) to the facts from /metrics. */
export function withKubeProxyFlags(f: KubeProxyFacts, rec: { args: string[]; featureGates: Record<string, boolean> } | undefined): KubeProxyFacts {
  if (!rec) return f;
  const names = Object.keys(rec.featureGates);
  return { ...f, flags: [...rec.args], ...(names.length > 0 ? { featureGates: describeGates(names, f.reportedGates) } : {}) };
}

export class FactsError extends Error {
  override name = 'FactsError';
}

export interface DetectOptions {
  env?: Record<string, string | undefined>;
  /** kube-proxy metrics port on the nodes (serves /proxyMode) */
  kubeProxyPort?: number;
}

/** The range quoted by the API server when a Service asks for an impossible ClusterIP. */
export function serviceCidrFromError(message: string): string | undefined {
  return /valid IPs is ([0-9a-f.:]+\/\d+)/i.exec(message)?.[1];
}

async function serviceCidrs(clients: KubeClients, env: Record<string, string | undefined>, sources: Record<string, string>): Promise<string[]> {
  if (env.SLI_SERVICE_CIDR) {
    sources.serviceCidrs = 'env SLI_SERVICE_CIDR';
    return env.SLI_SERVICE_CIDR.split(',').map((s) => s.trim()).filter(Boolean);
  }
  try {
    const list = await clients.networking.listServiceCIDR();
    const cidrs = list.items.flatMap((s) => s.spec?.cidrs ?? []);
    if (cidrs.length > 0) {
      sources.serviceCidrs = 'ServiceCIDR objects (networking.k8s.io/v1)';
      return cidrs;
    }
  } catch (e) {
    if (apiStatus(e) !== 404 && apiStatus(e) !== 403) throw e;
  }
  // Older servers: a dry-run Service with an out-of-range ClusterIP makes the API server
  // name its range; dry-run creates nothing.
  try {
    await clients.core.createNamespacedService({
      namespace: 'default',
      dryRun: 'All',
      body: { metadata: { name: 'kube-sli-cidr-probe' }, spec: { clusterIP: '1.1.1.1', ports: [{ port: 80 }] } },
    });
  } catch (e) {
    const cidr = serviceCidrFromError(apiMessage(e));
    if (cidr) {
      sources.serviceCidrs = 'the API server\'s answer to a dry-run Service outside the range';
      return [cidr];
    }
  }
  throw new FactsError('cannot find the Service CIDR (no ServiceCIDR objects, and the API server did not name its range): set SLI_SERVICE_CIDR, e.g. SLI_SERVICE_CIDR=10.96.0.0/12');
}

/** Pod ranges: SLI_POD_CIDR, else every Node's spec.podCIDRs (the controller-manager cuts them from its --cluster-cidr). */
export function podCidrsOf(nodes: readonly k8s.V1Node[], env: Record<string, string | undefined>, sources: Record<string, string>): string[] {
  if (env.SLI_POD_CIDR) {
    sources.podCidrs = 'env SLI_POD_CIDR';
    return env.SLI_POD_CIDR.split(',').map((s) => s.trim()).filter(Boolean);
  }
  const cidrs = [...new Set(nodes.flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])))];
  if (cidrs.length === 0) {
    throw new FactsError(
      'cannot find the pod CIDR (no Node has spec.podCIDRs; the network plugin allocates pod IPs itself): set SLI_POD_CIDR to the cluster\'s pod range, e.g. SLI_POD_CIDR=10.244.0.0/16 (the loadgen connects only to the Service and pod CIDRs)',
    );
  }
  sources.podCidrs = 'Node spec.podCIDRs';
  return cidrs;
}

export async function detectFacts(clients: KubeClients, o: DetectOptions = {}): Promise<ClusterFacts> {
  const env = o.env ?? process.env;
  const sources: Record<string, string> = {};
  const version = await clients.version.getCode();
  sources.kubernetesVersion = '/version';
  const allNodes = await clients.core.listNode();
  // kubemark hollow nodes carry load, not a dataplane: the facts (and so the kube-proxy
  // scrapes, the kernels, the pod CIDRs) are the real nodes'
  const { real, hollow } = withoutHollow(allNodes.items);
  const nodeList = { ...allNodes, items: real };
  if (hollow > 0) sources.nodes = `Nodes without the label ${HOLLOW_LABEL}=true (${hollow} hollow nodes left out)`;
  const nodes: NodeInfo[] = nodeList.items.map((n) => ({
    name: n.metadata!.name!,
    kernel: n.status?.nodeInfo?.kernelVersion,
    kubeletVersion: n.status?.nodeInfo?.kubeletVersion,
    osImage: n.status?.nodeInfo?.osImage,
    arch: n.status?.nodeInfo?.architecture,
    containerRuntime: n.status?.nodeInfo?.containerRuntimeVersion,
    roles: Object.keys(n.metadata?.labels ?? {})
      .filter((l) => l.startsWith('node-role.kubernetes.io/'))
      .map((l) => l.slice('node-role.kubernetes.io/'.length)),
  }));
  const kernels = [...new Set(nodes.map((n) => n.kernel).filter((k): k is string => !!k))];
  const kernel = kernels.length === 0 ? null : kernels.length === 1 ? kernels[0]! : 'mixed';

  // kube-proxy's own answer first; SLI_PROXY_MODE only where it cannot be asked
  let proxyMode: string | null = null;
  const port = o.kubeProxyPort ?? 10249;
  const why: string[] = [];
  for (const n of nodes) {
    try {
      proxyMode = (await proxyText(clients, { kind: 'node', name: n.name, port }, '/proxyMode', { timeoutMs: 5000, retry: false })).trim();
      sources.proxyMode = `kube-proxy /proxyMode on node ${n.name} (port ${port})`;
      break;
    } catch (e) {
      why.push(`${n.name}: ${(e as Error).message}`);
    }
  }
  if (proxyMode === null && env.SLI_PROXY_MODE) {
    proxyMode = env.SLI_PROXY_MODE;
    sources.proxyMode = 'env SLI_PROXY_MODE (kube-proxy /proxyMode not reachable)';
  } else if (proxyMode === null) {
    sources.proxyMode = `unknown: kube-proxy's /proxyMode not reachable through nodes/proxy (${why[0] ?? 'no nodes'}); set SLI_PROXY_MODE`;
  }
  const svc = await serviceCidrs(clients, env, sources);
  const pods = podCidrsOf(nodeList.items, env, sources);
  sources.ipFamilies = `the families of the Service CIDRs (${sources.serviceCidrs}) that also have a pod CIDR (${sources.podCidrs})`;
  const versions = new Map<string, string>();
  let reportedGates: Record<string, boolean> = {};
  const kpWhy: string[] = [];
  // a few nodes are enough to see a mixed rollout; each /metrics is ~100 kB
  for (const n of nodes.slice(0, 10)) {
    try {
      const info = await readKubeProxyInfo(clients, n.name, port);
      if (info.version) versions.set(n.name, info.version);
      if (Object.keys(reportedGates).length === 0) reportedGates = info.featureGates;
    } catch (e) {
      kpWhy.push(`${n.name}: ${(e as Error).message}`);
    }
  }
  const distinct = [...new Set(versions.values())];
  sources.kubeProxyVersion =
    distinct.length > 0
      ? `kubernetes_build_info on kube-proxy /metrics of ${[...versions.keys()].join(', ')} (port ${port})`
      : `unknown: no kube-proxy /metrics with kubernetes_build_info through nodes/proxy (${kpWhy[0] ?? 'no nodes'})`;
  if (versions.size > 0 && nodes.length > 10) sources.kubeProxyVersion += ` (first 10 of ${nodes.length} nodes)`;
  return {
    kubernetesVersion: version.gitVersion,
    proxyMode,
    kubeProxy: { version: distinct.length === 0 ? null : distinct.length === 1 ? distinct[0]! : `mixed: ${distinct.join(', ')}`, reportedGates },
    serviceCidrs: svc,
    podCidrs: pods,
    ipFamilies: clusterIpFamilies(svc, pods),
    nodes,
    kernel,
    sources,
  };
}
