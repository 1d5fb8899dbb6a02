// Where a lab node keeps its files: everything of node <name> lives under
// <state dir>/nodes/<name>/, so `lab down` removes it with the state dir, and two nodes (or
// two labs) sharing one kernel never share a path, a socket or a cgroup.
import { join } from 'node:path';

export interface NodeLayout {
  dir: string;
  containerdConfig: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  /** runc's state (--root): per node, so two containerds never list each other's containers */
  runcRoot: string;
  kubeletDir: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  kubeletPki: string;
  podLogs: string;
  volumePluginDir: string;
  cniConfDir: string;
  cniIpamDir: string;
  resolvConf: string;
}

export function nodeLayout(stateDir: string, node: string): NodeLayout {
  const dir = join(stateDir, 'nodes', node);
  const c = join(dir, 'containerd');
  const k = join(dir, 'kubelet');
  return {
    dir,
    containerdConfig: join(c, 'config.toml'),
    containerdRoot: join(c, 'root'),
    containerdState: join(c, 'state'),
    containerdSocket: join(c, 'c.sock'),
    runcRoot: join(c, 'runc'),
    kubeletDir: k,
    kubeletConfig: join(dir, 'kubelet-config.yaml'),
    kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
    kubeletPki: join(dir, 'pki'),
    podLogs: join(dir, 'pod-logs'),
    volumePluginDir: join(dir, 'volume-plugins'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    resolvConf: join(dir, 'resolv.conf'),
  };
}

/** The cgroup (cgroupfs driver) under which the node's kubelet puts every pod: one per
 * node and lab, directly below each hierarchy's root. */
export function nodeCgroupRoot(labId: string, node: string): string {
  return `/ksli-${labId}-${node}`;
}
