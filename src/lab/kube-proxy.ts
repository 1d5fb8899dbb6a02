// One real kube-proxy per lab node, inside the node's network namespace:
//   ip netns exec ksli-lab-<id>-node<i> kube-lab kube-proxy --config <file>
// It talks to the apiserver through the node's relay (https://127.0.0.1:<apiserver port>
// inside the node namespace), programs iptables or nftables rules in that namespace only,
// and serves metrics on :10249 / healthz on :10256 there (the apiserver reaches them
// through nodes/<node>:10249/proxy via the egress proxy).
//
// `ip netns exec` execs the command in place (same PID), so the recorded argv is the
// command's own; spawnKubeProxy waits for the exec before recording.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runIn } from '../netns/netns.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor } from '../wait-for.js';
import { isRecordedProcessAlive, logTail } from './control-plane/process.js';
import { kubeProxyDialect, KubeProxyVersionError, type KubeProxyDialect, type KubeVersion } from './kube-proxy-version.js';
import { spawnInNetns } from './node/spawn.js';
import type { Family, NodePlan } from './network/plan.js';
import type { ProcessRecord } from './state.js';

export const PROXY_MODES = ['iptables', 'nftables'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
export const KUBE_PROXY_METRICS_PORT = 10249;
export const KUBE_PROXY_HEALTHZ_PORT = 10256;

export function isProxyMode(s: unknown): s is ProxyMode {
  return typeof s === 'string' && (PROXY_MODES as readonly string[]).includes(s);
}

export interface KubeProxyConfigInput {
  mode: ProxyMode;
  /** comma-separated, one range per family (dual-stack: both) */
  clusterCIDR: string;
  nodeName: string;
  /** the node's primary InternalIP */
  nodeIP: string;
  /** every InternalIP of the node (one per family); default [nodeIP] */
  nodeIPs?: string[];
  /** kubeconfig whose server is reachable inside the node namespace (the relay) */
  kubeconfig: string;
  /** default 1s (upstream default) */
  minSyncPeriod?: string;
  /** default 30s (upstream default) */
  syncPeriod?: string;
  /** the config dialect of the kube-proxy that reads it; default: the newest known */
  dialect?: KubeProxyDialect;
  /** featureGates of the config file (kube-proxy ignores --feature-gates next to --config) */
  featureGates?: Record<string, boolean>;
}

const NEWEST_DIALECT: KubeProxyDialect = { minor: 34, logging: true, nftables: true, nftablesNeedsGate: false, localhostNodePorts: true };

/** The dialect of a kube-proxy version, checked against the mode and gates the lab asks for. */
export function checkedDialect(version: KubeVersion, mode: ProxyMode, featureGates: Record<string, boolean>): KubeProxyDialect {
  const d = kubeProxyDialect(version);
  if (mode === 'nftables' && !d.nftables) {
    throw new KubeProxyVersionError(`kube-proxy ${version.text} has no nftables mode (it came in v1.29). Fix: --proxy-mode iptables, or a kube-proxy v1.29 or newer.`);
  }
  if (mode === 'nftables' && d.nftablesNeedsGate && featureGates.NFTablesProxyMode !== true) {
    throw new KubeProxyVersionError(`kube-proxy ${version.text} runs nftables mode only with its alpha feature gate. Fix: --kube-proxy-arg=--feature-gates=NFTablesProxyMode=true, or --proxy-mode iptables.`);
  }
  return d;
}

/** KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) as an object; JSON is YAML. */
export function kubeProxyConfig(i: KubeProxyConfigInput): Record<string, unknown> {
  const sync = { syncPeriod: i.syncPeriod ?? '30s', minSyncPeriod: i.minSyncPeriod ?? '1s' };
  const d = i.dialect ?? NEWEST_DIALECT;
  if (i.mode === 'nftables' && !d.nftables) throw new KubeProxyVersionError(`kube-proxy v1.${d.minor} has no nftables mode`);
  // kube-proxy decodes strictly: sections a version does not know stay out. Leaving out
  // `logging` changes nothing (text is every version's default); the nftables section only
  // matters in nftables mode, which such a version cannot run.
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    ...(i.featureGates && Object.keys(i.featureGates).length > 0 ? { featureGates: { ...i.featureGates } } : {}),
    mode: i.mode,
    clusterCIDR: i.clusterCIDR,
    detectLocalMode: 'ClusterCIDR',
    hostnameOverride: i.nodeName,
    bindAddress: i.nodeIP,
    metricsBindAddress: `0.0.0.0:${KUBE_PROXY_METRICS_PORT}`,
    healthzBindAddress: `0.0.0.0:${KUBE_PROXY_HEALTHZ_PORT}`,
    // NodePorts only on the node's lab addresses, one per family (nftables' default
    // "primary" says the same for one family; explicit so both modes agree and nothing
    // listens/matches elsewhere).
    nodePortAddresses: (i.nodeIPs ?? [i.nodeIP]).map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)),
    clientConnection: { kubeconfig: i.kubeconfig, qps: 50, burst: 100 },
    // nf_conntrack_max is read-only in a non-initial netns: maxPerCore 0 leaves it alone;
    // the timeouts 0 leave the namespace's own values alone too.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { ...sync, masqueradeAll: false, localhostNodePorts: false },
    ...(d.nftables ? { nftables: { ...sync, masqueradeAll: false } } : {}),
    ...(d.logging ? { logging: { format: 'text' } } : {}),
  };
}

export interface StartKubeProxyOptions {
  node: NodePlan;
  mode: ProxyMode;
  clusterCIDR: string;
  kubeconfig: string;
  /** argv prefix of kube-proxy (binaries.argv['kube-proxy'], or the user's binary) */
  argv: readonly string[];
  /** the user's flags after the lab's --config (feature gates go into the file) */
  extraArgs?: readonly string[];
  dialect?: KubeProxyDialect;
  featureGates?: Record<string, boolean>;
  /** where the config file goes */
  configDir: string;
  logDir: string;
}

/** Writes the config and starts kube-proxy detached in the node namespace. The returned
 * record's argv is what /proc shows after `ip netns exec` exec'd it. */
export async function spawnKubeProxy(o: StartKubeProxyOptions): Promise<ProcessRecord> {
  const configFile = join(o.configDir, `kube-proxy-${o.node.name}.yaml`);
  const cfg = kubeProxyConfig({
    mode: o.mode,
    clusterCIDR: o.clusterCIDR,
    nodeName: o.node.name,
    nodeIP: o.node.internalIp,
    nodeIPs: o.node.internalIps,
    kubeconfig: o.kubeconfig,
    ...(o.dialect ? { dialect: o.dialect } : {}),
    ...(o.featureGates ? { featureGates: o.featureGates } : {}),
  });
  await writeFile(configFile, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  return spawnInNetns({
    name: `kube-proxy/${o.node.name}`,
    wrapper: ['ip', 'netns', 'exec', o.node.netns],
    argv: [...o.argv, `--config=${configFile}`, ...(o.extraArgs ?? []).filter((a) => !a.startsWith('--feature-gates='))],
    logFile: join(o.logDir, `kube-proxy-${o.node.name}.log`),
  });
}

/** True once kube-proxy's rules of every given family exist in the node namespace
 * (nftables: the `ip` / `ip6` kube-proxy tables; iptables: iptables-save / ip6tables-save). */
export async function rulesProgrammed(netns: string, mode: ProxyMode, families: readonly Family[] = ['ipv4']): Promise<boolean> {
  try {
    for (const f of families) {
      if (mode === 'nftables') {
        const out = await runIn(netns, ['nft', 'list', 'table', f === 'ipv6' ? 'ip6' : 'ip', 'kube-proxy']);
        if (!(/chain services/.test(out) && /map service-ips/.test(out))) return false;
      } else {
        const out = await runIn(netns, [f === 'ipv6' ? 'ip6tables-save' : 'iptables-save', '-t', 'nat']);
        if (!(/^-A KUBE-SERVICES /m.test(out) || /^:KUBE-SERVICES /m.test(out))) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Waits until kube-proxy programmed its rules (its first full sync), failing fast when it dies. */
export async function waitKubeProxyRules(rec: ProcessRecord, netns: string, mode: ProxyMode, families: readonly Family[] = ['ipv4'], timeoutMs = TIMEOUTS.labKubeProxyRulesMs): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    async () => {
      if (await rulesProgrammed(netns, mode, families)) return true;
      if (!(await isRecordedProcessAlive(rec))) {
        throw new StopWaiting(new Error(`${rec.name} (pid ${rec.pid}) died before programming ${mode} rules; log ${rec.logFile}:\n${await logTail(rec.logFile)}`));
      }
      return undefined;
    },
    { timeout: timeoutMs, interval: TIMEOUTS.labRulesPollMs, what: `${rec.name} to program ${mode} rules in ${netns} (log ${rec.logFile})` },
  );
  return Date.now() - t0;
}
