// Which Services the node's dataplane forwards, in the order it searches them, read from
// kube-proxy's own rules: the `service-ips` verdict map of the nftables `kube-proxy` table
// (a map lookup: position does not matter), or the KUBE-SERVICES chain of the iptables nat
// table (searched rule by rule: position is the cost). A Service is listed only once its
// ClusterIP rule leads to endpoints; Services without endpoints get a reject rule
// elsewhere and are absent here. The agent runs in the node's namespace with NET_ADMIN,
// which reading the rules needs.
import { runIn } from '../netns/netns.js';

export interface DataplaneService {
  ip: string;
  port: number;
  protocol: string;
}

export interface DataplaneServices {
  mode: 'nftables' | 'iptables';
  /** true when the dataplane searches the list in order (iptables) */
  ordered: boolean;
  /** ClusterIP rules with endpoints, in the order listed (search order for iptables) */
  services: DataplaneService[];
}

export class DataplaneReadError extends Error {
  override name = 'DataplaneReadError';
}

type NftExpr = string | number | { concat?: NftExpr[] } | Record<string, unknown>;

/** `nft -j list map ip kube-proxy service-ips` → ClusterIP . protocol . port keys. */
export function parseNftServiceMap(json: string): DataplaneService[] {
  const doc = JSON.parse(json) as { nftables?: { map?: { name?: string; elem?: unknown[] } }[] };
  const map = doc.nftables?.find((o) => o.map?.name === 'service-ips')?.map;
  if (!map) throw new DataplaneReadError('nft output has no map named service-ips');
  const out: DataplaneService[] = [];
  for (const e of map.elem ?? []) {
    // [key, verdict]; a key with a comment is { elem: { val: key, comment } }
    let key = (Array.isArray(e) ? e[0] : undefined) as NftExpr | undefined;
    if (key && typeof key === 'object' && 'elem' in key) key = (key.elem as { val: NftExpr }).val;
    const parts = key && typeof key === 'object' && Array.isArray((key as { concat?: NftExpr[] }).concat) ? (key as { concat: NftExpr[] }).concat : undefined;
    if (!parts || parts.length !== 3) continue;
    const [ip, protocol, port] = parts;
    if (typeof ip !== 'string' || typeof protocol !== 'string' || typeof port !== 'number') continue;
    out.push({ ip, protocol, port });
  }
  return out;
}

const KUBE_SERVICES_RULE = /^-A KUBE-SERVICES (.*)-j (KUBE-SVC-|KUBE-SVL-)\S+\s*$/;

/** `iptables-save -t nat` (or ip6tables-save) → the KUBE-SERVICES rules that lead to a Service chain, in order. */
export function parseIptablesKubeServices(text: string): DataplaneService[] {
  const out: DataplaneService[] = [];
  for (const line of text.split('\n')) {
    const m = KUBE_SERVICES_RULE.exec(line.trim());
    if (!m) continue;
    const args = m[1]!;
    const ip = /-d (\d+\.\d+\.\d+\.\d+)\/32\b/.exec(args)?.[1] ?? /-d ([0-9a-f:]+)\/128\b/i.exec(args)?.[1];
    const protocol = /-p (\w+)/.exec(args)?.[1];
    const port = /--dport (\d+)/.exec(args)?.[1];
    if (!ip || !protocol || !port) continue;
    out.push({ ip, protocol, port: Number(port) });
  }
  return out;
}

/** Reads the Service rules in `netns` (undefined: the agent's own namespace), of both
 * families: kube-proxy programs IPv4 in the `ip` table / iptables and IPv6 in the `ip6`
 * table / ip6tables. A family the node does not run (no table) is left out; when neither
 * can be read, the IPv4 error is the one reported. */
export async function readDataplaneServices(netns: string | undefined, mode: 'nftables' | 'iptables'): Promise<DataplaneServices> {
  const read = async (family: 'ip' | 'ip6'): Promise<DataplaneService[]> => {
    if (mode === 'nftables') return parseNftServiceMap(await runIn(netns, ['nft', '-j', 'list', 'map', family, 'kube-proxy', 'service-ips']));
    return parseIptablesKubeServices(await runIn(netns, [family === 'ip6' ? 'ip6tables-save' : 'iptables-save', '-t', 'nat']));
  };
  const [v4, v6] = await Promise.allSettled([read('ip'), read('ip6')]);
  if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason;
  const services = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  return { mode, ordered: mode === 'iptables', services };
}
