// The node agent as a DaemonSet: one per node, in the node's network namespace
// (hostNetwork) so its capture sees the node boundary and its conntrack the node's table.
// NET_ADMIN (conntrack netlink, sysctls) and NET_RAW (packet capture) rather than full
// privilege; some runtimes mount /proc/sys read-only, in which case nf_conntrack_acct and
// nf_conntrack_timestamp must already be on or the agent must run privileged
// (SLI_AGENT_PRIVILEGED=1).
import type * as k8s from '@kubernetes/client-node';
import { sessionLabels } from '../kube/session.js';
import { NOT_HOLLOW_AFFINITY } from '../kube/hollow-nodes.js';

export const AGENT_PORT = 9464;
export const AGENT_APP = 'kube-sli-agent';
/** what the agent asks for unless SLI_AGENT_PRIVILEGED=1 (also printed before a run) */
export const AGENT_CAPABILITIES = ['NET_ADMIN', 'NET_RAW'] as const;

export interface AgentDaemonSetSpec {
  namespace: string;
  session: string;
  image: string;
  serviceCidrs: string[];
  /** listen on [::] (both families): a node of an IPv6 cluster is reached at its IPv6 address */
  ipv6?: boolean;
  port?: number;
  privileged?: boolean;
  name?: string;
}

export function agentDaemonSet(spec: AgentDaemonSetSpec): k8s.V1DaemonSet {
  const port = spec.port ?? AGENT_PORT;
  const labels = { ...sessionLabels(spec.session), 'sli.kube-sli.io/app': AGENT_APP };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: spec.name ?? AGENT_APP, namespace: spec.namespace, labels },
    spec: {
      selector: { matchLabels: { 'sli.kube-sli.io/app': AGENT_APP, ...sessionLabels(spec.session) } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          terminationGracePeriodSeconds: 5,
          // every node, control plane included: a client may sit anywhere
          tolerations: [{ operator: 'Exists' }],
          // but not kubemark's hollow nodes: no dataplane there to observe
          affinity: NOT_HOLLOW_AFFINITY,
          containers: [
            {
              name: 'agent',
              image: spec.image,
              args: [
                'agent',
                ...spec.serviceCidrs.flatMap((c) => ['--service-cidr', c]),
                '--listen',
                spec.ipv6 ? `[::]:${port}` : `0.0.0.0:${port}`,
                '--mode',
                'records',
              ],
              ports: [{ containerPort: port, hostPort: port, protocol: 'TCP', name: 'agent' }],
              readinessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 1 },
              securityContext: spec.privileged ? { privileged: true } : { capabilities: { add: [...AGENT_CAPABILITIES] } },
            },
          ],
        },
      },
    },
  };
}
