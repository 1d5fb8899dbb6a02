// Kubemark hollow nodes (the lab's `--hollow-nodes`, or a kubemark cluster's own): Nodes
// that carry load for the control plane but have no dataplane. The kit measures real
// nodes only: it leaves Nodes with this label out of the cluster facts, and keeps its own
// pods off them (a NoSchedule taint with the same key; the agent DaemonSet, which
// tolerates every taint, by node affinity). Load meant for them selects the label and
// tolerates the taint.
import type * as k8s from '@kubernetes/client-node';

export const HOLLOW_LABEL = 'kube-sli.io/hollow-node';
export const HOLLOW_TAINT: k8s.V1Taint = { key: HOLLOW_LABEL, value: 'true', effect: 'NoSchedule' };
export const HOLLOW_TOLERATION: k8s.V1Toleration = { key: HOLLOW_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' };
export const HOLLOW_NODE_SELECTOR: Readonly<Record<string, string>> = { [HOLLOW_LABEL]: 'true' };
/** Keeps a pod off hollow nodes; a no-op on clusters without them. */
export const NOT_HOLLOW_AFFINITY: k8s.V1Affinity = {
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOLLOW_LABEL, operator: 'DoesNotExist' }] }] } },
};

export function isHollowNode(n: Pick<k8s.V1Node, 'metadata'>): boolean {
  return n.metadata?.labels?.[HOLLOW_LABEL] === 'true';
}

/** The real nodes of a Node list, and how many hollow ones were left out. */
export function withoutHollow<T extends Pick<k8s.V1Node, 'metadata'>>(nodes: readonly T[]): { real: T[]; hollow: number } {
  const real = nodes.filter((n) => !isHollowNode(n));
  return { real, hollow: nodes.length - real.length };
}
