// What a run is about to do to a cluster that is not the kit's own lab, printed before
// anything is created, so whoever runs it can stop it (Ctrl-C) on the wrong cluster.
import { AGENT_CAPABILITIES, AGENT_APP } from '../agent/daemonset.js';
import type { Workload } from '../config/knobs.js';

export interface TargetPlanInput {
  /** the API server URL of the chosen context */
  server: string;
  context?: string;
  nodes: readonly string[];
  workload: Pick<Workload, 'services' | 'clients' | 'bigServiceEndpoints'> & Partial<Pick<Workload, 'overheadHostPort'>>;
  agentPrivileged: boolean;
}

export function describeTargetPlan(p: TargetPlanInput): string[] {
  const most = Math.max(...p.workload.services);
  const nodes = p.nodes.length <= 10 ? p.nodes.join(', ') : `${p.nodes.slice(0, 10).join(', ')} and ${p.nodes.length - 10} more`;
  return [
    `target: API server ${p.server}${p.context ? ` (context ${p.context})` : ''}`,
    `nodes (${p.nodes.length}): ${nodes || 'none'}`,
    'about to create, in one namespace per suite file (all labelled with the session, removed afterwards; kube-sli gc removes what a crash leaves):',
    `  - up to ${most} Services with EndpointSlices (max of SERVICES=${p.workload.services.join(',')}), plus probes: the backend's Service, one programming canary at a time, one Service with ${p.workload.bigServiceEndpoints} endpoints (BIG_SERVICE_ENDPOINTS), and the churn suite's batches of 50`,
    `  - DaemonSet ${AGENT_APP} on every node (hostNetwork, ${p.agentPrivileged ? 'privileged (SLI_AGENT_PRIVILEGED=1)' : `capabilities ${AGENT_CAPABILITIES.join(', ')}`}): packet capture and conntrack events`,
    `  - ${p.workload.clients} loadgen client pods (CLIENTS) and 1 prober pod, connecting only to the Service and pod CIDRs; a backend Deployment of 2 pods`,
    `  - request-overhead: a hostNetwork server pod listening on port ${p.workload.overheadHostPort ?? 'OVERHEAD_HOST_PORT'} of one node, a backend pod behind a NodePort Service, and one loadgen pod that may also reach that node's InternalIP`,
  ];
}
