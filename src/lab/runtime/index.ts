// The lab node runtime: for lab nodes, the part of a kubelet the lab needs.
//
// Nodes: one Node per plan node (name, spec.podCIDR(s) = the plan's podCidr, which the
// controller-manager's range allocator keeps since it lies in --cluster-cidr), status
// patched with addresses, capacity, nodeInfo and Ready=True; a Lease in kube-node-lease
// and the Ready heartbeat renewed every heartbeatMs (10 s); `node.kubernetes.io/not-ready`
// and `unreachable` taints, which the node lifecycle controller adds before the first
// Ready status, are removed. daemonEndpoints.kubeletEndpoint.Port is 0: nothing serves
// the kubelet API, so `kubectl logs/exec` do not work (logs are files in logDir).
//
// Pods: one list+watch of all Pods (re-listed after any watch end or error), filtered on
// spec.nodeName. A new pod gets its network (pod netns + veth + IP via addPodNetwork, or
// the node's netns when hostNetwork), then each container whose image is in the catalog
// runs as `ip netns exec <netns> <argv>` in its own process group, env from the spec
// (value, downward-API fieldRef, configMap/secret keys, $(VAR) expansion), output to
// logDir/<ns>_<pod>_<container>.log. Images not in the catalog leave the container
// Waiting (ImageNotInLabCatalog), the pod Pending. Status is written as a merge patch of
// pods/status, serialised per pod (the latest state wins).
// Readiness: readinessProbe httpGet/tcpSocket runs from the node's netns (NodeProber)
// every periodSeconds after initialDelaySeconds, honouring success/failureThreshold;
// without a probe a container is ready once its process runs. Liveness/startup probes,
// init containers, volumes and exec probes are not supported (ignored; logged once).
// Restarts: restartPolicy Always/OnFailure restart after a back-off of 1, 2, 4 … s
// capped at maxRestartBackoffMs (10 s), reset after a run of twice the cap.
// Deletion: deletionTimestamp → SIGTERM to each container's process group, up to
// terminationGracePeriodSeconds (cap 30 s), SIGKILL, pod network removed, then the Pod
// deleted with gracePeriodSeconds 0 (what the kubelet does). Pods gone from the API get
// the same clean-up without the delete; pod networks in the state file whose pod is gone
// are removed after each list.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, mkdirSync, openSync } from 'node:fs';
import { arch, constants as osConstants, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { addPodNetwork, hostNetworkPod, listPodNetworks, removePodNetwork } from '../network/pods.js';
import type { NodePlan } from '../network/plan.js';
import { CatalogError, imageRepository, matchCatalog } from './catalog.js';
import { expandVars, fieldRefValue, k8sMicroTime, k8sTime, nextBackoff, podPhase, shouldRestart, type ContainerView } from './pod-status.js';
import { NodeProber } from './prober.js';
import type { NodeRuntime, NodeRuntimeOptions, StartNodeRuntime } from './types.js';

export * from './types.js';
export * from './catalog.js';
export * from './pod-status.js';

export const CONTAINER_RUNTIME_VERSION = 'kube-sli-lab://0.1';
export const OS_IMAGE = 'kube-sli lab';
const NODE_LEASE_NS = 'kube-node-lease';
const LEASE_DURATION_S = 40;
const MAX_GRACE_S = 30;
const NOT_READY_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

interface Terminated {
  exitCode: number;
  signal?: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

interface ContainerRun {
  spec: k8s.V1Container;
  argv?: string[];
  cwd?: string;
  waiting?: { reason: string; message?: string };
  child?: ChildProcess;
  pid?: number;
  startedAt?: Date;
  ready: boolean;
  restartCount: number;
  lastTerminated?: Terminated;
  terminated?: Terminated;
  hasRun: boolean;
  backoffMs?: number;
  backoffTimer?: NodeJS.Timeout;
  probeTimer?: NodeJS.Timeout;
  probeOk: number;
  probeFail: number;
  exited?: Promise<void>;
}

interface PodRun {
  uid: string;
  key: string;
  namespace: string;
  name: string;
  node: NodePlan;
  pod: k8s.V1Pod;
  netns?: string;
  podIP?: string;
  startTime: Date;
  containers: ContainerRun[];
  transitions: Map<string, { status: string; at: string }>;
  stopping: boolean;
  gone: boolean;
  terminating?: Promise<void>;
  dirty: boolean;
  syncing?: Promise<void>;
}

function errCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

function podKey(pod: k8s.V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}/${pod.metadata?.uid ?? ''}`;
}

function signalNumber(sig: NodeJS.Signals | null): number | undefined {
  return sig ? (osConstants.signals as Record<string, number>)[sig] : undefined;
}

function isAlive(c: ContainerRun): boolean {
  return c.child !== undefined && c.child.exitCode === null && c.child.signalCode === null;
}

export const startNodeRuntime: StartNodeRuntime = async (opts: NodeRuntimeOptions): Promise<NodeRuntime> => {
  const log = opts.log ?? (() => undefined);
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const backoffCap = opts.maxRestartBackoffMs ?? 10_000;
  const plan = opts.plan;
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const coord = kc.makeApiClient(k8s.CoordinationV1Api);
  const version = (await kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion;
  mkdirSync(opts.logDir, { recursive: true });

  const byName = new Map(plan.nodes.map((n) => [n.name, n] as const));
  const probers = new Map(plan.nodes.map((n) => [n.name, new NodeProber(n.netns)] as const));
  const runs = new Map<string, PodRun>();
  const cleaning = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let watchAbort: AbortController | undefined;
  const warnedOnce = new Set<string>();
  const warnOnce = (k: string, msg: string) => {
    if (!warnedOnce.has(k)) {
      warnedOnce.add(k);
      log(msg);
    }
  };

  // --- nodes ---------------------------------------------------------------------------
  const cores = String(cpus().length);
  const memory = `${Math.floor(totalmem() / 1024)}Ki`;
  const nodeStatus = (n: NodePlan) => {
    const now = k8sTime();
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: nodeTransition.get(`${n.name}/${type}`) ?? now,
    });
    for (const t of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      if (!nodeTransition.has(`${n.name}/${t}`)) nodeTransition.set(`${n.name}/${t}`, now);
    }
    const id = createHash('sha256').update(`${plan.labId}/${n.name}`).digest('hex').slice(0, 32);
    return {
      status: {
        addresses: [
          { type: 'InternalIP', address: n.internalIp },
          { type: 'Hostname', address: n.name },
        ],
        capacity: { cpu: cores, memory, pods: '110', 'ephemeral-storage': '10Gi' },
        allocatable: { cpu: cores, memory, pods: '110', 'ephemeral-storage': '10Gi' },
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: id,
          systemUUID: id,
          bootID: id,
          kernelVersion: release(),
          osImage: OS_IMAGE,
          containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
          kubeletVersion: version,
          kubeProxyVersion: opts.kubeProxyVersion ?? version,
          operatingSystem: 'linux',
          architecture: goArch(),
        },
        conditions: [
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'lab node runtime has sufficient memory available'),
          cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'lab node runtime has no disk pressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'lab node runtime has sufficient PID available'),
          cond('Ready', 'True', 'KubeletReady', 'lab node runtime is posting ready status'),
        ],
      },
    };
  };
  const nodeTransition = new Map<string, string>();
  const nodeUids = new Map<string, string>();

  const untaint = async (node: k8s.V1Node): Promise<void> => {
    const taints = node.spec?.taints ?? [];
    if (!taints.some((t) => NOT_READY_TAINTS.has(t.key))) return;
    const keep = taints.filter((t) => !NOT_READY_TAINTS.has(t.key));
    // merge patch replaces the list; resourceVersion makes it a compare-and-swap
    await core
      .patchNode({ name: node.metadata!.name!, body: { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: keep.length ? keep : null } } }, MERGE)
      .catch((e: unknown) => {
        if (errCode(e) !== 409) throw e;
      });
  };

  const registerNode = async (n: NodePlan): Promise<void> => {
    let node: k8s.V1Node;
    try {
      node = await core.createNode({
        body: {
          metadata: {
            name: n.name,
            labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': goArch(), 'kube-sli.dev/lab': plan.labId },
          },
          spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
        },
      });
      log(`node ${n.name} registered (podCIDR ${n.podCidr}, InternalIP ${n.internalIp})`);
    } catch (e) {
      if (errCode(e) !== 409) throw e;
      node = await core.readNode({ name: n.name });
      const have = node.spec?.podCIDR;
      if (have && have !== n.podCidr) {
        throw new Error(`node ${n.name} already exists with podCIDR ${have}, the lab plan says ${n.podCidr}: delete the Node (kubectl delete node ${n.name}) or use another lab`);
      }
      log(`node ${n.name} exists; taking it over`);
    }
    nodeUids.set(n.name, node.metadata?.uid ?? '');
    await heartbeat(n);
  };

  const heartbeat = async (n: NodePlan): Promise<void> => {
    const node = await core.patchNodeStatus({ name: n.name, body: nodeStatus(n) }, MERGE);
    await untaint(node);
    const renewTime = k8sMicroTime();
    try {
      await coord.patchNamespacedLease({ name: n.name, namespace: NODE_LEASE_NS, body: { spec: { renewTime, holderIdentity: n.name, leaseDurationSeconds: LEASE_DURATION_S } } }, MERGE);
    } catch (e) {
      if (errCode(e) !== 404) throw e;
      await coord.createNamespacedLease({
        namespace: NODE_LEASE_NS,
        body: {
          metadata: { name: n.name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: nodeUids.get(n.name) ?? node.metadata?.uid ?? '' }] },
          spec: { holderIdentity: n.name, leaseDurationSeconds: LEASE_DURATION_S },
        },
      });
      await coord.patchNamespacedLease({ name: n.name, namespace: NODE_LEASE_NS, body: { spec: { renewTime } } }, MERGE);
    }
  };

  for (const n of plan.nodes) await registerNode(n);
  const beating = new Set<string>(); // no pile-up while the apiserver is slow or away
  const hb = setInterval(() => {
    for (const n of plan.nodes) {
      if (beating.has(n.name)) continue;
      beating.add(n.name);
      heartbeat(n)
        .catch((e: unknown) => log(`heartbeat of ${n.name} failed: ${(e as Error).message}`))
        .finally(() => beating.delete(n.name));
    }
  }, heartbeatMs);
  timers.add(hb);

  const ready = (async () => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (stopped) throw new Error('node runtime stopped before its nodes were Ready');
      const nodes = await Promise.all(plan.nodes.map((n) => core.readNode({ name: n.name })));
      let all = true;
      for (const node of nodes) {
        const isReady = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        const tainted = (node.spec?.taints ?? []).some((t) => NOT_READY_TAINTS.has(t.key));
        if (tainted) await untaint(node);
        if (!isReady || tainted) all = false;
      }
      if (all) {
        log(`nodes Ready: ${plan.nodes.map((n) => n.name).join(', ')}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`lab nodes not Ready after 120 s (taints or status): ${nodes.map((n) => JSON.stringify({ name: n.metadata?.name, taints: n.spec?.taints })).join(' ')}`);
      await sleep(300);
    }
  })();
  ready.catch(() => undefined);

  // --- pod status ----------------------------------------------------------------------
  const transition = (run: PodRun, type: string, status: string): string => {
    const prev = run.transitions.get(type);
    if (prev && prev.status === status) return prev.at;
    const at = k8sTime();
    run.transitions.set(type, { status, at });
    return at;
  };

  const containerView = (c: ContainerRun): ContainerView => ({
    state: isAlive(c) ? 'running' : c.terminated ? 'terminated' : 'waiting',
    hasRun: c.hasRun,
    final: c.terminated !== undefined,
    ...(c.terminated ? { exitCode: c.terminated.exitCode } : {}),
  });

  const buildStatus = (run: PodRun): Record<string, unknown> => {
    const views = run.containers.map(containerView);
    const phase = podPhase(views);
    const allReady = run.containers.length > 0 && run.containers.every((c) => c.ready && isAlive(c));
    const hostIP = run.node.internalIp;
    const cond = (type: string, status: boolean, reason?: string) => ({
      type,
      status: status ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: transition(run, type, status ? 'True' : 'False'),
      ...(reason && !status ? { reason } : {}),
    });
    const containerStatuses = run.containers.map((c) => {
      const alive = isAlive(c);
      const state = alive
        ? { running: { startedAt: k8sTime(c.startedAt) } }
        : c.terminated
          ? { terminated: c.terminated }
          : { waiting: c.waiting ?? { reason: 'ContainerCreating' } };
      return {
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: `lab://${c.argv?.[0] ?? imageRepository(c.spec.image ?? '')}`,
        ...(c.pid !== undefined ? { containerID: `lab://${c.pid}` } : {}),
        restartCount: c.restartCount,
        ready: c.ready && alive,
        started: alive,
        state,
        lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
      };
    });
    return {
      metadata: { uid: run.uid },
      status: {
        phase,
        hostIP,
        hostIPs: [{ ip: hostIP }],
        ...(run.podIP ? { podIP: run.podIP, podIPs: [{ ip: run.podIP }] } : {}),
        startTime: k8sTime(run.startTime),
        conditions: [
          cond('PodReadyToStartContainers', run.netns !== undefined),
          cond('Initialized', true),
          cond('Ready', allReady, 'ContainersNotReady'),
          cond('ContainersReady', allReady, 'ContainersNotReady'),
          cond('PodScheduled', true),
        ],
        containerStatuses,
      },
    };
  };

  const syncStatus = (run: PodRun): void => {
    run.dirty = true;
    if (run.syncing) return;
    run.syncing = (async () => {
      while (run.dirty && !run.gone && !stopped) {
        run.dirty = false;
        try {
          await core.patchNamespacedPodStatus({ name: run.name, namespace: run.namespace, body: buildStatus(run) }, MERGE);
        } catch (e) {
          const code = errCode(e);
          if (code === 404 || code === 409) break; // gone or replaced; the watch brings the clean-up
          log(`status of pod ${run.namespace}/${run.name} not written: ${(e as Error).message}`);
          run.dirty = true;
          await sleep(1_000);
        }
      }
    })().finally(() => {
      run.syncing = undefined;
    });
  };

  // --- containers ----------------------------------------------------------------------
  const resolveEnv = async (run: PodRun, c: k8s.V1Container): Promise<Record<string, string>> => {
    const env: Record<string, string> = {};
    const addr = { ...(run.podIP ? { podIP: run.podIP } : {}), hostIP: run.node.internalIp };
    for (const src of c.envFrom ?? []) {
      try {
        let data: Record<string, string> = {};
        if (src.configMapRef?.name) {
          data = (await core.readNamespacedConfigMap({ name: src.configMapRef.name, namespace: run.namespace })).data ?? {};
        } else if (src.secretRef?.name) {
          const s = (await core.readNamespacedSecret({ name: src.secretRef.name, namespace: run.namespace })).data ?? {};
          data = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
        }
        for (const [k, v] of Object.entries(data)) env[`${src.prefix ?? ''}${k}`] = v;
      } catch (e) {
        log(`pod ${run.namespace}/${run.name}: envFrom not resolved: ${(e as Error).message}`);
      }
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) {
        env[e.name] = expandVars(e.value, env);
        continue;
      }
      const vf = e.valueFrom;
      if (!vf) {
        env[e.name] = '';
        continue;
      }
      try {
        if (vf.fieldRef) {
          const v = fieldRefValue(run.pod, vf.fieldRef.fieldPath, addr);
          if (v === undefined) warnOnce(`field:${vf.fieldRef.fieldPath}`, `env fieldRef ${vf.fieldRef.fieldPath} is not supported by the lab runtime; set empty`);
          env[e.name] = v ?? '';
        } else if (vf.configMapKeyRef) {
          const cm = await core.readNamespacedConfigMap({ name: vf.configMapKeyRef.name ?? '', namespace: run.namespace });
          env[e.name] = cm.data?.[vf.configMapKeyRef.key] ?? '';
        } else if (vf.secretKeyRef) {
          const s = await core.readNamespacedSecret({ name: vf.secretKeyRef.name ?? '', namespace: run.namespace });
          const v = s.data?.[vf.secretKeyRef.key];
          env[e.name] = v === undefined ? '' : Buffer.from(v, 'base64').toString();
        } else {
          warnOnce(`env:${e.name}`, `env ${e.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported by the lab runtime; set empty`);
          env[e.name] = '';
        }
      } catch (err) {
        log(`pod ${run.namespace}/${run.name}: env ${e.name} not resolved: ${(err as Error).message}`);
        env[e.name] = '';
      }
    }
    return env;
  };

  const startContainer = async (run: PodRun, c: ContainerRun): Promise<void> => {
    if (run.stopping || stopped || !c.argv || !run.netns) return;
    const specEnv = await resolveEnv(run, c.spec);
    if (run.stopping || stopped) return; // deleted while the env was read
    const argv = c.argv.map((a) => expandVars(a, specEnv));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      HOSTNAME: run.pod.spec?.hostNetwork ? run.node.name : run.name,
      ...specEnv,
    };
    const logFile = join(opts.logDir, `${run.namespace}_${run.name}_${c.spec.name}.log`);
    const fd = openSync(logFile, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND, 0o644);
    let child: ChildProcess;
    try {
      child = spawn('ip', ['netns', 'exec', run.netns, ...argv], { cwd: c.cwd ?? '/', env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    c.child = child;
    c.pid = child.pid;
    c.startedAt = new Date();
    c.hasRun = true;
    c.waiting = undefined;
    c.probeOk = 0;
    c.probeFail = 0;
    c.ready = !c.spec.readinessProbe;
    c.exited = new Promise<void>((resolve) => {
      let done = false;
      const onEnd = (code: number | null, sig: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        resolve();
        onExit(run, c, child, code, sig);
      };
      child.once('exit', onEnd);
      child.once('error', (e) => {
        log(`pod ${run.namespace}/${run.name} container ${c.spec.name}: ${e.message}`);
        onEnd(127, null);
      });
    });
    log(`pod ${run.namespace}/${run.name} container ${c.spec.name} started (pid ${child.pid}): ${argv.join(' ')}`);
    if (c.spec.readinessProbe) scheduleProbe(run, c, child, (c.spec.readinessProbe.initialDelaySeconds ?? 0) * 1000);
    syncStatus(run);
  };

  const onExit = (run: PodRun, c: ContainerRun, child: ChildProcess, code: number | null, sig: NodeJS.Signals | null): void => {
    if (c.child !== child) return;
    if (c.probeTimer) clearTimeout(c.probeTimer);
    c.ready = false;
    const signum = signalNumber(sig);
    const exitCode = code ?? 128 + (signum ?? 9);
    const term: Terminated = {
      exitCode,
      ...(signum !== undefined ? { signal: signum } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: k8sTime(c.startedAt),
      finishedAt: k8sTime(),
      ...(c.pid !== undefined ? { containerID: `lab://${c.pid}` } : {}),
    };
    log(`pod ${run.namespace}/${run.name} container ${c.spec.name} (pid ${c.pid}) exited: ${sig ?? `code ${exitCode}`}`);
    if (run.stopping || stopped || !shouldRestart(run.pod.spec?.restartPolicy, exitCode)) {
      c.terminated = term;
      syncStatus(run);
      if (!run.stopping && !stopped) releaseIfFinished(run);
      return;
    }
    const ranMs = Date.now() - (c.startedAt?.getTime() ?? Date.now());
    c.backoffMs = ranMs > 2 * backoffCap ? nextBackoff(undefined, backoffCap) : nextBackoff(c.backoffMs, backoffCap);
    c.lastTerminated = term;
    c.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(c.backoffMs / 1000)}s restarting failed container=${c.spec.name} pod=${run.name}_${run.namespace}(${run.uid})` };
    syncStatus(run);
    c.backoffTimer = setTimeout(() => {
      c.backoffTimer = undefined;
      if (run.stopping || stopped) return;
      c.restartCount++;
      startContainer(run, c).catch((e: unknown) => log(`restart of ${run.namespace}/${run.name}/${c.spec.name} failed: ${(e as Error).message}`));
    }, c.backoffMs);
  };

  /** A pod in Succeeded/Failed keeps its status (and podIP) but not its network: the
   * kubelet tears the sandbox down once every container is final (Jobs would otherwise
   * hold namespaces and IPs until their pods are deleted). */
  const releaseIfFinished = (run: PodRun): void => {
    const phase = podPhase(run.containers.map(containerView));
    if ((phase !== 'Succeeded' && phase !== 'Failed') || run.pod.spec?.hostNetwork) return;
    log(`pod ${run.namespace}/${run.name} ${phase}: releasing its network`);
    removePodNetwork(plan, { stateFile: opts.podStateFile, key: run.key }).catch((e: unknown) =>
      log(`pod ${run.namespace}/${run.name}: network not removed: ${(e as Error).message}`),
    );
  };

  const scheduleProbe = (run: PodRun, c: ContainerRun, child: ChildProcess, delayMs: number): void => {
    c.probeTimer = setTimeout(() => {
      void probeOnce(run, c, child);
    }, delayMs);
  };

  const probeOnce = async (run: PodRun, c: ContainerRun, child: ChildProcess): Promise<void> => {
    const p = c.spec.readinessProbe;
    if (!p || c.child !== child || run.stopping || stopped) return;
    const period = (p.periodSeconds ?? 10) * 1000;
    const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
    const port = (ref: number | string | undefined): number | undefined => {
      if (typeof ref === 'number') return ref;
      if (ref === undefined) return undefined;
      if (/^\d+$/.test(ref)) return Number(ref);
      return c.spec.ports?.find((cp) => cp.name === ref)?.containerPort;
    };
    const host = run.podIP ?? run.node.internalIp;
    let result: { ok: boolean; detail: string };
    const prober = probers.get(run.node.name)!;
    if (p.httpGet) {
      const pt = port(p.httpGet.port as number | string);
      result = pt === undefined
        ? { ok: false, detail: `unknown port ${String(p.httpGet.port)}` }
        : await prober.probe({
            kind: 'http',
            host: p.httpGet.host || host,
            port: pt,
            path: p.httpGet.path ?? '/',
            scheme: p.httpGet.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
            headers: Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value])),
            timeoutMs,
          });
    } else if (p.tcpSocket) {
      const pt = port(p.tcpSocket.port as number | string);
      result = pt === undefined ? { ok: false, detail: `unknown port ${String(p.tcpSocket.port)}` } : await prober.probe({ kind: 'tcp', host: p.tcpSocket.host || host, port: pt, timeoutMs });
    } else {
      warnOnce(`probe:${run.uid}/${c.spec.name}`, `pod ${run.namespace}/${run.name} container ${c.spec.name}: only httpGet and tcpSocket readiness probes are supported; treated as ready`);
      result = { ok: true, detail: 'unsupported probe' };
    }
    if (c.child !== child || run.stopping || stopped) return;
    const before = c.ready;
    if (result.ok) {
      c.probeFail = 0;
      c.probeOk++;
      if (c.probeOk >= (p.successThreshold ?? 1)) c.ready = true;
    } else {
      c.probeOk = 0;
      c.probeFail++;
      if (c.probeFail >= (p.failureThreshold ?? 3)) c.ready = false;
    }
    if (before !== c.ready) {
      log(`pod ${run.namespace}/${run.name} container ${c.spec.name} ${c.ready ? 'ready' : `not ready (${result.detail})`}`);
      syncStatus(run);
    }
    scheduleProbe(run, c, child, period);
  };

  // --- pods ----------------------------------------------------------------------------
  const startPod = async (run: PodRun): Promise<void> => {
    const spec = run.pod.spec!;
    if (spec.initContainers?.length) warnOnce(`init:${run.uid}`, `pod ${run.namespace}/${run.name}: init containers are not run by the lab runtime (skipped)`);
    for (const c of run.containers) {
      if (c.spec.livenessProbe || c.spec.startupProbe) {
        warnOnce(`live:${run.uid}/${c.spec.name}`, `pod ${run.namespace}/${run.name} container ${c.spec.name}: liveness/startup probes are not run by the lab runtime (ignored)`);
      }
      const image = c.spec.image ?? '';
      const entry = matchCatalog(opts.catalog, image);
      if (!entry) {
        c.waiting = {
          reason: 'ImageNotInLabCatalog',
          message: `${image} is not in the lab catalog; lab images: ${opts.catalog.map((e) => e.image).join(', ') || '(none)'}`,
        };
        continue;
      }
      try {
        c.argv = entry.resolve({ ...(c.spec.command ? { command: c.spec.command } : {}), ...(c.spec.args ? { args: c.spec.args } : {}) });
        if (entry.cwd) c.cwd = entry.cwd;
      } catch (e) {
        c.waiting = { reason: e instanceof CatalogError ? 'RunContainerError' : 'CreateContainerConfigError', message: (e as Error).message };
      }
    }
    try {
      if (spec.hostNetwork) {
        const h = hostNetworkPod(plan, run.node.index);
        run.netns = h.netns;
        run.podIP = h.ip;
      } else {
        const rec = await addPodNetwork(plan, { stateFile: opts.podStateFile, node: run.node.index, key: run.key });
        run.netns = rec.netns;
        run.podIP = rec.ip;
      }
    } catch (e) {
      log(`pod ${run.namespace}/${run.name}: network not set up: ${(e as Error).message}`);
      for (const c of run.containers) if (!c.waiting) c.waiting = { reason: 'ContainerCreating', message: `pod network: ${(e as Error).message}` };
      syncStatus(run);
      return;
    }
    if (run.stopping || stopped) return;
    log(`pod ${run.namespace}/${run.name} on ${run.node.name}: ${run.netns} ${run.podIP}`);
    for (const c of run.containers) if (c.argv) await startContainer(run, c);
    syncStatus(run);
  };

  const killContainers = async (run: PodRun, graceMs: number): Promise<void> => {
    for (const c of run.containers) {
      if (c.backoffTimer) clearTimeout(c.backoffTimer);
      if (c.probeTimer) clearTimeout(c.probeTimer);
    }
    const live = run.containers.filter(isAlive);
    const signal = (c: ContainerRun, sig: NodeJS.Signals) => {
      try {
        process.kill(-c.pid!, sig); // its process group: the program and what it started
      } catch {
        // already gone
      }
    };
    for (const c of live) signal(c, 'SIGTERM');
    const all = Promise.all(live.map((c) => c.exited));
    const timedOut = await Promise.race([all.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      for (const c of live) if (isAlive(c)) signal(c, 'SIGKILL');
      await Promise.race([all, sleep(5_000)]);
    }
  };

  const terminate = (run: PodRun, deleteObject: boolean, graceCapMs = MAX_GRACE_S * 1000): Promise<void> => {
    run.terminating ??= (async () => {
      run.stopping = true;
      const md = run.pod.metadata ?? {};
      const graceS = Math.min(md.deletionGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30, MAX_GRACE_S);
      log(`pod ${run.namespace}/${run.name}: stopping (grace ${graceS}s)`);
      await killContainers(run, Math.min(graceS * 1000, graceCapMs));
      if (!run.pod.spec?.hostNetwork) {
        await removePodNetwork(plan, { stateFile: opts.podStateFile, key: run.key }).catch((e: unknown) =>
          log(`pod ${run.namespace}/${run.name}: network not removed: ${(e as Error).message}`),
        );
      }
      run.gone = true;
      await run.syncing?.catch(() => undefined);
      if (deleteObject && !stopped) {
        await core
          .deleteNamespacedPod({ name: run.name, namespace: run.namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: run.uid } } })
          .catch((e: unknown) => {
            const code = errCode(e);
            if (code !== 404 && code !== 409) log(`pod ${run.namespace}/${run.name} not deleted: ${(e as Error).message}`);
          });
      }
      runs.delete(run.uid);
      log(`pod ${run.namespace}/${run.name}: stopped`);
    })();
    return run.terminating;
  };

  /** A pod we never ran (or ran in an earlier runtime) that is being deleted. */
  const cleanupUnknown = (pod: k8s.V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    if (cleaning.has(uid)) return;
    cleaning.add(uid);
    void (async () => {
      if (!pod.spec?.hostNetwork) await removePodNetwork(plan, { stateFile: opts.podStateFile, key: podKey(pod) }).catch(() => undefined);
      if (!stopped) {
        await core
          .deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
          .catch(() => undefined);
      }
    })().finally(() => cleaning.delete(uid));
  };

  const handle = (pod: k8s.V1Pod): void => {
    if (stopped) return;
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? byName.get(nodeName) : undefined;
    const uid = pod.metadata?.uid;
    if (!node || !uid || !pod.metadata?.name || !pod.metadata.namespace) return;
    const run = runs.get(uid);
    if (pod.metadata.deletionTimestamp) {
      if (run) {
        run.pod = pod;
        void terminate(run, true);
      } else cleanupUnknown(pod);
      return;
    }
    if (run) {
      run.pod = pod;
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const fresh: PodRun = {
      uid,
      key: podKey(pod),
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      node,
      pod,
      startTime: new Date(),
      containers: (pod.spec?.containers ?? []).map((spec) => ({ spec, ready: false, restartCount: 0, hasRun: false, probeOk: 0, probeFail: 0 })),
      transitions: new Map(),
      stopping: false,
      gone: false,
      dirty: false,
    };
    runs.set(uid, fresh);
    const created = pod.metadata.creationTimestamp ? Date.now() - new Date(pod.metadata.creationTimestamp).getTime() : undefined;
    log(`pod ${fresh.namespace}/${fresh.name} bound to ${node.name}${created !== undefined ? ` (created ${(created / 1000).toFixed(1)} s ago)` : ''}: starting`);
    startPod(fresh).catch((e: unknown) => log(`pod ${fresh.namespace}/${fresh.name} failed to start: ${(e as Error).message}`));
  };

  const watch = new k8s.Watch(kc);
  const reflector = async (): Promise<void> => {
    while (!stopped) {
      try {
        const list = await core.listPodForAllNamespaces();
        if (stopped) break;
        const ours = list.items.filter((p) => p.spec?.nodeName && byName.has(p.spec.nodeName));
        const seen = new Set(ours.map((p) => p.metadata?.uid ?? ''));
        for (const p of ours) handle(p);
        for (const run of [...runs.values()]) if (!seen.has(run.uid)) void terminate(run, false);
        // networks in the state file whose pod is gone (a runtime that crashed)
        const keys = new Set(ours.map(podKey));
        for (const rec of await listPodNetworks(plan, opts.podStateFile).catch(() => [])) {
          if (!keys.has(rec.key) && ![...runs.values()].some((r) => r.key === rec.key)) {
            log(`removing the network of vanished pod ${rec.key}`);
            await removePodNetwork(plan, { stateFile: opts.podStateFile, key: rec.key }).catch(() => undefined);
          }
        }
        const rv = list.metadata?.resourceVersion ?? '';
        await new Promise<void>((resolve) => {
          let ac: AbortController | undefined;
          let abandon = false;
          watch
            .watch(
              '/api/v1/pods',
              { resourceVersion: rv, allowWatchBookmarks: true },
              (type: string, obj: k8s.V1Pod & { code?: number; message?: string }) => {
                if (type === 'ADDED' || type === 'MODIFIED') handle(obj);
                else if (type === 'DELETED') {
                  const run = runs.get(obj.metadata?.uid ?? '');
                  if (run) void terminate(run, false);
                  else if (obj.spec?.nodeName && byName.has(obj.spec.nodeName) && !obj.spec.hostNetwork) {
                    void removePodNetwork(plan, { stateFile: opts.podStateFile, key: podKey(obj) }).catch(() => undefined);
                  }
                } else if (type === 'ERROR') {
                  log(`pod watch error: ${obj.message ?? JSON.stringify(obj)}; re-listing`);
                  abandon = true; // e.g. 410 Gone: the resourceVersion is too old
                  ac?.abort();
                }
              },
              (err: unknown) => {
                if (err && !stopped && (err as { name?: string }).name !== 'AbortError') log(`pod watch ended: ${(err as Error).message ?? String(err)}; re-listing`);
                resolve();
              },
            )
            .then((c) => {
              ac = c;
              watchAbort = c;
              if (stopped || abandon) c.abort();
            })
            .catch((e: unknown) => {
              log(`pod watch failed: ${(e as Error).message}`);
              resolve();
            });
        });
      } catch (e) {
        if (!stopped) log(`pod list failed: ${(e as Error).message}; retrying`);
      }
      if (!stopped) await sleep(1_000);
    }
  };
  const reflectorDone = reflector();

  let stopping: Promise<void> | undefined;
  return {
    nodes: plan.nodes.map((n) => n.name),
    ready,
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        for (const t of timers) clearInterval(t);
        watchAbort?.abort();
        await Promise.all([...runs.values()].map((r) => terminate(r, false, 5_000)));
        await Promise.race([reflectorDone, sleep(2_000)]);
        await Promise.all([...probers.values()].map((p) => p.close()));
        // anything the state file still holds for our nodes (pods seen by no list yet)
        for (const rec of await listPodNetworks(plan, opts.podStateFile).catch(() => [])) {
          await removePodNetwork(plan, { stateFile: opts.podStateFile, key: rec.key }).catch(() => undefined);
        }
        log('node runtime stopped');
      })()),
  };
};
