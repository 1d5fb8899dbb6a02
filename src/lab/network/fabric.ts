// Creates and destroys the lab fabric: one fabric namespace with a bridge, one namespace
// per node attached to it by a veth, and the routes that make every pod range reachable
// from every node. The root namespace gets nothing: every link is born inside a lab
// namespace (`ip link add … netns …`), and no lab namespace has a default route, so no
// packet can leave the lab.
//
// Routing, per node namespace and per IP family of the lab (an ipv6 lab has only the
// IPv6 half, a dual lab both):
//   <nodeCidr>          dev eth0            (connected: the fabric)
//   <podCIDR of j>      via <InternalIP j>  for every other node j
//   <pod IP>/32         dev vp<hash>        per local pod (pods.ts)
//   <serviceCidr>       via <fabric addr>   src <InternalIP>
// The service route is for traffic that starts in the node namespace (hostNetwork pods,
// probes run on the node): a socket's route lookup happens before netfilter's OUTPUT
// hook, where kube-proxy DNATs, so without some route connect() to a ClusterIP fails
// with ENETUNREACH before kube-proxy ever sees it. (On a real node the default route
// plays this part.) Pod traffic needs no such route: it arrives on vp<hash>, PREROUTING
// DNATs it before the routing decision. A VIP that nothing DNATs goes to the fabric
// namespace, whose `unreachable <serviceCidr>` route answers ICMP host unreachable: the
// client fails at once (EHOSTUNREACH) instead of retransmitting its SYN after 1 s, which
// would quantise a programming-latency prober to the retransmit timer. (ICMP errors are
// rate-limited per destination, so under a burst some of those SYNs are dropped
// silently, as on a real network.) The packet ends inside the lab either way.
//
// ip_forward=1 in node namespaces, and in the fabric namespace because the kernel only
// sends that ICMP error when forwarding is on; the fabric's only routes lead back to the
// nodes (no default route), so it cannot forward anywhere else. Bridge netfilter is switched off in the fabric
// namespace (per-namespace sysctl): pods are routed (L3) on their node, never bridged,
// so kube-proxy needs no br_netfilter and nothing global changes.
//
// Neighbour entries between nodes and the fabric are permanent (the MACs are known
// once the links exist): no ARP on a first packet, no entry expiring mid-measurement.
import { addAddress, addNetns, addVethPair, deleteNetns, listNetns, sysctl } from '../../netns/netns.js';
import { baseSysctls, ipBatch, ipn, killNetnsProcesses, linkMac } from './ip.js';
import { classifyNetns, labPrefix, type NetworkPlan } from './plan.js';

export interface LabNetwork {
  plan: NetworkPlan;
  /** Removes every namespace of the lab (pods included); idempotent. */
  destroy(opts?: DestroyOptions): Promise<DestroyReport>;
}

export interface DestroyOptions {
  /** Signal processes still inside lab namespaces (SIGTERM, then SIGKILL). Default true:
   * a process left inside keeps its namespace alive after the name is gone. */
  killProcesses?: boolean;
}

export interface DestroyReport {
  /** namespaces removed, pods first, fabric last */
  namespaces: string[];
  /** processes signalled because they were still inside */
  killedPids: number[];
}

export class LabNetworkExistsError extends Error {
  constructor(
    readonly labId: string,
    readonly existing: string[],
  ) {
    super(
      `lab "${labId}" already has namespaces (${existing.join(', ')}); remove them with destroyAll('${labId}') ` +
        '(`kube-sli lab down`) or pick another labId',
    );
    this.name = 'LabNetworkExistsError';
  }
}

/** Builds the fabric and the nodes of the plan. On any failure it removes what it made. */
export async function createLabNetwork(plan: NetworkPlan): Promise<LabNetwork> {
  const existing = (await listNetns()).filter((n) => n.startsWith(plan.prefix));
  if (existing.length > 0) throw new LabNetworkExistsError(plan.labId, existing);
  try {
    await buildFabric(plan);
  } catch (e) {
    // best effort: the build error is the one to report; lab down removes what is left
    await destroyAll(plan.labId).catch(() => undefined);
    throw e;
  }
  return { plan, destroy: (opts) => destroyAll(plan.labId, opts) };
}

async function buildFabric(plan: NetworkPlan): Promise<void> {
  const { fabric } = plan;
  const ipv6 = plan.families.includes('ipv6');
  const fam = plan.families.map((_, f) => ({ f, cidr: (a: string) => `${a}/${plan.nodePrefixLengths[f]}` }));

  await addNetns(fabric.netns);
  await sysctl(fabric.netns, baseSysctls({ bridgeNetfilterOff: true, ipv6, forwarding: true }));
  await ipBatch(fabric.netns, [
    `link add name ${fabric.bridge} type bridge stp_state 0 forward_delay 0`,
    `link set ${fabric.bridge} up`,
    ...fam.map(({ f, cidr }) => `addr add ${cidr(fabric.addresses[f]!)} dev ${fabric.bridge}${fabric.addresses[f]!.includes(':') ? ' nodad' : ''}`),
  ]);

  for (const node of plan.nodes) {
    await addNetns(node.netns);
    await sysctl(node.netns, baseSysctls({ ipv6, forwarding: true }));
    await addVethPair({ ns: node.netns, name: node.iface }, { ns: fabric.netns, name: node.fabricIface });
    await ipn(fabric.netns, ['link', 'set', node.fabricIface, 'master', fabric.bridge]);
    for (const { f, cidr } of fam) await addAddress(node.netns, node.iface, cidr(node.internalIps[f]!));
  }

  // A bridge takes the lowest MAC of its ports unless one is set; pin it so the
  // permanent neighbour entries the nodes get stay true.
  const bridgeMac = await linkMac(fabric.netns, fabric.bridge);
  await ipn(fabric.netns, ['link', 'set', fabric.bridge, 'address', bridgeMac]);
  const macs = new Map<number, string>();
  for (const node of plan.nodes) macs.set(node.index, await linkMac(node.netns, node.iface));

  for (const node of plan.nodes) {
    const lines: string[] = [];
    for (const { f } of fam) {
      const fabricAddr = fabric.addresses[f]!;
      lines.push(`neigh replace ${fabricAddr} lladdr ${bridgeMac} dev ${node.iface} nud permanent`);
      lines.push(`route add ${plan.serviceCidrs[f]} via ${fabricAddr} dev ${node.iface} src ${node.internalIps[f]}`);
      for (const other of plan.nodes) {
        if (other.index === node.index) continue;
        lines.push(`neigh replace ${other.internalIps[f]} lladdr ${macs.get(other.index)} dev ${node.iface} nud permanent`);
        lines.push(`route add ${other.podCidrs[f]} via ${other.internalIps[f]} dev ${node.iface}`);
      }
    }
    await ipBatch(node.netns, lines);
  }
  // The fabric namespace terminates traffic to its own address (the apiserver relay),
  // for which replies to pods need their ranges, and refuses the service range.
  await ipBatch(fabric.netns, [
    ...fam.map(({ f }) => `route add unreachable ${plan.serviceCidrs[f]}`),
    ...plan.nodes.flatMap((n) =>
      fam.flatMap(({ f }) => [
        `neigh replace ${n.internalIps[f]} lladdr ${macs.get(n.index)} dev ${fabric.bridge} nud permanent`,
        `route add ${n.podCidrs[f]} via ${n.internalIps[f]} dev ${fabric.bridge}`,
      ]),
    ),
  ]);
}

/**
 * Removes every namespace whose name starts with `ksli-lab-<labId>-` (pods, then nodes,
 * then the fabric), whatever state file exists or not: after a crash this is `lab down`.
 * Links die with their namespace (each veth has an end inside one), so no link outlives
 * it. Returns what it removed.
 */
export async function destroyAll(labId: string, opts: DestroyOptions = {}): Promise<DestroyReport> {
  const prefix = labPrefix(labId);
  const kill = opts.killProcesses ?? true;
  const order = { pod: 0, other: 1, node: 2, fabric: 3 } as const;
  const names = (await listNetns())
    .filter((n) => n.startsWith(prefix))
    .sort((a, b) => order[classifyNetns(labId, a) ?? 'other'] - order[classifyNetns(labId, b) ?? 'other'] || a.localeCompare(b));
  const report: DestroyReport = { namespaces: [], killedPids: [] };
  const errors: string[] = [];
  for (const ns of names) {
    try {
      if (kill) report.killedPids.push(...(await killNetnsProcesses(ns)));
      await deleteNetns(ns);
      report.namespaces.push(ns);
    } catch (e) {
      errors.push(`${ns}: ${(e as Error).message}`);
    }
  }
  if (errors.length > 0) {
    throw new Error(`destroyAll("${labId}") could not remove ${errors.length} namespace(s): ${errors.join('; ')}`);
  }
  return report;
}
