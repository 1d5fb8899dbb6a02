// Test fixture: rule sets shaped like the ones kube-proxy writes, so the kernel tests see
// the same rule-search cost the real proxies cause (linear KUBE-SERVICES chain in
// iptables mode, one verdict-map lookup in nftables mode). Not a product feature: the
// lab runs the real kube-proxy.
import { createHash } from 'node:crypto';

export interface SyntheticService {
  name: string;
  vip: string;
  port: number;
  endpoints: { ip: string; port: number }[];
}

/** N Services with 2 endpoints each; the tested Service is the last, so a linear search visits all. */
export function syntheticServices(
  count: number,
  tested: { vip: string; port: number; endpoints: { ip: string; port: number }[] },
): SyntheticService[] {
  if (!Number.isInteger(count) || count < 1 || count > 60_000) {
    throw new RangeError(`service count ${count} must be an integer in 1..60000`);
  }
  const out: SyntheticService[] = [];
  for (let i = 0; i < count - 1; i++) {
    // 10.97.x.y: inside 10.96.0.0/12, never the tested VIP (10.96.0.0/16).
    out.push({
      name: `svc-${i}`,
      vip: `10.97.${(i >> 8) & 0xff}.${i & 0xff}`,
      port: 80,
      endpoints: tested.endpoints,
    });
  }
  out.push({ name: 'svc-tested', ...tested });
  return out;
}

function hashName(prefix: string, ...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('/')).digest('base64url').replace(/[-_]/g, 'X');
  return `${prefix}-${h.slice(0, 16).toUpperCase()}`;
}

/** `iptables-restore` input: the nat table as kube-proxy's iptables mode lays it out. */
export function iptablesRestoreInput(services: readonly SyntheticService[], clusterCidr: string): string {
  const chains: string[] = [
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
  ];
  const rules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const perService: string[] = [];
  for (const svc of services) {
    const svcChain = hashName('KUBE-SVC', svc.name);
    chains.push(`:${svcChain} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -d ${svc.vip}/32 -p tcp -m comment --comment "default/${svc.name}:http cluster IP" -m tcp --dport ${svc.port} -j ${svcChain}`,
    );
    perService.push(
      `-A ${svcChain} ! -s ${clusterCidr} -d ${svc.vip}/32 -p tcp -m comment --comment "default/${svc.name}:http cluster IP" -m tcp --dport ${svc.port} -j KUBE-MARK-MASQ`,
    );
    svc.endpoints.forEach((ep, i) => {
      const sep = hashName('KUBE-SEP', svc.name, ep.ip, String(ep.port));
      chains.push(`:${sep} - [0:0]`);
      const remaining = svc.endpoints.length - i;
      const pick =
        remaining > 1 ? ` -m statistic --mode random --probability ${(1 / remaining).toFixed(11)}` : '';
      perService.push(`-A ${svcChain} -m comment --comment "default/${svc.name}:http -> ${ep.ip}:${ep.port}"${pick} -j ${sep}`);
      perService.push(`-A ${sep} -s ${ep.ip}/32 -m comment --comment "default/${svc.name}:http" -j KUBE-MARK-MASQ`);
      perService.push(`-A ${sep} -p tcp -m comment --comment "default/${svc.name}:http" -m tcp -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    });
  }
  return ['*nat', ...chains, ...rules, ...perService, 'COMMIT', ''].join('\n');
}

export const NFT_TABLE = 'kube-proxy';

/** `nft -f` input: one table with a service verdict map, as kube-proxy's nftables mode. */
export function nftablesInput(services: readonly SyntheticService[], clusterCidr: string): string {
  const lines: string[] = [
    `add table ip ${NFT_TABLE}`,
    `flush table ip ${NFT_TABLE}`,
    `add chain ip ${NFT_TABLE} mark-for-masquerade`,
    `add rule ip ${NFT_TABLE} mark-for-masquerade mark set mark or 0x4000`,
    `add chain ip ${NFT_TABLE} masquerading`,
    `add rule ip ${NFT_TABLE} masquerading mark and 0x4000 == 0 return`,
    `add rule ip ${NFT_TABLE} masquerading mark set mark xor 0x4000`,
    `add rule ip ${NFT_TABLE} masquerading masquerade fully-random`,
    `add chain ip ${NFT_TABLE} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ip ${NFT_TABLE} nat-output { type nat hook output priority -100 ; }`,
    `add chain ip ${NFT_TABLE} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add rule ip ${NFT_TABLE} nat-postrouting jump masquerading`,
    `add chain ip ${NFT_TABLE} services`,
    `add rule ip ${NFT_TABLE} nat-prerouting jump services`,
    `add rule ip ${NFT_TABLE} nat-output jump services`,
    `add map ip ${NFT_TABLE} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add rule ip ${NFT_TABLE} services ip daddr . meta l4proto . th dport vmap @service-ips`,
  ];
  const elements: string[] = [];
  for (const svc of services) {
    const svcChain = `service-${hashName('X', svc.name).slice(2, 10)}-default/${svc.name}/tcp/http`;
    lines.push(`add chain ip ${NFT_TABLE} ${svcChain}`);
    lines.push(
      `add rule ip ${NFT_TABLE} ${svcChain} ip daddr ${svc.vip} tcp dport ${svc.port} ip saddr != ${clusterCidr} jump mark-for-masquerade`,
    );
    const epChains = svc.endpoints.map((ep) => {
      const c = `endpoint-${hashName('X', svc.name, ep.ip).slice(2, 10)}-default/${svc.name}/tcp/http__${ep.ip}/${ep.port}`;
      lines.push(`add chain ip ${NFT_TABLE} ${c}`);
      lines.push(`add rule ip ${NFT_TABLE} ${c} ip saddr ${ep.ip} jump mark-for-masquerade`);
      lines.push(`add rule ip ${NFT_TABLE} ${c} meta l4proto tcp dnat to ${ep.ip}:${ep.port}`);
      return c;
    });
    const vmap = epChains.map((c, i) => `${i} : goto ${c}`).join(' , ');
    lines.push(`add rule ip ${NFT_TABLE} ${svcChain} numgen random mod ${epChains.length} vmap { ${vmap} }`);
    elements.push(`${svc.vip} . tcp . ${svc.port} : goto ${svcChain}`);
  }
  // Elements in batches keep each nft line short.
  for (let i = 0; i < elements.length; i += 1000) {
    lines.push(`add element ip ${NFT_TABLE} service-ips { ${elements.slice(i, i + 1000).join(' , ')} }`);
  }
  return lines.join('\n') + '\n';
}
