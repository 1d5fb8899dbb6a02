// The lab's control plane: real etcd (embedded in kube-lab), kube-apiserver,
// kube-controller-manager and kube-scheduler as detached processes on 127.0.0.1.
//
//   const cp = await startControlPlane({ stateDir });   // returns once all are ready
//   cp.kubeconfigPath / cp.apiServerUrl
//   await cp.stop();                                     // or, after a crash:
//   await stopControlPlane(stateDir);                    // works from lab.json alone
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { findBinaries, type Component, type LabBinaries } from '../binaries.js';
import { createPki, issueCert, type CertPair, type PkiFiles, certPaths } from '../pki.js';
import {
  defaultStateDir,
  emptyState,
  readLabState,
  removeStateDir,
  stateLayout,
  updateLabState,
  writeLabState,
  type LabState,
  type ProcessRecord,
  type StateLayout,
} from '../state.js';
import { loadTlsClient, waitReady } from './health.js';
import { writeKubeconfig } from './kubeconfig.js';
import { assertPortsFree, type PortNeed } from './ports.js';
import { isRecordedProcessAlive, procInfo, spawnDetached, stopRecordedProcess } from './process.js';

export { ComponentError, httpsGet, loadTlsClient, waitReady } from './health.js';
export { writeKubeconfig, buildKubeconfig } from './kubeconfig.js';
export { PortInUseError, assertPortsFree, freeLoopbackPorts, portIsFree, portOwner } from './ports.js';
import { freeLoopbackPorts } from './ports.js';
export { isRecordedProcessAlive, logTail, procInfo, spawnDetached, stopRecordedProcess } from './process.js';

export interface ControlPlanePorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

export const DEFAULT_PORTS: ControlPlanePorts = {
  etcdClient: 42379,
  etcdPeer: 42380,
  apiserver: 6443,
  controllerManager: 10257,
  scheduler: 10259,
};

export interface ControlPlaneTimeouts {
  etcdMs: number;
  apiserverMs: number;
  componentMs: number;
  /** SIGTERM → SIGKILL grace per process */
  stopGraceMs: number;
}

/** A throwaway control plane's ports, all free right now: never collides with another lab. */
export async function freeControlPlanePorts(): Promise<ControlPlanePorts> {
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
  return { etcdClient, etcdPeer, apiserver, controllerManager, scheduler };
}

export const DEFAULT_TIMEOUTS: ControlPlaneTimeouts = {
  etcdMs: 30_000,
  apiserverMs: 90_000,
  componentMs: 60_000,
  stopGraceMs: 10_000,
};

export interface ControlPlaneOptions {
  /** default: defaultStateDir() ($KUBE_SLI_LAB_DIR, /var/lib/kube-sli/lab as root) */
  stateDir?: string;
  /** default 10.96.0.0/16 */
  serviceCIDR?: string;
  /** pod CIDR the controller-manager cuts node podCIDRs from; default 10.244.0.0/16 */
  clusterCIDR?: string;
  /** default 24 */
  nodeCIDRMaskSize?: number;
  /** per family (`--node-cidr-mask-size-ipv4/-ipv6` of a dual-stack cluster) */
  nodeCIDRMaskSizes?: Partial<Record<'ipv4' | 'ipv6', number>>;
  ports?: Partial<ControlPlanePorts>;
  /** address the apiserver advertises in the `kubernetes` Service; default 127.0.0.1
   * (then the `kubernetes` Service has no endpoints: pods cannot reach loopback anyway). */
  advertiseAddress?: string;
  /** extra apiserver SANs (e.g. a lab-fabric address kube-proxy in a node netns uses) */
  extraSANs?: { dns?: string[]; ips?: string[] };
  binaries?: LabBinaries;
  /** extra flags appended per component (e.g. kube-apiserver --egress-selector-config-file) */
  extraArgs?: Partial<Record<Component, string[]>>;
  timeouts?: Partial<ControlPlaneTimeouts>;
  /** progress messages; default: none */
  onProgress?: (msg: string) => void;
}

export interface ControlPlane {
  stateDir: string;
  layout: StateLayout;
  kubeconfigPath: string;
  apiServerUrl: string;
  ports: ControlPlanePorts;
  pki: PkiFiles;
  binaries: LabBinaries;
  versions: Record<string, string>;
  /** ms from call to all components ready, per step */
  timings: Record<string, number>;
  /** Kubeconfig for kube-proxy (system:kube-proxy, bound to system:node-proxier). */
  kubeProxyKubeconfig: string;
  /** Issues a client cert from the lab CA and writes a kubeconfig for it
   * (e.g. `system:node:<n>` in `system:nodes` for a lab node runtime). */
  issueKubeconfig(name: string, cn: string, orgs?: string[], server?: string): Promise<string>;
  stop(): Promise<StopReport>;
}

export class LabError extends Error {
  override name = 'LabError';
}

export interface StopReport {
  stopped: { name: string; pid: number; outcome: string }[];
  /** the state dir was removed (false when netns/links are still recorded) */
  removed: boolean;
}

export function preflight(platform: string = process.platform, uid: number | undefined = process.getuid?.()): void {
  if (platform !== 'linux') {
    throw new LabError(`the embedded lab needs Linux (network namespaces, /proc); this is ${platform}. Fix: run on Linux, or use a kind/k3s cluster via KUBECONFIG.`);
  }
  if (uid !== 0) {
    throw new LabError('the embedded lab needs root (network namespaces, iptables/nftables, /var/lib/kube-sli). Fix: run as root (sudo -E, or a root CI job), or use an existing cluster via KUBECONFIG.');
  }
}

/** Recorded processes that are still running (verified against /proc). */
export async function liveProcesses(state: LabState): Promise<ProcessRecord[]> {
  const alive = await Promise.all(state.processes.map(async (p) => ((await isRecordedProcessAlive(p)) ? p : undefined)));
  return alive.filter((p): p is ProcessRecord => p !== undefined);
}

async function componentVersion(argv: string[]): Promise<string> {
  const [file, ...args] = argv;
  const r = await execa(file!, [...args, '--version'], { reject: false, timeout: 20_000 });
  const out = `${String(r.stdout)}\n${String(r.stderr)}`;
  const m = /(v?\d+\.\d+\.\d+[^\s]*)/.exec(out);
  return m?.[1] ?? 'unknown';
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  preflight();
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const progress = opts.onProgress ?? (() => undefined);
  const dir = opts.stateDir ?? defaultStateDir();
  const layout = stateLayout(dir);
  const serviceCIDR = opts.serviceCIDR ?? '10.96.0.0/16';
  const clusterCIDR = opts.clusterCIDR ?? '10.244.0.0/16';
  const ports: ControlPlanePorts = { ...DEFAULT_PORTS, ...opts.ports };
  const timeouts: ControlPlaneTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const advertise = opts.advertiseAddress ?? '127.0.0.1';
  const apiServerUrl = `https://127.0.0.1:${ports.apiserver}`;

  // 1. What is already there?
  const existing = await readLabState(dir);
  if (existing) {
    if (existing.startingPid && existing.startingPid !== process.pid && (await procInfo(existing.startingPid))) {
      throw new LabError(`a lab is being started in ${dir} by pid ${existing.startingPid}. Fix: wait for it, or stop that process and run kube-sli lab down.`);
    }
    const live = await liveProcesses(existing);
    if (live.length > 0) {
      throw new LabError(
        `a lab is already running in ${dir} (${live.map((p) => `${p.name} pid ${p.pid}`).join(', ')}). ` +
          `Fix: use it (KUBECONFIG=${existing.kubeconfigPath || layout.adminKubeconfig}), or stop it first: kube-sli lab down (stopControlPlane("${dir}")).`,
      );
    }
    if (existing.netns.length > 0 || existing.links.length > 0) {
      throw new LabError(
        `${dir} records network namespaces/links of a lab that crashed (${[...existing.netns, ...existing.links].join(', ')}). Fix: kube-sli lab down, then start again.`,
      );
    }
    progress(`removing the stale state of a dead lab in ${dir}`);
    await removeStateDir(dir);
  }

  // 2. Binaries and ports before anything is made.
  const binaries = opts.binaries ?? (await findBinaries({ onProgress: progress }));
  const portNeeds: PortNeed[] = [
    { port: ports.etcdClient, purpose: 'etcd client port', option: 'ports.etcdClient' },
    { port: ports.etcdPeer, purpose: 'etcd peer port', option: 'ports.etcdPeer' },
    { port: ports.apiserver, purpose: 'kube-apiserver secure port', option: 'ports.apiserver' },
    { port: ports.controllerManager, purpose: 'kube-controller-manager secure port', option: 'ports.controllerManager' },
    { port: ports.scheduler, purpose: 'kube-scheduler secure port', option: 'ports.scheduler' },
  ];
  await assertPortsFree(portNeeds);
  timings.preflight = Date.now() - t0;

  try {
    // 3. Files: dirs, PKI, kubeconfigs, initial state (claims the dir).
    for (const d of [dir, layout.pki, layout.kubeconfigs, layout.logs, layout.etcdData]) {
      await mkdir(d, { recursive: true, mode: 0o700 });
    }
    const base = emptyState();
    const argvRecord = Object.fromEntries(Object.entries(binaries.argv)) as Record<string, string[]>;
    await writeLabState(dir, {
      ...base,
      startingPid: process.pid,
      binaries: { source: binaries.source, argv: argvRecord },
      ports: { ...ports },
      serviceCIDR,
      clusterCIDR,
      apiServerUrl,
      kubeconfigPath: layout.adminKubeconfig,
    });
    const versionsP = Promise.all(
      (['etcd', 'kube-apiserver'] as Component[]).map(async (c) => [c, await componentVersion(binaries.argv[c])] as const),
    );
    const pki = await createPki(layout.pki, {
      serviceCIDR,
      advertiseAddress: advertise,
      ...(opts.extraSANs ? { extraSANs: opts.extraSANs } : {}),
    });
    const kc = (name: string, client: CertPair, user: string) =>
      writeKubeconfig(join(layout.kubeconfigs, `${name}.kubeconfig`), { server: apiServerUrl, caFile: pki.ca.cert, client, user });
    const adminKc = await kc('admin', pki.admin, 'kubernetes-admin');
    const kcmKc = await kc('kube-controller-manager', pki.controllerManager, 'system:kube-controller-manager');
    const schedKc = await kc('kube-scheduler', pki.scheduler, 'system:kube-scheduler');
    const proxyKc = await kc('kube-proxy', pki.kubeProxy, 'system:kube-proxy');
    const versions = Object.fromEntries(await versionsP);
    await updateLabState(dir, (s) => {
      s.versions = versions;
    });
    timings.files = Date.now() - t0;

    const start = async (name: Component, args: string[]): Promise<ProcessRecord> => {
      const rec = await spawnDetached({ name, argv: [...binaries.argv[name], ...args, ...(opts.extraArgs?.[name] ?? [])], logFile: join(layout.logs, `${name}.log`) });
      await updateLabState(dir, (s) => {
        s.processes.push(rec);
      });
      progress(`${name} started (pid ${rec.pid}, log ${rec.logFile})`);
      return rec;
    };

    // 4. etcd (TLS on both listeners, client certs required).
    const etcdUrl = `https://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `https://127.0.0.1:${ports.etcdPeer}`;
    const etcd = await start('etcd', [
      '--name=lab',
      `--data-dir=${layout.etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=lab=${peerUrl}`,
      '--initial-cluster-state=new',
      `--cert-file=${pki.etcd.cert}`,
      `--key-file=${pki.etcd.key}`,
      '--client-cert-auth=true',
      `--trusted-ca-file=${pki.ca.cert}`,
      `--peer-cert-file=${pki.etcd.cert}`,
      `--peer-key-file=${pki.etcd.key}`,
      '--peer-client-cert-auth=true',
      `--peer-trusted-ca-file=${pki.ca.cert}`,
      // A lab: losing the last writes on a host crash is fine; fsync latency is not.
      '--unsafe-no-fsync=true',
      '--snapshot-count=10000',
    ]);
    const etcdTls = await loadTlsClient(pki.ca.cert, pki.apiserverEtcdClient);
    await waitReady(etcd, `${etcdUrl}/health`, etcdTls, timeouts.etcdMs, /"health":\s*"true"/);
    timings.etcd = Date.now() - t0;

    // 5. kube-apiserver.
    const apiserver = await start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      `--etcd-cafile=${pki.ca.cert}`,
      `--etcd-certfile=${pki.apiserverEtcdClient.cert}`,
      `--etcd-keyfile=${pki.apiserverEtcdClient.key}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--advertise-address=${advertise}`,
      ...(advertise.startsWith('127.') || advertise === '::1' ? ['--endpoint-reconciler-type=none'] : []),
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      `--service-cluster-ip-range=${serviceCIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
      `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
      `--proxy-client-key-file=${pki.frontProxyClient.key}`,
      `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-username-headers=X-Remote-User',
      '--profiling=false',
    ]);
    const adminTls = await loadTlsClient(pki.ca.cert, pki.admin);
    await waitReady(apiserver, `${apiServerUrl}/readyz`, adminTls, timeouts.apiserverMs, /^ok/);
    timings.apiserver = Date.now() - t0;

    // 6. controller-manager and scheduler, in parallel.
    const common = (kubeconfig: string, port: number, serving: CertPair) => [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
      '--leader-elect=false',
      '--profiling=false',
    ];
    const kcm = await start('kube-controller-manager', [
      ...common(kcmKc, ports.controllerManager, pki.controllerManagerServing),
      '--controllers=*,bootstrapsigner,tokencleaner',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--service-cluster-ip-range=${serviceCIDR}`,
      `--cluster-cidr=${clusterCIDR}`,
      '--allocate-node-cidrs=true',
      // dual-stack takes one mask size per family; single-stack the plain flag
      ...(clusterCIDR.includes(',')
        ? [`--node-cidr-mask-size-ipv4=${opts.nodeCIDRMaskSizes?.ipv4 ?? 24}`, `--node-cidr-mask-size-ipv6=${opts.nodeCIDRMaskSizes?.ipv6 ?? 64}`]
        : [`--node-cidr-mask-size=${opts.nodeCIDRMaskSizes?.[clusterCIDR.includes(':') ? 'ipv6' : 'ipv4'] ?? opts.nodeCIDRMaskSize ?? 24}`]),
      '--cluster-name=kube-sli-lab',
    ]);
    const sched = await start('kube-scheduler', common(schedKc, ports.scheduler, pki.schedulerServing));
    const caOnly = await loadTlsClient(pki.ca.cert, pki.admin);
    await Promise.all([
      waitReady(kcm, `https://127.0.0.1:${ports.controllerManager}/healthz`, caOnly, timeouts.componentMs, /^ok/),
      waitReady(sched, `https://127.0.0.1:${ports.scheduler}/healthz`, caOnly, timeouts.componentMs, /^ok/),
    ]);
    timings.ready = Date.now() - t0;
    await updateLabState(dir, (s) => {
      delete s.startingPid;
    });
    progress(`control plane ready in ${(timings.ready / 1000).toFixed(1)} s: KUBECONFIG=${adminKc}`);

    return {
      stateDir: dir,
      layout,
      kubeconfigPath: adminKc,
      apiServerUrl,
      ports,
      pki,
      binaries,
      versions,
      timings,
      kubeProxyKubeconfig: proxyKc,
      async issueKubeconfig(name, cn, orgs = [], server = apiServerUrl) {
        const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
        const pair = await issueCert(layout.pki, { name: `client-${safe}`, cn, orgs, usage: 'client' });
        return writeKubeconfig(join(layout.kubeconfigs, `${safe}.kubeconfig`), { server, caFile: pki.ca.cert, client: pair, user: cn });
      },
      stop: () => stopControlPlane(dir, { graceMs: timeouts.stopGraceMs }),
    };
  } catch (e) {
    progress(`start failed; stopping what was started and removing ${dir}`);
    await stopControlPlane(dir, { graceMs: timeouts.stopGraceMs }).catch((se: unknown) =>
      progress(`stopping after the failed start failed too (run kube-sli lab down): ${(se as Error).message}`),
    );
    throw e;
  }
}

export interface StopOptions {
  graceMs?: number;
  /** keep the state dir (logs) even when nothing else is recorded */
  keepState?: boolean;
}

/** Stops every process recorded in `stateDir`/lab.json (newest first; only those whose
 * /proc entry still matches), then removes the state dir unless network namespaces or
 * links are still recorded (those belong to the node/fabric clean-up). Idempotent. */
export async function stopControlPlane(stateDir: string = defaultStateDir(), opts: StopOptions = {}): Promise<StopReport> {
  const state = await readLabState(stateDir);
  const report: StopReport = { stopped: [], removed: false };
  if (!state) {
    if (!opts.keepState) await removeStateDir(stateDir);
    report.removed = true;
    return report;
  }
  for (const rec of [...state.processes].reverse()) {
    const outcome = await stopRecordedProcess(rec, opts.graceMs ?? DEFAULT_TIMEOUTS.stopGraceMs);
    report.stopped.push({ name: rec.name, pid: rec.pid, outcome });
  }
  const stoppedPids = new Set(state.processes.map((p) => p.pid));
  const after = await updateLabState(stateDir, (s) => {
    s.processes = s.processes.filter((p) => !stoppedPids.has(p.pid));
  });
  if (!opts.keepState && after.processes.length === 0 && after.netns.length === 0 && after.links.length === 0) {
    await removeStateDir(stateDir);
    report.removed = true;
  }
  return report;
}

export { certPaths };
