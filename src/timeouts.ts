// Every deadline and polling interval the fixtures, suites, measurements, src/kube and
// src/workload wait on, in one place. Deadlines are generous where a slow cluster is
// legitimate, and SLI_TIMEOUT_FACTOR scales all of them (a slow cloud API, a CI runner
// under load); polling intervals and per-connection timeouts are not scaled, since they
// shape the measurement rather than bound the wait.

/** Base deadlines in milliseconds, before SLI_TIMEOUT_FACTOR. */
const DEADLINES = {
  /** namespace deleted (finalizers) */
  namespaceGoneMs: 120_000,
  /** backend / loadgen / agent pods Ready (image pulls on a real cluster) */
  podsReadyMs: 180_000,
  /** the agent DaemonSet chose its nodes */
  daemonSetScheduledMs: 180_000,
  /** one programming-latency probe: clusterloader2's default bound is 30 s, allow 4× */
  programmingProbeMs: 120_000,
  /** network-ready suite: one pod's every source succeeded after its creation (else it counts as failed) */
  podNetworkReadyMs: 60_000,
  /** every measured Service present in every node's dataplane */
  servicesProgrammedMs: 10 * 60_000,
  /** one loadgen run (per client) */
  loadgenRunMs: 10 * 60_000,
  /** one request through the API server's proxy */
  proxyRequestMs: 30_000,
  /** one read through the API server's proxy, retries on timeouts and 5xx included */
  proxyReadMs: 3 * 60_000,
  /** reading every flow record of a measurement from the agents */
  flowsCollectMs: 10 * 60_000,
  /** the agents' conntrack settle (a full table dump) */
  agentSettleMs: 60_000,
  /** kube-proxy metrics scrape through nodes/proxy */
  metricsScrapeMs: 15_000,
  /** every node's kube-proxy has synced all pending changes (after thousands of Services
   * were bulk-created, a kube-proxy on shared vCPUs catches up for minutes) */
  kubeProxySettleMs: 5 * 60_000,
  /** one object of a bulk create or delete, retries included */
  bulkItemMs: 5 * 60_000,
  /** one page of a paced collection delete, retries included */
  deleteChunkMs: 5 * 60_000,
  /** `kube-sli gc`: everything of a session gone */
  gcMs: 120_000,
  /** lab: a daemon started by `lab up` (wrapper) execs the real program */
  labExecMs: 10_000,
  /** lab: the lab daemon wrote its ready file */
  labDaemonReadyMs: 90_000,
  /** lab: a node's containerd answers on its socket */
  labContainerdMs: 30_000,
  /** lab: one `ctr images import` of a lab image into a node */
  labImageImportMs: 300_000,
  /** lab: every node Ready after its kubelet started */
  labNodesReadyMs: 120_000,
  /** lab: every hollow node (kubemark) Ready after the last one started; hundreds
   * register and heartbeat on a shared 2-vCPU machine */
  labHollowReadyMs: 300_000,
  /** lab: kube-proxy's first full sync wrote its rules */
  labKubeProxyRulesMs: 60_000,
  /** bench: the lab's own processes idle again after a bulk create or delete (kube-proxies resyncing) */
  labQuietMs: 180_000,
  /** lab: a process exits after SIGTERM before it gets SIGKILL */
  labStopGraceMs: 10_000,
  /** lab: a process is gone after SIGKILL */
  labKillMs: 10_000,
} as const;

/** Polling intervals and per-connection timeouts, never scaled. */
const INTERVALS = {
  /** polling interval for run, pod and object status */
  pollMs: 250,
  /** kube-proxy counts as quiet once its sync count stood still this long (plus its
   * longest sync seen meanwhile): above kube-proxy's default minSyncPeriod of 1 s, after
   * which a change queued during a sync gets its own sync */
  kubeProxyQuietMs: 2000,
  /** polling kube-proxy's metrics while waiting for it to go quiet */
  kubeProxyQuietPollMs: 500,
  /** polling interval while a programming probe runs */
  probePollMs: 50,
  /** polling interval for flow records from the agents */
  flowPollMs: 200,
  /** agents quiet this long: all flow records are in */
  flowsQuietMs: 3000,
  /** namespace deletion polling */
  namespacePollMs: 500,
  /** gc polling */
  gcPollMs: 500,
  /** progress lines at most this often */
  progressEveryMs: 5000,
  /** one short request/response connection of a measurement */
  connectionTimeoutMs: 10_000,
  /** connect() of a long stream */
  streamConnectTimeoutMs: 5000,
  /** a programming probe's connect(): a SYN dropped before the rules exist must not wait for the kernel's 1 s retransmission */
  probeConnectTimeoutMs: 250,
  /** between two programming-probe connects; also the network-ready probes' interval */
  probeIntervalMs: 10,
  /** network-ready suite: checking the runner's own watch state for a pod's IP (in memory) */
  netreadyWatchPollMs: 5,
  /** lab: polling a process that is about to exec */
  labExecPollMs: 20,
  /** lab: polling a daemon, a socket or the Nodes */
  labPollMs: 100,
  /** lab: polling the hollow Nodes (one list of up to thousands of Nodes) */
  labHollowPollMs: 1_000,
  /** lab: polling kube-proxy's rule dump (a full nft/iptables listing) */
  labRulesPollMs: 200,
  /** bench: the window over which the lab's processes' CPU use is judged quiet */
  labQuietWindowMs: 2_000,
  /** lab: polling a process that was signalled */
  labStopPollMs: 50,
  /** lab: polling a component's /readyz or /healthz during start-up */
  labReadyPollMs: 200,
} as const;

export class TimeoutFactorError extends Error {
  override name = 'TimeoutFactorError';
}

/** SLI_TIMEOUT_FACTOR: a positive finite number (default 1). */
export function timeoutFactor(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SLI_TIMEOUT_FACTOR;
  if (raw === undefined || raw.trim() === '') return 1;
  const f = Number(raw);
  if (!Number.isFinite(f) || f <= 0 || f > 100) {
    throw new TimeoutFactorError(`SLI_TIMEOUT_FACTOR=${JSON.stringify(raw)}: must be a number in (0, 100], e.g. 2 to double every deadline on a slow cluster`);
  }
  return f;
}

export type Timeouts = { readonly [K in keyof typeof DEADLINES]: number } & { readonly [K in keyof typeof INTERVALS]: number } & { readonly factor: number };

/** The deadlines scaled by `factor`, and the intervals as they are. */
export function scaledTimeouts(factor: number): Timeouts {
  const scaled = Object.fromEntries(Object.entries(DEADLINES).map(([k, v]) => [k, Math.round(v * factor)]));
  return Object.freeze({ ...scaled, ...INTERVALS, factor }) as Timeouts;
}

// an invalid factor must not break the import: loadRunConfig reports it with every other
// configuration problem before anything touches the cluster
function factorOrOne(): number {
  try {
    return timeoutFactor();
  } catch {
    return 1;
  }
}

export const TIMEOUTS: Timeouts = scaledTimeouts(factorOrOne());
