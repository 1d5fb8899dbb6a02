// Contract between the lab orchestrator (src/lab/lab.ts, the lab daemon) and the lab node
// runtime (src/lab/runtime/). The runtime does, for lab nodes, what a kubelet does that the
// lab needs: register Nodes and keep them Ready, run the Pods bound to them as processes in
// their own network namespaces, report Pod status, and tear Pods down.
import type { NetworkPlan } from '../network/plan.js';

/** An image the lab can run, mapped to a local program. */
export interface CatalogEntry {
  /** matches the container image by this prefix, tag ignored (e.g. "registry.k8s.io/e2e-test-images/agnhost") */
  image: string;
  /** argv prefix of the local program; the container's command/args are appended (see resolve) */
  resolve(container: { command?: string[]; args?: string[] }): string[];
  /** working directory of the program; default "/" */
  cwd?: string;
}

export interface NodeRuntimeOptions {
  /** kubeconfig with rights to manage Nodes, Leases, Pods and Pod status (the lab admin's) */
  kubeconfigPath: string;
  plan: NetworkPlan;
  /** JSON file for pod network allocations (survives a daemon restart) */
  podStateFile: string;
  /** directory for per-pod logs (stdout/stderr of each container) */
  logDir: string;
  catalog: CatalogEntry[];
  /** progress and errors */
  log?: (line: string) => void;
  /** Node and Lease heartbeat period; default 10 s */
  heartbeatMs?: number;
  /** cap of the restart back-off (restartPolicy Always/OnFailure); default 10 s */
  maxRestartBackoffMs?: number;
  /** kubeProxyVersion reported in nodeInfo; default the apiserver's version */
  kubeProxyVersion?: string;
}

export interface NodeRuntime {
  /** Node names registered (plan.nodes[i].name) */
  nodes: string[];
  /** resolves once every Node reports Ready */
  ready: Promise<void>;
  /** stop watching, kill every pod process, remove pod networks (not the Node objects) */
  stop(): Promise<void>;
}

export type StartNodeRuntime = (opts: NodeRuntimeOptions) => Promise<NodeRuntime>;
