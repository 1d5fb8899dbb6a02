// The configuration files of a lab node, as text: containerd's config.toml, the kubelet's
// KubeletConfiguration, the CNI network list and the pods' resolv.conf. Pure: the same
// input gives the same files, so they are unit-tested without a kernel.
//
// The choices follow kind's node image, adapted to nodes that share one kernel and one
// mount namespace with each other and with the host:
//   - every path, socket, runc root and cgroup is per node (layout.ts), so two containerds
//     and kubelets never see each other's state;
//   - pod network namespaces are mounted under containerd's state dir
//     (netns_mounts_under_state_dir), not /var/run/netns, so `lab down` finds them;
//   - restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc cannot lower an
//     oom_score_adj below its own and fails every sandbox without it;
//   - containerd 1.6 needs an explicit default runtime (runc v2) for the CRI plugin;
//   - cgroupfs driver with a cgroup root per node (kubelet 1.34 cannot ask containerd 1.6
//     for its driver: the RuntimeConfig call is new in containerd 2.0);
//   - the kubelet serves on the node's InternalIP with a certificate of the lab CA, and
//     authenticates and authorises callers against the API server (webhook), as in any
//     real cluster; the API server reaches it through the lab's egress proxy.
import type { NodeLayout } from './layout.js';

/** The sandbox image kubelet v1.34 and upstream's e2e tests expect. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.1';
export const KUBELET_PORT = 10250;
export const KUBELET_HEALTHZ_PORT = 10248;

export interface ContainerdConfigInput {
  layout: NodeLayout;
  cniBinDir: string;
  cniConfDir: string;
}

const q = (s: string): string => JSON.stringify(s);

export function containerdConfig(i: ContainerdConfigInput): string {
  const l = i.layout;
  return `# written by kube-sli lab up: one containerd per lab node
version = 2
root = ${q(l.containerdRoot)}
state = ${q(l.containerdState)}
oom_score = 0
# Only what a CRI node needs; the others open files or sockets of their own.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(l.containerdSocket)}

[ttrpc]
  address = ${q(`${l.containerdSocket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  disable_hugetlb_controller = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${q(l.runcRoot)}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(i.cniBinDir)}
    conf_dir = ${q(i.cniConfDir)}
    max_conf_num = 1

  # Pulls never leave the lab: the node namespace has no route out, so a missing image
  # fails at once and the pod shows ErrImagePull with the reference.
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
`;
}

export interface KubeletConfigInput {
  layout: NodeLayout;
  nodeIp: string;
  cgroupRoot: string;
  clientCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  maxPods?: number;
}

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1) as an object; JSON is YAML. */
export function kubeletConfig(i: KubeletConfigInput): Record<string, unknown> {
  const l = i.layout;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: i.nodeIp,
    port: KUBELET_PORT,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: KUBELET_HEALTHZ_PORT,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m' },
      x509: { clientCAFile: i.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsKeyFile,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    imageServiceEndpoint: `unix://${l.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: i.cgroupRoot,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failSwapOn: false,
    podLogsDir: l.podLogs,
    volumePluginDir: l.volumePluginDir,
    resolvConf: l.resolvConf,
    clusterDomain: 'cluster.local',
    // The host's disk and memory belong to everyone on this machine: evict only when they
    // are really gone, and never collect the lab's images (they cannot be pulled back).
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    maxPods: i.maxPods ?? 110,
    registerNode: true,
    // the status and sync cadence of a default node
    nodeStatusUpdateFrequency: '10s',
    logging: { format: 'text' },
  };
}

export interface CniConfigInput {
  /** the node's pod range, or one per family (a dual-stack node) */
  podCidr: string | readonly string[];
  ipamDataDir: string;
  mtu?: number;
}

/** The node's CNI network: ptp (a routed veth per pod, like the lab fabric's L3 design),
 * host-local IPAM over the node's podCIDRs with its state per node, portmap for hostPort.
 * One host-local range set per family: a dual-stack pod gets an address of each. ptp
 * puts each range's gateway (its first address, e.g. 10.244.0.1 or fd00:10:244::1) on the
 * node side of every pod's veth and routes the pod's default of that family through it:
 * the IPv6 pod's next hop is the node's own address on that link, no link-local trick. */
export function cniConfList(i: CniConfigInput): Record<string, unknown> {
  const cidrs = typeof i.podCidr === 'string' ? [i.podCidr] : [...i.podCidr];
  return {
    cniVersion: '1.0.0',
    name: 'kube-sli-lab',
    plugins: [
      {
        type: 'ptp',
        // No masquerade: pods talk to pods and Services inside the lab only; nothing is
        // NATed toward anything outside it.
        ipMasq: false,
        mtu: i.mtu ?? 1500,
        ipam: {
          type: 'host-local',
          dataDir: i.ipamDataDir,
          ranges: cidrs.map((subnet) => [{ subnet }]),
          routes: cidrs.map((c) => ({ dst: c.includes(':') ? '::/0' : '0.0.0.0/0' })),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** Pods get a resolver that answers nothing (the lab runs no DNS and no query may leave). */
export function podResolvConf(): string {
  return '# kube-sli lab: no DNS in the lab; pods reach Services by ClusterIP\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n';
}
