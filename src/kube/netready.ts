// The cluster side of pod network-ready latency: the measured pod and the Service that
// selects only it, a watch that stamps when each pod's events arrive, the pod's own log
// (its egress prober's first success), the kubelets' metrics through nodes/proxy, and the
// room the cluster has for more pods (allocatable pods, ResourceQuota).
import { HOLLOW_LABEL } from './hollow-nodes.js';
import * as k8s from '@kubernetes/client-node';
import type { KubeClients } from './clients.js';
import { proxyText } from './proxy.js';
import { histogram, parseMetrics } from './prom-text.js';
import { sessionLabels } from './session.js';
import { APP_LABEL } from './workloads.js';
import { nowEpochNs } from '../workload/clock.js';
import { TIMEOUTS } from '../timeouts.js';
import type { PromHistogram } from '../sli/prometheus.js';

export const NETREADY_APP = 'netready';
export const NETREADY_POD_LABEL = 'sli.kube-sli.io/netready-pod';
export const NETREADY_PORT = 8080;
/** where the Dockerfile puts src/ in the kit image */
export const NETREADY_POD_SCRIPT = '/opt/kube-sli/src/workload/netready-pod.mjs';
/** labels a node as not running containers (kubemark's hollow nodes): pods are kept off it */
export const HOLLOW_NODE_LABELS = ['kubemark', HOLLOW_LABEL];

export interface NetreadyPodSpec {
  namespace: string;
  session: string;
  name: string;
  image: string;
  /** host:port of a Service VIP the pod's egress prober connects to */
  egressTarget: string;
  /** the nodes it may be scheduled onto (real nodes) */
  nodes: readonly string[];
}

/** The kit image's netready-pod program (listener + egress prober); small requests, no image pull. */
export function netreadyPod(s: NetreadyPodSpec): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: s.name, namespace: s.namespace, labels: { ...sessionLabels(s.session), [APP_LABEL]: NETREADY_APP, [NETREADY_POD_LABEL]: s.name } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...s.nodes] }] }] } } },
      containers: [
        {
          name: 'netready',
          image: s.image,
          imagePullPolicy: 'IfNotPresent',
          // plain node, no TypeScript loader: up in tens of ms (src/workload/netready-pod.mjs)
          command: ['node', NETREADY_POD_SCRIPT],
          args: [String(NETREADY_PORT)],
          env: [{ name: 'KUBE_SLI_EGRESS_PROBE', value: s.egressTarget }],
          ports: [{ containerPort: NETREADY_PORT, protocol: 'TCP' }],
          resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { cpu: '1', memory: '160Mi' } },
        },
      ],
    },
  };
}

/** A ClusterIP Service that selects only pod `name`. */
export function netreadyService(namespace: string, session: string, name: string): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { ...sessionLabels(session), [APP_LABEL]: NETREADY_APP } },
    spec: { type: 'ClusterIP', selector: { [NETREADY_POD_LABEL]: name }, ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: NETREADY_PORT }] },
  };
}

export interface PodSeen {
  /** runner's clock, epoch ns, when the ADDED event arrived */
  addedNs?: bigint;
  /** runner's clock when the first event carrying a pod IP arrived */
  ipSeenNs?: bigint;
  pod: k8s.V1Pod;
}

/** Watches the namespace's netready pods and stamps, on the runner's clock, when events arrive. */
export class PodWatch {
  readonly seen = new Map<string, PodSeen>();
  private abort?: AbortController;
  private failure?: Error;

  constructor(
    private readonly clients: KubeClients,
    private readonly namespace: string,
  ) {}

  async start(): Promise<void> {
    const w = new k8s.Watch(this.clients.config);
    this.abort = await w.watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      { labelSelector: `${APP_LABEL}=${NETREADY_APP}`, allowWatchBookmarks: false },
      (type: string, pod: k8s.V1Pod) => {
        const at = nowEpochNs();
        const name = pod.metadata?.name;
        if (!name || (type !== 'ADDED' && type !== 'MODIFIED')) return;
        const s = this.seen.get(name) ?? { pod };
        s.pod = pod;
        if (type === 'ADDED') s.addedNs ??= at;
        if (pod.status?.podIP && s.ipSeenNs === undefined) s.ipSeenNs = at;
        this.seen.set(name, s);
      },
      (err: unknown) => {
        // a watch closed by stop() ends without error; any other end is reported when used
        if (err && !this.abort?.signal.aborted) this.failure = err instanceof Error ? err : new Error(JSON.stringify(err));
      },
    );
  }

  /** Throws if the watch ended on its own (the API server closed it). */
  check(): void {
    if (this.failure) throw new Error(`the pod watch in ${this.namespace} ended: ${this.failure.message}`);
  }

  stop(): void {
    this.abort?.abort();
  }
}

/** The pod's log lines that are JSON objects (the kit server writes one per event). */
export async function podJsonLines(clients: KubeClients, namespace: string, name: string): Promise<Record<string, unknown>[]> {
  const text = await clients.core.readNamespacedPodLog({ namespace, name, container: 'netready' });
  return String(text)
    .split('\n')
    .flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Nodes that run containers: Ready, schedulable, not hollow. */
export async function realNodes(clients: KubeClients): Promise<k8s.V1Node[]> {
  const nodes = (await clients.core.listNode()).items;
  return nodes.filter(
    (n) =>
      !n.spec?.unschedulable &&
      !HOLLOW_NODE_LABELS.some((l) => n.metadata?.labels?.[l] !== undefined) &&
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
      !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
  );
}

export interface PodRoom {
  /** pods the real nodes can still take (allocatable pods minus pods not yet finished) */
  nodes: number;
  perNode: Record<string, { allocatable: number; used: number }>;
  /** pods a ResourceQuota of the namespace still allows; undefined without one */
  quota?: { name: string; hard: number; used: number };
}

/** How many more pods the real nodes and the namespace's ResourceQuotas allow. */
export async function podRoom(clients: KubeClients, nodes: readonly k8s.V1Node[], namespace?: string): Promise<PodRoom> {
  const perNode: PodRoom['perNode'] = {};
  let room = 0;
  for (const n of nodes) {
    const name = n.metadata!.name!;
    const allocatable = Number(n.status?.allocatable?.pods ?? 0);
    const pods = await clients.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name},status.phase!=Succeeded,status.phase!=Failed` });
    perNode[name] = { allocatable, used: pods.items.length };
    room += Math.max(0, allocatable - pods.items.length);
  }
  let quota: PodRoom['quota'];
  if (namespace) {
    for (const q of (await clients.core.listNamespacedResourceQuota({ namespace })).items) {
      const hard = q.status?.hard?.pods ?? q.spec?.hard?.pods;
      if (hard === undefined) continue;
      const h = Number(hard);
      const used = Number(q.status?.used?.pods ?? 0);
      if (!quota || h - used < quota.hard - quota.used) quota = { name: q.metadata!.name!, hard: h, used };
    }
  }
  return { nodes: room, perNode, ...(quota ? { quota } : {}) };
}

export const POD_START_SLI = 'kubelet_pod_start_sli_duration_seconds';
export const RUNTIME_OPERATIONS = 'kubelet_runtime_operations_duration_seconds';

export interface KubeletScrape {
  node: string;
  podStart?: PromHistogram;
  /** sandbox creation, CNI ADD included */
  runPodSandbox?: PromHistogram;
  error?: string;
}

/** The kubelet's pod start and sandbox histograms, through nodes/<node>/proxy/metrics. */
export async function scrapeKubelet(clients: KubeClients, node: string): Promise<KubeletScrape> {
  try {
    const text = await proxyText(clients, { kind: 'node', name: node }, '/metrics', { timeoutMs: TIMEOUTS.metricsScrapeMs, retry: false });
    const f = await parseMetrics(text);
    const podStart = histogram(f, POD_START_SLI);
    const runPodSandbox = histogram(f, RUNTIME_OPERATIONS, { operation_type: 'run_podsandbox' });
    return { node, ...(podStart ? { podStart } : {}), ...(runPodSandbox ? { runPodSandbox } : {}) };
  } catch (e) {
    return { node, error: (e as Error).message };
  }
}
