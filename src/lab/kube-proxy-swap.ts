// Swap the kube-proxy of a running lab (kube-sli ab): stop every node's kube-proxy, start
// another binary/flags with the same config, then wait until the new one has programmed
// everything before anything is measured:
//   1. its own metrics: a sync completed after its process started
//      (kubeproxy_sync_proxy_rules_last_timestamp_seconds > process_start_time_seconds;
//      the first sync after start is a full one), read through nodes/proxy;
//   2. a probe: the `kubernetes` Service's ClusterIP answers a TCP connect from every node
//      namespace (through the rules the new kube-proxy wrote).
// The old kube-proxy's rules stay in place until the new one's first sync rewrites them
// (kube-proxy does not flush on exit), as in a rolling update of a real DaemonSet.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeClients } from '../kube/clients.js';
import { closeProxyAgent } from '../kube/proxy.js';
import { readKubeProxyInfo } from '../kube/kube-proxy-info.js';
import { runIn } from '../netns/netns.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor } from '../wait-for.js';
import { isRecordedProcessAlive, logTail, stopRecordedProcess } from './control-plane/process.js';
import { LabError } from './control-plane/index.js';
import { spawnKubeProxy, KUBE_PROXY_METRICS_PORT } from './kube-proxy.js';
import type { KubeProxyChoice } from './kube-proxy-choice.js';
import { kubeProxyRecord, labPaths, type KubeProxyRecord, type OrchestratedState } from './lab.js';
import { confineCpu, CPU_SHARES, nodeDaemonsCgroup } from './node/teardown.js';
import type { NodePlan } from './network/plan.js';
import { readLabState, stateLayout, updateLabState } from './state.js';

export interface SwapResult {
  /** from the stop of the old kube-proxies to every node programmed and probed */
  ms: number;
  pids: number[];
}

/** TCP connect to ip:port from inside a namespace, with node (the kit's runtime). */
async function tcpProbe(netns: string, ip: string, port: number): Promise<boolean> {
  const js = `const s=require('net').connect({host:${JSON.stringify(ip)},port:${port},timeout:2000});s.on('connect',()=>{s.destroy();process.exit(0)});s.on('timeout',()=>process.exit(1));s.on('error',()=>process.exit(1));`;
  return runIn(netns, [process.execPath, '-e', js]).then(
    () => true,
    () => false,
  );
}

/** One kube-proxy for every node, or one per node by name (kube-sli ab --paired: each side on its half of the nodes). */
export type NodeChoice = KubeProxyChoice | ((node: string) => KubeProxyChoice);

export async function swapKubeProxy(stateDir: string, which: NodeChoice, o: { onProgress?: (m: string) => void } = {}): Promise<SwapResult> {
  const choiceOf = typeof which === 'function' ? which : () => which;
  const t0 = Date.now();
  const progress = o.onProgress ?? (() => undefined);
  const state: OrchestratedState | undefined = await readLabState(stateDir);
  if (!state?.lab || !state.kubeconfigPath) throw new LabError(`no lab up in ${stateDir}`);
  const mode = state.lab.proxyMode;
  const labId = state.lab.labId;
  const paths = labPaths(stateDir);
  const layout = stateLayout(stateDir);
  const tStart = Date.now();
  const old = state.processes.filter((p) => p.name.startsWith('kube-proxy/'));
  for (const rec of old) await stopRecordedProcess(rec);
  await updateLabState(stateDir, (s) => {
    const gone = new Set(old.map((p) => p.pid));
    s.processes = s.processes.filter((p) => !gone.has(p.pid));
  });
  const started = [];
  const byNode: Record<string, KubeProxyRecord> = {};
  for (const n of state.nodes) {
    const choice = choiceOf(n.name);
    // the same config as before: kubeconfig and cluster CIDR from the file lab up wrote
    const prev = JSON.parse(await readFile(join(paths.runDir, `kube-proxy-${n.name}.yaml`), 'utf8')) as { clusterCIDR: string; clientConnection: { kubeconfig: string }; nodePortAddresses?: string[] };
    if (!n.netns || typeof n.internalIp !== 'string') throw new LabError(`lab.json of ${stateDir} has no namespace or address for node ${n.name}`);
    // every family's node address, as the first kube-proxy had them (a dual-stack lab has two)
    const internalIps = (prev.nodePortAddresses ?? []).map((a) => a.replace(/\/\d+$/, ''));
    const node = { name: n.name, netns: n.netns, internalIp: n.internalIp, internalIps: internalIps.length > 0 ? internalIps : [n.internalIp] } as NodePlan;
    const rec = await spawnKubeProxy({
      node,
      mode,
      clusterCIDR: prev.clusterCIDR,
      kubeconfig: prev.clientConnection.kubeconfig,
      argv: choice.argv,
      extraArgs: choice.args,
      dialect: choice.dialect,
      featureGates: choice.featureGates,
      configDir: paths.runDir,
      logDir: layout.logs,
    });
    byNode[n.name] = kubeProxyRecord(choice);
    await updateLabState(stateDir, (s) => {
      s.processes.push(rec);
      const st = s as OrchestratedState;
      // the first node's choice stands for the lab; a mixed lab also says who runs what
      st.kubeProxy = Object.values(byNode)[0]!;
      if (typeof which === 'function') st.kubeProxyByNode = { ...byNode };
      else delete st.kubeProxyByNode;
    });
    await confineCpu(nodeDaemonsCgroup(labId, n.name), CPU_SHARES.nodeDaemons, [rec.pid]).catch(async (e: unknown) => {
      // ESRCH: the process was gone before it could be moved into its cgroup; say why
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      throw new LabError(`${rec.name} (pid ${rec.pid}, ${choice.version}) exited right after the swap started it; log ${rec.logFile}:\n${await logTail(rec.logFile)}`);
    });
    started.push({ node, rec, choice });
  }
  const what = (c: KubeProxyChoice) => `kube-proxy ${c.version}${c.args.length ? ` ${c.args.join(' ')}` : ''}`;
  progress(`started ${started.map((s) => `${what(s.choice)} on ${s.node.name} (pid ${s.rec.pid})`).join(', ')}`);

  const clients = kubeClients(state.kubeconfigPath);
  try {
    const svc = await clients.core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    const ip = svc.spec?.clusterIP;
    const port = svc.spec?.ports?.[0]?.port ?? 443;
    if (!ip) throw new LabError('the default/kubernetes Service has no ClusterIP');
    const probeIp: string = ip;
    // whole seconds: process_start_time_seconds comes from /proc (clock ticks)
    const startedAfter = Math.floor(tStart / 1000) - 1;
    await Promise.all(
      started.map(({ node, rec, choice }) =>
        waitFor(
          async () => {
            if (!(await isRecordedProcessAlive(rec))) throw new StopWaiting(new LabError(`${rec.name} (pid ${rec.pid}) exited after the swap; log ${rec.logFile}:\n${await logTail(rec.logFile)}`));
            const info = await readKubeProxyInfo(clients, node.name, KUBE_PROXY_METRICS_PORT);
            if (info.processStart === undefined || info.processStart < startedAfter) return { pending: 'metrics still from the old process' };
            if (info.version !== choice.version) throw new StopWaiting(new LabError(`${rec.name} reports ${info.version ?? 'no version'} on /metrics, not ${choice.version}`));
            if (info.lastSync === undefined || info.lastSync < info.processStart) return { pending: 'no sync completed since its start' };
            if (!(await tcpProbe(node.netns, probeIp, port))) return { pending: `probe ${probeIp}:${port} (default/kubernetes) not reachable from ${node.netns}` };
            return true;
          },
          { timeout: TIMEOUTS.labKubeProxyRulesMs, interval: TIMEOUTS.labRulesPollMs, what: `${rec.name} (${choice.version}) to sync and serve the probe Service (log ${rec.logFile})` },
        ),
      ),
    );
  } finally {
    closeProxyAgent(clients);
  }
  return { ms: Date.now() - t0, pids: started.map((s) => s.rec.pid) };
}
