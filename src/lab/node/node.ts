// A lab node as a real Kubernetes node: its own containerd (runc) and a real kubelet,
// both inside the node's network namespace, with CNI plugins setting up every pod's
// network. What kind does with a container per node, the lab does with a namespace per
// node and per-node paths and cgroups (layout.ts, config.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeKubeconfig } from '../control-plane/kubeconfig.js';
import { isRecordedProcessAlive, logTail } from '../control-plane/process.js';
import { issueCert } from '../pki.js';
import type { NodePlan } from '../network/plan.js';
import type { ProcessRecord } from '../state.js';
import type { LabImage } from '../images/build.js';
import { TIMEOUTS } from '../../timeouts.js';
import { StopWaiting, waitFor } from '../../wait-for.js';
import { cniConfList, containerdConfig, kubeletConfig, podResolvConf } from './config.js';
import { nodeCgroupRoot, nodeLayout, type NodeLayout } from './layout.js';
import { nsenterNet, spawnInNetns } from './spawn.js';
import { createNodeCgroupRoot } from './teardown.js';

export const DEFAULT_CNI_BIN_DIR = '/usr/lib/cni';

export interface CniOptions {
  /** plugin binaries (default Debian's containernetworking-plugins, /usr/lib/cni) */
  binDir: string;
  /** a user's CNI configuration directory; default: the lab writes one per node */
  confDir?: string;
}

export interface StartNodeOptions {
  stateDir: string;
  labId: string;
  node: NodePlan;
  /** argv prefix of the kubelet (binaries.argv.kubelet) */
  kubeletArgv: readonly string[];
  /** the user's extra kubelet flags, after the lab's */
  kubeletArgs?: readonly string[];
  /** the API server as seen inside the node namespace (the lab's relay) */
  apiServerUrl: string;
  pkiDir: string;
  caFile: string;
  cni: CniOptions;
  images: readonly LabImage[];
  logDir: string;
  /** called with each process as soon as it runs, so lab.json records it before the next step */
  onProcess: (rec: ProcessRecord) => Promise<void>;
  onProgress?: (line: string) => void;
}

export interface StartedNode {
  layout: NodeLayout;
  containerd: ProcessRecord;
  kubelet: ProcessRecord;
  /** ms spent importing images */
  importMs: number;
}

export async function ctr(layout: NodeLayout, args: readonly string[], timeoutMs = TIMEOUTS.labImageImportMs): Promise<string> {
  const r = await execa('ctr', ['--address', layout.containerdSocket, '--namespace', 'k8s.io', ...args], { reject: false, all: true, timeout: timeoutMs });
  if (r.exitCode !== 0) throw new Error(`ctr ${args.join(' ')} failed (exit ${r.exitCode}): ${String(r.all).trim().split('\n').slice(-5).join(' | ')}`);
  return String(r.stdout);
}

export async function startLabNode(o: StartNodeOptions): Promise<StartedNode> {
  const log = o.onProgress ?? (() => undefined);
  const n = o.node;
  const l = nodeLayout(o.stateDir, n.name);
  for (const d of [l.dir, l.containerdRoot, l.containerdState, l.runcRoot, l.kubeletDir, l.kubeletPki, l.podLogs, l.volumePluginDir, l.cniConfDir, l.cniIpamDir]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
  }
  const confDir = o.cni.confDir ?? l.cniConfDir;
  if (!o.cni.confDir) {
    await writeFile(join(l.cniConfDir, '10-kube-sli-lab.conflist'), JSON.stringify(cniConfList({ podCidr: n.podCidrs, ipamDataDir: l.cniIpamDir }), null, 2) + '\n');
  }
  await writeFile(l.containerdConfig, containerdConfig({ layout: l, cniBinDir: o.cni.binDir, cniConfDir: confDir }));
  await writeFile(l.resolvConf, podResolvConf());

  // containerd first: the kubelet gives up on a runtime that is not there.
  const containerd = await spawnInNetns({
    name: `containerd/${n.name}`,
    wrapper: nsenterNet(n.netns),
    argv: ['containerd', '--config', l.containerdConfig],
    logFile: join(o.logDir, `containerd-${n.name}.log`),
  });
  await o.onProcess(containerd);
  await waitFor(
    async () => {
      if (!(await isRecordedProcessAlive(containerd))) throw new StopWaiting(new Error(`containerd on ${n.name} died: ${await logTail(containerd.logFile)}`));
      return (await execa('ctr', ['--address', l.containerdSocket, 'version'], { reject: false, timeout: 5_000 })).exitCode === 0;
    },
    { timeout: TIMEOUTS.labContainerdMs, interval: TIMEOUTS.labPollMs, what: `containerd on ${n.name} to answer on ${l.containerdSocket}` },
  );
  log(`containerd on ${n.name} up (pid ${containerd.pid})`);

  const t0 = Date.now();
  for (const img of o.images) await ctr(l, ['images', 'import', img.archive]);
  const importMs = Date.now() - t0;
  log(`${n.name}: imported ${o.images.map((i) => i.ref).join(', ')} in ${(importMs / 1000).toFixed(1)} s`);

  // The kubelet's identity: a client certificate in system:nodes (the Node authorizer
  // and NodeRestriction then hold it to its own node) and a serving certificate for
  // its InternalIP, both from the lab CA.
  const client = await issueCert(o.pkiDir, { name: `kubelet-${n.name}-client`, cn: `system:node:${n.name}`, orgs: ['system:nodes'], usage: 'client' });
  const serving = await issueCert(o.pkiDir, { name: `kubelet-${n.name}-serving`, cn: `system:node:${n.name}`, usage: 'server', dnsNames: [n.name], ips: n.internalIps });
  await writeKubeconfig(l.kubeletKubeconfig, { server: o.apiServerUrl, caFile: o.caFile, client, user: `system:node:${n.name}` });
  await createNodeCgroupRoot(nodeCgroupRoot(o.labId, n.name));
  const cfg = kubeletConfig({ layout: l, nodeIp: n.internalIp, cgroupRoot: nodeCgroupRoot(o.labId, n.name), clientCaFile: o.caFile, tlsCertFile: serving.cert, tlsKeyFile: serving.key });
  await writeFile(l.kubeletConfig, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  const kubelet = await spawnInNetns({
    name: `kubelet/${n.name}`,
    wrapper: nsenterNet(n.netns),
    argv: [...o.kubeletArgv, `--config=${l.kubeletConfig}`, `--kubeconfig=${l.kubeletKubeconfig}`, `--root-dir=${l.kubeletDir}`, `--hostname-override=${n.name}`, `--node-ip=${n.internalIps.join(',')}`, '--v=1', ...(o.kubeletArgs ?? [])],
    logFile: join(o.logDir, `kubelet-${n.name}.log`),
  });
  await o.onProcess(kubelet);
  log(`kubelet on ${n.name} started (pid ${kubelet.pid})`);
  return { layout: l, containerd, kubelet, importMs };
}
