// The lab network as data: names, addresses and ranges computed from a few options,
// validated before anything touches the kernel. Pure: no I/O, same input → same plan.
//
// Topology (all of it inside namespaces the lab creates; the root namespace gets nothing):
//
//   ksli-lab-<id>-fabric      bridge br0 (fabric address, e.g. 10.200.0.1/24)
//        │ node0 … nodeN-1    fabric-side veth ends, enslaved to br0
//   ksli-lab-<id>-node<i>     eth0 = InternalIP (10.200.0.2+i/24); routes other nodes'
//        │ vp<hash>           podCIDRs via their InternalIP; a /32 per local pod
//   ksli-lab-<id>-pod-<hash>  eth0 = pod IP/32, default via 169.254.1.1 (the node side)
//
// IP families (`ipFamily`): ipv4 (the default), ipv6, or dual (IPv4 primary, IPv6
// secondary, as kind's dual-stack clusters). Each family has its own node, cluster and
// service range; IPv6 ranges are unique-local (RFC 4193, fd00::/8), so nothing in them
// can be routed anywhere else. An ipv6 lab carries no IPv4 address on its links at all.
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { CidrError, parseCidr } from '../../net/cidr.js';
import { NETNS_PREFIX } from '../../netns/netns.js';

/** Every namespace of every lab starts with this; one lab's with `labPrefix(id)`. */
export const LAB_NETNS_PREFIX = `${NETNS_PREFIX}lab-`;
export const MAX_NODES = 50;
export const DEFAULT_NETWORK = {
  nodes: 2,
  nodeCidr: '10.200.0.0/24',
  clusterCidr: '10.244.0.0/16',
  podCidrPrefix: 24,
  serviceCidr: '10.96.0.0/16',
  nodeCidr6: 'fd00:10:200::/64',
  clusterCidr6: 'fd00:10:244::/56',
  podCidrPrefix6: 64,
  serviceCidr6: 'fd00:10:96::/112',
} as const;

export const IP_FAMILIES = ['ipv4', 'ipv6', 'dual'] as const;
export type IpFamily = (typeof IP_FAMILIES)[number];
/** An address family of a plan, in the cluster's order (the primary first). */
export type Family = 'ipv4' | 'ipv6';

export function isIpFamily(s: unknown): s is IpFamily {
  return typeof s === 'string' && (IP_FAMILIES as readonly string[]).includes(s);
}

/** The families of a lab, primary first. */
export function familiesOf(ipFamily: IpFamily): Family[] {
  return ipFamily === 'dual' ? ['ipv4', 'ipv6'] : [ipFamily];
}

/** Link-local next hop every pod routes through (Calico's choice). The node-side veth
 * answers for it through a permanent neighbour entry in the pod; no node owns it. */
export const POD_GATEWAY = '169.254.1.1';
export const BRIDGE_IFACE = 'br0';
export const NODE_IFACE = 'eth0';
export const POD_IFACE = 'eth0';
/** Linux IFNAMSIZ − 1. */
export const MAX_IFNAME = 15;

export interface LabNetworkOptions {
  /** 1–8 lowercase letters/digits; part of every name the lab makes. */
  labId: string;
  /** default 2, 1…MAX_NODES */
  nodes?: number;
  /** fabric range: the fabric address and the node InternalIPs */
  nodeCidr?: string;
  /** pod range; each node gets one /podCidrPrefix of it */
  clusterCidr?: string;
  /** default 24 */
  podCidrPrefix?: number;
  /** ClusterIP range (kube-apiserver --service-cluster-ip-range) */
  serviceCidr?: string;
  /** ipv4 (default), ipv6 or dual (IPv4 primary) */
  ipFamily?: IpFamily;
  /** the IPv6 ranges (ipv6 and dual labs), as the IPv4 ones above */
  nodeCidr6?: string;
  clusterCidr6?: string;
  /** default 64 */
  podCidrPrefix6?: number;
  serviceCidr6?: string;
}

export interface NodePlan {
  index: number;
  /** suggested Kubernetes node name */
  name: string;
  netns: string;
  /** the node's link to the fabric, inside the node namespace */
  iface: string;
  /** the peer of `iface`, inside the fabric namespace, enslaved to the bridge */
  fabricIface: string;
  /** the primary family's InternalIP */
  internalIp: string;
  /** the primary family's pod range */
  podCidr: string;
  /** first and last address pods of this node may get (primary family) */
  podIpRange: { first: string; last: string };
  /** InternalIPs per family, primary first (kubelet --node-ip) */
  internalIps: string[];
  /** pod ranges per family, primary first (Node spec.podCIDRs) */
  podCidrs: string[];
}

export interface NetworkPlan {
  labId: string;
  /** `ksli-lab-<id>-`: every namespace of this lab, and nothing else, starts with it */
  prefix: string;
  ipFamily: IpFamily;
  /** the lab's families, primary first */
  families: Family[];
  /** the primary family's ranges */
  nodeCidr: string;
  clusterCidr: string;
  serviceCidr: string;
  podCidrPrefix: number;
  /** prefix length of the InternalIPs on the fabric (that of nodeCidr) */
  nodePrefixLength: number;
  /** every family's ranges, primary first (comma-joined, they are the control plane's flags) */
  nodeCidrs: string[];
  clusterCidrs: string[];
  serviceCidrs: string[];
  /** pod range prefix per family, primary first */
  podCidrPrefixes: number[];
  /** InternalIP prefix length per family, primary first */
  nodePrefixLengths: number[];
  fabric: {
    netns: string;
    bridge: string;
    /** the fabric namespace's own address on the bridge (primary family): where lab-wide
     * services (the apiserver relay) listen for nodes and pods */
    address: string;
    /** its address per family, primary first */
    addresses: string[];
  };
  /** the next hop of every pod (link-local, see POD_GATEWAY) */
  podGateway: string;
  nodes: NodePlan[];
}

/** Invalid lab network options; `option` names the one to change. */
export class LabNetworkConfigError extends Error {
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`lab network option "${option}": ${detail}`);
    this.name = 'LabNetworkConfigError';
  }
}

// --- IPv4 as unsigned 32-bit numbers -------------------------------------------------

interface V4Range {
  text: string;
  base: number;
  prefix: number;
}

function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function ipv4ToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: "${ip}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function parseV4(option: string, text: string | undefined): V4Range {
  if (typeof text !== 'string' || !text.includes('/')) {
    throw new LabNetworkConfigError(option, `"${String(text)}" is not a CIDR; write an IPv4 range such as ${String(DEFAULT_NETWORK[option as keyof typeof DEFAULT_NETWORK] ?? '10.0.0.0/16')}`);
  }
  let c;
  try {
    c = parseCidr(text);
  } catch (e) {
    if (e instanceof CidrError) throw new LabNetworkConfigError(option, e.message);
    throw e;
  }
  if (c.family !== 4) {
    throw new LabNetworkConfigError(option, `"${text}" is IPv6; ${option} is the IPv4 range, give IPv6 ranges as ${option}6 (with ipFamily ipv6 or dual)`);
  }
  const addr = Array.from(c.bytes).reduce((acc, b) => acc * 256 + b, 0);
  const base = addr - (addr % size(c.prefix));
  if (base !== addr) {
    throw new LabNetworkConfigError(option, `"${text}" has host bits set; use ${numberToIpv4(base)}/${c.prefix}`);
  }
  return { text: `${numberToIpv4(base)}/${c.prefix}`, base, prefix: c.prefix };
}

function overlaps(a: V4Range, b: V4Range): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/** Ranges the lab must never use: loopback carries the apiserver relay's target, the
 * link-local range holds the pod gateway, the rest is not unicast. */
const RESERVED: readonly { why: string; range: V4Range }[] = [
  { why: '"this network" (0.0.0.0/8)', range: { text: '0.0.0.0/8', base: 0, prefix: 8 } },
  { why: 'loopback (127.0.0.0/8)', range: { text: '127.0.0.0/8', base: ipv4ToNumber('127.0.0.0'), prefix: 8 } },
  { why: 'link-local (169.254.0.0/16, holds the pod gateway)', range: { text: '169.254.0.0/16', base: ipv4ToNumber('169.254.0.0'), prefix: 16 } },
  { why: 'multicast/reserved (224.0.0.0/3)', range: { text: '224.0.0.0/3', base: ipv4ToNumber('224.0.0.0'), prefix: 3 } },
];

// --- names ---------------------------------------------------------------------------

const LAB_ID = /^[a-z0-9]{1,8}$/;

export function labPrefix(labId: string): string {
  if (!LAB_ID.test(labId)) {
    throw new LabNetworkConfigError(
      'labId',
      `"${labId}" is invalid; use 1-8 lowercase letters or digits (it is part of every namespace and interface name), e.g. "a1"`,
    );
  }
  return `${LAB_NETNS_PREFIX}${labId}-`;
}

export function fabricNetnsName(labId: string): string {
  return `${labPrefix(labId)}fabric`;
}

export function nodeNetnsName(labId: string, index: number): string {
  return `${labPrefix(labId)}node${index}`;
}

export const POD_HASH_LENGTH = 8;

/** Short stable hash naming a pod's namespace and host-side veth. `attempt` > 0 gives
 * alternatives when two keys collide. */
export function podHash(labId: string, podKey: string, attempt = 0): string {
  const h = createHash('sha256').update(`${labId}\0${podKey}\0${attempt}`).digest('hex');
  return h.slice(0, POD_HASH_LENGTH);
}

export function podNetnsName(labId: string, hash: string): string {
  return `${labPrefix(labId)}pod-${hash}`;
}

/** Host-side (node namespace) end of a pod's veth: `vp<hash>`, 10 characters. */
export function podHostIface(hash: string): string {
  return `vp${hash}`;
}

/** Which kind of lab namespace a name is, or undefined when it is not this lab's. */
export function classifyNetns(labId: string, name: string): 'fabric' | 'node' | 'pod' | 'other' | undefined {
  const prefix = labPrefix(labId);
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (rest === 'fabric') return 'fabric';
  if (/^node\d+$/.test(rest)) return 'node';
  if (rest.startsWith('pod-')) return 'pod';
  return 'other';
}

// --- IPv6 as BigInt ------------------------------------------------------------------

interface V6Range {
  text: string;
  base: bigint;
  prefix: number;
}

function size6(prefix: number): bigint {
  return 1n << BigInt(128 - prefix);
}

function bigToIpv6(n: bigint): string {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

function parseV6(option: string, text: string | undefined): V6Range {
  const example = String(DEFAULT_NETWORK[option as keyof typeof DEFAULT_NETWORK] ?? 'fd00:10::/64');
  if (typeof text !== 'string' || !text.includes('/')) {
    throw new LabNetworkConfigError(option, `"${String(text)}" is not a CIDR; write an IPv6 range such as ${example}`);
  }
  let c;
  try {
    c = parseCidr(text);
  } catch (e) {
    if (e instanceof CidrError) throw new LabNetworkConfigError(option, e.message);
    throw e;
  }
  if (c.family !== 6) throw new LabNetworkConfigError(option, `"${text}" is IPv4; ${option} is an IPv6 range, such as ${example}`);
  const addr = Array.from(c.bytes).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const base = addr - (addr % size6(c.prefix));
  if (base !== addr) throw new LabNetworkConfigError(option, `"${text}" has host bits set; use ${bigToIpv6(base)}/${c.prefix}`);
  return { text: `${bigToIpv6(base)}/${c.prefix}`, base, prefix: c.prefix };
}

function overlaps6(a: V6Range, b: V6Range): boolean {
  return a.base < b.base + size6(b.prefix) && b.base < a.base + size6(a.prefix);
}

const RESERVED6: readonly { why: string; range: V6Range }[] = [
  { why: 'the ::/8 block (unspecified, loopback, IPv4-mapped)', range: { text: '::/8', base: 0n, prefix: 8 } },
  { why: 'link-local (fe80::/10)', range: { text: 'fe80::/10', base: 0xfe80n << 112n, prefix: 10 } },
  { why: 'multicast (ff00::/8)', range: { text: 'ff00::/8', base: 0xffn << 120n, prefix: 8 } },
];

// --- the plan ------------------------------------------------------------------------

/** One family's part of the plan. */
interface FamilyPart {
  nodeCidr: string;
  clusterCidr: string;
  serviceCidr: string;
  podCidrPrefix: number;
  nodePrefixLength: number;
  fabricAddress: string;
  nodes: { internalIp: string; podCidr: string; podIpRange: { first: string; last: string } }[];
}

function planV4(options: LabNetworkOptions, nodes: number): FamilyPart {
  const nodeCidr = parseV4('nodeCidr', options.nodeCidr ?? DEFAULT_NETWORK.nodeCidr);
  const clusterCidr = parseV4('clusterCidr', options.clusterCidr ?? DEFAULT_NETWORK.clusterCidr);
  const serviceCidr = parseV4('serviceCidr', options.serviceCidr ?? DEFAULT_NETWORK.serviceCidr);
  const named = [
    ['nodeCidr', nodeCidr],
    ['clusterCidr', clusterCidr],
    ['serviceCidr', serviceCidr],
  ] as const;

  for (const [name, range] of named) {
    for (const r of RESERVED) {
      if (overlaps(range, r.range)) {
        throw new LabNetworkConfigError(name, `${range.text} overlaps ${r.why}; pick a private range such as ${DEFAULT_NETWORK[name]}`);
      }
    }
  }
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [an, a] = named[i]!;
      const [bn, b] = named[j]!;
      if (overlaps(a, b)) {
        throw new LabNetworkConfigError(
          bn,
          `${b.text} overlaps ${an} ${a.text}; the node, cluster and service ranges must be disjoint (defaults: ${DEFAULT_NETWORK.nodeCidr}, ${DEFAULT_NETWORK.clusterCidr}, ${DEFAULT_NETWORK.serviceCidr})`,
        );
      }
    }
  }

  if (nodeCidr.prefix > 29) {
    throw new LabNetworkConfigError('nodeCidr', `${nodeCidr.text} is too small; use /29 or larger (a /24 holds ${MAX_NODES} nodes)`);
  }
  // network, broadcast and the fabric's own address are not node addresses
  const nodeRoom = size(nodeCidr.prefix) - 3;
  if (nodes > nodeRoom) {
    const need = 32 - Math.ceil(Math.log2(nodes + 3));
    throw new LabNetworkConfigError('nodeCidr', `${nodeCidr.text} has room for ${nodeRoom} nodes but nodes=${nodes}; use a /${need} or larger, or fewer nodes`);
  }

  const podCidrPrefix = options.podCidrPrefix ?? DEFAULT_NETWORK.podCidrPrefix;
  if (!Number.isInteger(podCidrPrefix) || podCidrPrefix > 28 || podCidrPrefix <= clusterCidr.prefix) {
    throw new LabNetworkConfigError(
      'podCidrPrefix',
      `${String(podCidrPrefix)} does not split clusterCidr ${clusterCidr.text} into per-node ranges; use a prefix longer than /${clusterCidr.prefix} and at most /28 (default /${DEFAULT_NETWORK.podCidrPrefix})`,
    );
  }
  const podRanges = 2 ** (podCidrPrefix - clusterCidr.prefix);
  if (nodes > podRanges) {
    throw new LabNetworkConfigError(
      'clusterCidr',
      `${clusterCidr.text} holds ${podRanges} /${podCidrPrefix} pod ranges but nodes=${nodes}; use a larger clusterCidr or a longer podCidrPrefix`,
    );
  }

  return {
    nodeCidr: nodeCidr.text,
    clusterCidr: clusterCidr.text,
    serviceCidr: serviceCidr.text,
    podCidrPrefix,
    nodePrefixLength: nodeCidr.prefix,
    fabricAddress: numberToIpv4(nodeCidr.base + 1),
    nodes: Array.from({ length: nodes }, (_, i) => {
      const podBase = clusterCidr.base + i * size(podCidrPrefix);
      return {
        internalIp: numberToIpv4(nodeCidr.base + 2 + i),
        podCidr: `${numberToIpv4(podBase)}/${podCidrPrefix}`,
        // .0 is the network, .1 is kept free (tools assume a gateway there), last is broadcast
        podIpRange: { first: numberToIpv4(podBase + 2), last: numberToIpv4(podBase + size(podCidrPrefix) - 2) },
      };
    }),
  };
}

function planV6(options: LabNetworkOptions, nodes: number): FamilyPart {
  const nodeCidr = parseV6('nodeCidr6', options.nodeCidr6 ?? DEFAULT_NETWORK.nodeCidr6);
  const clusterCidr = parseV6('clusterCidr6', options.clusterCidr6 ?? DEFAULT_NETWORK.clusterCidr6);
  const serviceCidr = parseV6('serviceCidr6', options.serviceCidr6 ?? DEFAULT_NETWORK.serviceCidr6);
  const named = [
    ['nodeCidr6', nodeCidr],
    ['clusterCidr6', clusterCidr],
    ['serviceCidr6', serviceCidr],
  ] as const;
  for (const [name, range] of named) {
    for (const r of RESERVED6) {
      if (overlaps6(range, r.range)) throw new LabNetworkConfigError(name, `${range.text} overlaps ${r.why}; pick a unique-local range such as ${DEFAULT_NETWORK[name]}`);
    }
  }
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [an, a] = named[i]!;
      const [bn, b] = named[j]!;
      if (overlaps6(a, b)) {
        throw new LabNetworkConfigError(
          bn,
          `${b.text} overlaps ${an} ${a.text}; the node, cluster and service ranges must be disjoint (defaults: ${DEFAULT_NETWORK.nodeCidr6}, ${DEFAULT_NETWORK.clusterCidr6}, ${DEFAULT_NETWORK.serviceCidr6})`,
        );
      }
    }
  }
  if (nodeCidr.prefix > 120) throw new LabNetworkConfigError('nodeCidr6', `${nodeCidr.text} is too small; use /120 or larger (default ${DEFAULT_NETWORK.nodeCidr6})`);
  // kube-apiserver refuses an IPv6 service range of more than 20 host bits
  if (serviceCidr.prefix < 108) throw new LabNetworkConfigError('serviceCidr6', `${serviceCidr.text} is larger than kube-apiserver allows for IPv6 (at most 20 host bits); use /108 or longer, e.g. ${DEFAULT_NETWORK.serviceCidr6}`);
  const podCidrPrefix = options.podCidrPrefix6 ?? DEFAULT_NETWORK.podCidrPrefix6;
  // kube-controller-manager splits a cluster range into at most 2^16 node ranges
  if (!Number.isInteger(podCidrPrefix) || podCidrPrefix > 120 || podCidrPrefix <= clusterCidr.prefix || podCidrPrefix - clusterCidr.prefix > 16) {
    throw new LabNetworkConfigError(
      'podCidrPrefix6',
      `${String(podCidrPrefix)} does not split clusterCidr6 ${clusterCidr.text} into per-node ranges; use a prefix longer than /${clusterCidr.prefix}, at most 16 bits longer and at most /120 (default /${DEFAULT_NETWORK.podCidrPrefix6})`,
    );
  }
  const podRanges = 2 ** (podCidrPrefix - clusterCidr.prefix);
  if (nodes > podRanges) {
    throw new LabNetworkConfigError('clusterCidr6', `${clusterCidr.text} holds ${podRanges} /${podCidrPrefix} pod ranges but nodes=${nodes}; use a larger clusterCidr6 or a longer podCidrPrefix6`);
  }
  return {
    nodeCidr: nodeCidr.text,
    clusterCidr: clusterCidr.text,
    serviceCidr: serviceCidr.text,
    podCidrPrefix,
    nodePrefixLength: nodeCidr.prefix,
    fabricAddress: bigToIpv6(nodeCidr.base + 1n),
    nodes: Array.from({ length: nodes }, (_, i) => {
      const podBase = clusterCidr.base + BigInt(i) * size6(podCidrPrefix);
      return {
        internalIp: bigToIpv6(nodeCidr.base + 2n + BigInt(i)),
        podCidr: `${bigToIpv6(podBase)}/${podCidrPrefix}`,
        // ::1 is the pods' gateway on the node side (the ptp plugin's choice), so pods start at ::2
        podIpRange: { first: bigToIpv6(podBase + 2n), last: bigToIpv6(podBase + size6(podCidrPrefix) - 1n) },
      };
    }),
  };
}

export function planNetwork(options: LabNetworkOptions): NetworkPlan {
  const prefix = labPrefix(options.labId);
  const labId = options.labId;

  const nodes = options.nodes ?? DEFAULT_NETWORK.nodes;
  if (!Number.isInteger(nodes) || nodes < 1) {
    throw new LabNetworkConfigError('nodes', `${String(nodes)} is not a node count; use a whole number from 1 to ${MAX_NODES}`);
  }
  if (nodes > MAX_NODES) {
    throw new LabNetworkConfigError('nodes', `${nodes} nodes is more than the lab supports; use at most ${MAX_NODES}`);
  }
  const ipFamily = options.ipFamily ?? 'ipv4';
  if (!isIpFamily(ipFamily)) {
    throw new LabNetworkConfigError('ipFamily', `"${String(ipFamily)}" is not an IP family; use one of ${IP_FAMILIES.join(', ')}`);
  }
  const families = familiesOf(ipFamily);
  const parts = families.map((f) => (f === 'ipv4' ? planV4(options, nodes) : planV6(options, nodes)));
  const primary = parts[0]!;

  const nodePlans: NodePlan[] = [];
  for (let i = 0; i < nodes; i++) {
    const own = parts.map((p) => p.nodes[i]!);
    nodePlans.push({
      index: i,
      name: `node${i}`,
      netns: nodeNetnsName(labId, i),
      iface: NODE_IFACE,
      fabricIface: `node${i}`,
      internalIp: own[0]!.internalIp,
      podCidr: own[0]!.podCidr,
      podIpRange: own[0]!.podIpRange,
      internalIps: own.map((o) => o.internalIp),
      podCidrs: own.map((o) => o.podCidr),
    });
  }

  return {
    labId,
    prefix,
    ipFamily,
    families,
    nodeCidr: primary.nodeCidr,
    clusterCidr: primary.clusterCidr,
    serviceCidr: primary.serviceCidr,
    podCidrPrefix: primary.podCidrPrefix,
    nodePrefixLength: primary.nodePrefixLength,
    nodeCidrs: parts.map((p) => p.nodeCidr),
    clusterCidrs: parts.map((p) => p.clusterCidr),
    serviceCidrs: parts.map((p) => p.serviceCidr),
    podCidrPrefixes: parts.map((p) => p.podCidrPrefix),
    nodePrefixLengths: parts.map((p) => p.nodePrefixLength),
    fabric: { netns: fabricNetnsName(labId), bridge: BRIDGE_IFACE, address: primary.fabricAddress, addresses: parts.map((p) => p.fabricAddress) },
    podGateway: POD_GATEWAY,
    nodes: nodePlans,
  };
}

/** The plan's node by index, with a clear error for a bad index. */
export function nodeOf(plan: NetworkPlan, index: number): NodePlan {
  const node = plan.nodes[index];
  if (!node) throw new RangeError(`lab ${plan.labId} has nodes 0..${plan.nodes.length - 1}; there is no node ${index}`);
  return node;
}

/** True when the address lies in the range (IPv4, CIDR text). */
export function ipv4InCidr(ip: string, cidr: string): boolean {
  const [base, prefix] = cidr.split('/');
  const b = ipv4ToNumber(base ?? '');
  const n = ipv4ToNumber(ip);
  return n >= b && n < b + size(Number(prefix));
}
