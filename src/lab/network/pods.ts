// Pod networks: one namespace per pod, joined to its node by a veth, routed at L3 like
// Calico (no per-node bridge):
//
//   pod  ksli-lab-<id>-pod-<hash>:  eth0 <pod IP>/32
//                                   169.254.1.1 dev eth0 scope link
//                                   default via 169.254.1.1 dev eth0
//                                   neigh 169.254.1.1 → MAC of vp<hash>, permanent
//   node ksli-lab-<id>-node<i>:     vp<hash> (no address)
//                                   <pod IP>/32 dev vp<hash> src <InternalIP>
//                                   neigh <pod IP> → MAC of pod eth0, permanent
//
// Why routed and not a cbr0 bridge: a pod → ClusterIP → pod on the same bridge would be
// switched, not routed, and kube-proxy's DNAT would miss the reply unless the global
// bridge-nf-call-iptables is on (kubenet's old requirement). Routed, every packet crosses
// the node's IP stack, where kube-proxy's rules are, and nothing global changes.
// Why a link-local gateway with a permanent neighbour and not proxy_arp: the node has no
// default route, so proxy_arp would not answer for 169.254.1.1; a permanent entry also
// means no ARP delay (proxy_delay) or expiry in measured first packets.
//
// The default route leads only into the node namespace, which has no default route:
// traffic to anything outside the lab's ranges dies on the node (ICMP unreachable).
//
// Pod IPs come from the node's podCIDR, handed out round-robin (next free after the last
// one given, like host-local IPAM) so a freed IP is not reused at once (stale conntrack
// entries of a dead pod must not meet a new one). The allocation lives in a JSON file the
// caller names, written atomically, so it survives restarts. Calls are serialised per
// file within one process; two processes must not share a state file.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { addNetns, addVethPair, deleteNetns, listNetns, sysctl } from '../../netns/netns.js';
import { baseSysctls, deleteLinkIfPresent, ipBatch, linkMac } from './ip.js';
import {
  POD_IFACE,
  ipv4InCidr,
  ipv4ToNumber,
  nodeOf,
  numberToIpv4,
  podHash,
  podHostIface,
  podNetnsName,
  type NetworkPlan,
  type NodePlan,
} from './plan.js';

export interface PodRecord {
  /** caller's identity of the pod, e.g. its UID or "<namespace>/<name>" */
  key: string;
  node: number;
  ip: string;
  hash: string;
  /** the pod's namespace */
  netns: string;
  /** the pod's interface (in `netns`) */
  iface: string;
  /** the node's end of the veth (in the node namespace): where a capture sees this pod */
  hostIface: string;
  /** the node's namespace */
  nodeNetns: string;
}

export interface PodNetworkState {
  version: 1;
  labId: string;
  clusterCidr: string;
  /** per node index: the last IP handed out (round-robin cursor) */
  lastAllocated: Record<string, string>;
  pods: Record<string, PodRecord>;
}

export class PodNetworkError extends Error {
  override name = 'PodNetworkError';
}

// --- allocation (pure) ---------------------------------------------------------------

export function emptyPodState(plan: NetworkPlan): PodNetworkState {
  return { version: 1, labId: plan.labId, clusterCidr: plan.clusterCidr, lastAllocated: {}, pods: {} };
}

/** The next free pod IP on the node after its cursor (wrapping), or an error when full. */
export function nextPodIp(node: NodePlan, state: PodNetworkState): string {
  const first = ipv4ToNumber(node.podIpRange.first);
  const last = ipv4ToNumber(node.podIpRange.last);
  const used = new Set(Object.values(state.pods).filter((p) => p.node === node.index).map((p) => p.ip));
  const cursor = state.lastAllocated[String(node.index)];
  let start = first;
  if (cursor !== undefined && ipv4InCidr(cursor, node.podCidr)) {
    const c = ipv4ToNumber(cursor);
    start = c >= last ? first : Math.max(first, c + 1);
  }
  const count = last - first + 1;
  for (let k = 0; k < count; k++) {
    const ip = numberToIpv4(first + ((start - first + k) % count));
    if (!used.has(ip)) return ip;
  }
  throw new PodNetworkError(
    `node ${node.index} (${node.podCidr}) has no free pod IP: all ${count} are in use; remove pods or use a shorter podCidrPrefix`,
  );
}

/** A hash for the key that no other pod in the state uses. */
export function uniquePodHash(plan: NetworkPlan, key: string, state: PodNetworkState): string {
  const taken = new Set(Object.values(state.pods).filter((p) => p.key !== key).map((p) => p.hash));
  for (let attempt = 0; attempt < 16; attempt++) {
    const h = podHash(plan.labId, key, attempt);
    if (!taken.has(h)) return h;
  }
  throw new PodNetworkError(`no free name for pod "${key}" after 16 attempts`);
}

// --- state file ----------------------------------------------------------------------

export async function readPodState(plan: NetworkPlan, file: string): Promise<PodNetworkState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyPodState(plan);
    throw e;
  }
  let state: PodNetworkState;
  try {
    state = JSON.parse(text) as PodNetworkState;
  } catch {
    throw new PodNetworkError(`pod state file ${file} is not valid JSON; delete it after running destroyAll('${plan.labId}')`);
  }
  if (state.version !== 1 || typeof state.pods !== 'object' || state.pods === null) {
    throw new PodNetworkError(`pod state file ${file} has an unknown format (version ${String(state.version)})`);
  }
  if (state.labId !== plan.labId || state.clusterCidr !== plan.clusterCidr) {
    throw new PodNetworkError(
      `pod state file ${file} belongs to lab "${state.labId}" (${state.clusterCidr}), not "${plan.labId}" (${plan.clusterCidr}); use another file`,
    );
  }
  state.lastAllocated ??= {};
  return state;
}

async function writePodState(file: string, state: PodNetworkState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, file);
}

const locks = new Map<string, Promise<unknown>>();

async function withStateLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const key = resolve(file);
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await next;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

// --- kernel --------------------------------------------------------------------------

export interface AddPodOptions {
  stateFile: string;
  /** node index in the plan */
  node: number;
  key: string;
}

/**
 * Gives the pod a namespace, a veth to its node and an IP. Idempotent per key: a key
 * that already has a live network gets the same record back; one whose namespace is
 * gone (reboot, crash) is rebuilt with its IP. On failure nothing is left and no IP is
 * taken.
 */
export async function addPodNetwork(plan: NetworkPlan, opts: AddPodOptions): Promise<PodRecord> {
  const node = nodeOf(plan, opts.node);
  if (opts.key.length === 0) throw new PodNetworkError('pod key must not be empty');
  return withStateLock(opts.stateFile, async () => {
    const state = await readPodState(plan, opts.stateFile);
    const known = state.pods[opts.key];
    if (known && known.node !== node.index) {
      throw new PodNetworkError(`pod "${opts.key}" already has a network on node ${known.node}; remove it before placing it on node ${node.index}`);
    }
    if (known && (await listNetns()).includes(known.netns)) return known;

    const hash = known?.hash ?? uniquePodHash(plan, opts.key, state);
    const ip = known?.ip ?? nextPodIp(node, state);
    const rec: PodRecord = {
      key: opts.key,
      node: node.index,
      ip,
      hash,
      netns: podNetnsName(plan.labId, hash),
      iface: POD_IFACE,
      hostIface: podHostIface(hash),
      nodeNetns: node.netns,
    };
    try {
      await wirePod(plan, node, rec);
    } catch (e) {
      await unwirePod(rec).catch(() => undefined);
      throw e;
    }
    state.pods[rec.key] = rec;
    state.lastAllocated[String(node.index)] = ip;
    await writePodState(opts.stateFile, state);
    return rec;
  });
}

async function wirePod(plan: NetworkPlan, node: NodePlan, rec: PodRecord): Promise<void> {
  await unwirePod(rec); // leftovers of a crashed add with the same name
  await addNetns(rec.netns);
  await sysctl(rec.netns, baseSysctls());
  await addVethPair({ ns: rec.netns, name: rec.iface }, { ns: node.netns, name: rec.hostIface });
  const hostMac = await linkMac(node.netns, rec.hostIface);
  const podMac = await linkMac(rec.netns, rec.iface);
  await ipBatch(rec.netns, [
    `addr add ${rec.ip}/32 dev ${rec.iface}`,
    `route add ${plan.podGateway} dev ${rec.iface} scope link`,
    `route add default via ${plan.podGateway} dev ${rec.iface}`,
    `neigh replace ${plan.podGateway} lladdr ${hostMac} dev ${rec.iface} nud permanent`,
  ]);
  await ipBatch(node.netns, [
    `route add ${rec.ip}/32 dev ${rec.hostIface} scope link src ${node.internalIp}`,
    `neigh replace ${rec.ip} lladdr ${podMac} dev ${rec.hostIface} nud permanent`,
  ]);
}

/** Unplugs first (deleting the node's end deletes the pair, its /32 route and neighbour),
 * so even a namespace kept alive by a leftover process is cut off and its IP safe to
 * reuse; then removes the namespace. */
async function unwirePod(rec: PodRecord): Promise<void> {
  if ((await listNetns()).includes(rec.nodeNetns)) await deleteLinkIfPresent(rec.nodeNetns, rec.hostIface);
  await deleteNetns(rec.netns);
}

export interface RemovePodOptions {
  stateFile: string;
  key: string;
}

/** Removes the pod's network and frees its IP; returns the record it removed, or
 * undefined when the key had none (then it still removes a namespace left by a crashed
 * add under the key's first name). Idempotent. */
export async function removePodNetwork(plan: NetworkPlan, opts: RemovePodOptions): Promise<PodRecord | undefined> {
  return withStateLock(opts.stateFile, async () => {
    const state = await readPodState(plan, opts.stateFile);
    const rec = state.pods[opts.key];
    if (!rec) {
      const leftover = podNetnsName(plan.labId, podHash(plan.labId, opts.key));
      if (!Object.values(state.pods).some((p) => p.netns === leftover)) await deleteNetns(leftover);
      return undefined;
    }
    await unwirePod(rec);
    delete state.pods[opts.key];
    await writePodState(opts.stateFile, state);
    return rec;
  });
}

export async function listPodNetworks(plan: NetworkPlan, stateFile: string): Promise<PodRecord[]> {
  return Object.values((await readPodState(plan, stateFile)).pods);
}

/** A hostNetwork pod has no network of its own: it runs in the node namespace and has
 * the node's InternalIP. */
export function hostNetworkPod(plan: NetworkPlan, nodeIndex: number): { netns: string; ip: string } {
  const node = nodeOf(plan, nodeIndex);
  return { netns: node.netns, ip: node.internalIp };
}
