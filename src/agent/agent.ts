// The node agent: both collectors in one network namespace, a Prometheus endpoint
// (prom-client) for dashboards, and a bounded stream of exact flow records for the
// suites. The same code runs as the DaemonSet (hostNetwork, in the node's namespace) and
// in the kernel tests (in a namespace the test made).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCapture, type CaptureHandle } from '../capture/collector.js';
import { startConntrack, type ConntrackHandle, type ConntrackReader } from '../conntrack/collector.js';
import { resolveNativeReader } from '../conntrack/native-reader.js';
import type { SettleResult } from '../conntrack/tracker.js';
import type { LossReport } from '../conntrack/types.js';
import { parseCidr } from '../net/cidr.js';
import { runIn, sysctl } from '../netns/netns.js';
import { readDataplaneServices } from './dataplane.js';
import { AgentMetrics } from './metrics.js';
import type { FlowJson } from './records.js';
import { FlowSink, type HistogramName } from './sink.js';

export interface AgentOptions {
  /** network namespace to observe (`ip netns exec`); undefined = the agent's own */
  netns?: string;
  serviceCidrs: string[];
  /** tcpdump interface; `any` sees every interface of the node */
  captureIface?: string;
  capture?: boolean;
  conntrack?: boolean;
  /** also track UDP request/response exchanges through VIPs (capture and conntrack; default true) */
  udp?: boolean;
  /** conntrack netlink receive buffer (`-b`); default DEFAULT_CONNTRACK_BUFFER_BYTES */
  conntrackBufferBytes?: number;
  /**
   * Event reader: 'kube-sli-ct-events' (buffer on the event socket, Service CIDRs filtered in
   * the kernel), 'conntrack' (`conntrack -E`), or 'auto' (default): the first when it can be
   * found or built (see resolveNativeReader), else conntrack, with the reason in the status.
   */
  conntrackReader?: 'auto' | ConntrackReader;
  listenHost?: string;
  listenPort?: number;
  /**
   * 'records' keeps the newest `flowBufferCapacity` records for /flows; 'histogram' keeps
   * none, only the mergeable histograms, so memory is flat however many flows pass.
   */
  mode?: 'records' | 'histogram';
  flowBufferCapacity?: number;
  /** progress and errors; default stderr */
  log?: (line: string) => void;
  /**
   * kube-proxy's metrics, relayed on GET /kube-proxy/metrics: many clusters bind them to
   * 127.0.0.1:10249, which only something in the node's namespace (this agent, with
   * hostNetwork) can reach. Default DEFAULT_KUBE_PROXY_METRICS_URL.
   */
  kubeProxyMetricsUrl?: string;
}

export const DEFAULT_KUBE_PROXY_METRICS_URL = 'http://127.0.0.1:10249/metrics';

export interface AgentStatus {
  netns?: string;
  serviceCidrs: string[];
  mode: 'records' | 'histogram';
  flows: { capture: number; conntrack: number; captureUdp: number };
  capture?: { running: boolean; vipSeenOnWire: number; udpRequestsOnWire?: number; malformed: number; ignored: number; error?: string };
  conntrack?: {
    running: boolean;
    loss: LossReport;
    error?: string;
    reader: ConntrackReader;
    /** Service CIDRs filtered in the kernel; empty when every event reaches the reader */
    kernelFilter: string[];
    /** why there is no kernel filter although the reader could have one (e.g. dual-stack) */
    kernelFilterSkipped?: string;
    /** why kube-sli-ct-events is not used (conntrack v1.4.7's event socket keeps net.core.rmem_default) */
    fallbackReason?: string;
  };
  /** lost or unusable events of any kind: a run with any is flagged, never silently trusted */
  lossy: boolean;
  /** mergeable histograms of everything seen (LatencyHistogram.encode) */
  histograms: Record<HistogramName, string>;
}

export interface AgentHandle {
  url: string;
  status(): AgentStatus;
  flows(since: number, limit?: number): { records: FlowJson[]; next: number; missed: number };
  metrics(): Promise<string>;
  /** finish closed flows from a lossless conntrack table listing (see ConntrackHandle.settle) */
  settle(): Promise<SettleResult>;
  stop(): Promise<void>;
}

export class AgentConfigError extends Error {}

function validate(opts: AgentOptions): void {
  if (opts.serviceCidrs.length === 0) {
    throw new AgentConfigError('no service CIDR given: pass --service-cidr (e.g. 10.96.0.0/12), repeatable');
  }
  for (const c of opts.serviceCidrs) parseCidr(c); // throws a CidrError naming the bad one
  if (opts.capture === false && opts.conntrack === false) {
    throw new AgentConfigError('both collectors are disabled: enable capture or conntrack');
  }
  const relay = opts.kubeProxyMetricsUrl ?? DEFAULT_KUBE_PROXY_METRICS_URL;
  if (!/^https?:\/\//.test(relay) || !URL.canParse(relay)) {
    throw new AgentConfigError(`kube-proxy metrics URL "${relay}" is not an http(s) URL, e.g. ${DEFAULT_KUBE_PROXY_METRICS_URL}`);
  }
  const port = opts.listenPort ?? 9464;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AgentConfigError(`listen port ${port} is not a TCP port (0-65535)`);
  }
}

/**
 * GET /kube-proxy/metrics: fetches `url` and relays the body with its content type; 502
 * with the reason when kube-proxy cannot be reached or does not answer 200.
 */
export function kubeProxyMetricsRelay(url: string, timeoutMs = 10_000): (res: http.ServerResponse) => void {
  return (res) => {
    fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
      async (r) => {
        const body = await r.text();
        if (r.status !== 200) {
          res.writeHead(502, { 'content-type': 'text/plain' }).end(`kube-proxy metrics at ${url} answered HTTP ${r.status}: ${body.trim().slice(0, 300)}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': r.headers.get('content-type') ?? 'text/plain; version=0.0.4' }).end(body);
      },
    ).catch((e: Error) => {
      const cause = (e.cause as Error | undefined)?.message;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`kube-proxy metrics at ${url} unreachable: ${e.message}${cause ? ` (${cause})` : ''}\n`);
    });
  };
}

const ACCOUNTING_SYSCTLS = ['net.netfilter.nf_conntrack_acct', 'net.netfilter.nf_conntrack_timestamp'] as const;

/** Turns conntrack accounting and timestamps on, or finds them on already: a container's
 * /proc/sys is read-only unless it runs privileged, so on a node that enables them itself
 * (the embedded lab does, as a node image would) the agent needs no more than NET_ADMIN. */
async function enableConntrackAccounting(netns: string | undefined): Promise<void> {
  const off: string[] = [];
  for (const k of ACCOUNTING_SYSCTLS) {
    const v = await runIn(netns, ['sysctl', '-n', k]).catch(() => '');
    if (v.trim() !== '1') off.push(k);
  }
  if (off.length === 0) return;
  await sysctl(netns, Object.fromEntries(off.map((k) => [k, 1]))).catch((e: Error) => {
    throw new AgentConfigError(
      `cannot enable ${off.join(' and ')}${netns ? ` in netns ${netns}` : ''}: ${e.message}. ` +
        'Fix: set them to 1 on the node (sysctl -w), or run the agent privileged (SLI_AGENT_PRIVILEGED=1); nf_conntrack must be loaded (any nat rule loads it).',
    );
  });
}

export async function startAgent(opts: AgentOptions): Promise<AgentHandle> {
  validate(opts);
  const log = opts.log ?? ((l: string) => process.stderr.write(`kube-sli agent: ${l}\n`));
  const mode = opts.mode ?? 'records';
  const metrics = new AgentMetrics();
  const sink = new FlowSink(metrics, mode, opts.flowBufferCapacity);

  // Counters and timestamps live in the observed namespace; accounting is what gives bytes.
  await enableConntrackAccounting(opts.netns);

  let capture: CaptureHandle | undefined;
  let conntrack: ConntrackHandle | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled([capture?.stop(), conntrack?.stop()]);
  };
  let fallbackReason: string | undefined;
  try {
    if (opts.conntrack !== false) {
      const want = opts.conntrackReader ?? 'auto';
      let nativeReader: string | undefined;
      if (want !== 'conntrack') {
        const found = await resolveNativeReader();
        if (found.ok) nativeReader = found.bin;
        else if (want === 'kube-sli-ct-events') throw new AgentConfigError(`kube-sli-ct-events: ${found.reason}`);
        else {
          fallbackReason = found.reason;
          log(
            `conntrack events: falling back to conntrack -E (${found.reason}); its event socket keeps ` +
              'net.core.rmem_default, so a lagging reader loses events sooner',
          );
        }
      }
      conntrack = startConntrack({
        nativeReader,
        netns: opts.netns,
        serviceCidrs: opts.serviceCidrs,
        bufferBytes: opts.conntrackBufferBytes,
        finishUdpOnReply: opts.udp !== false,
        onRecord: (r) => sink.conntrack(r),
      });
      await conntrack.ready;
      metrics.collectorUp.set({ source: 'conntrack' }, 1);
      const st = conntrack.stats();
      log(
        `conntrack events: ${st.reader} pid ${conntrack.pid}${opts.netns ? ` in netns ${opts.netns}` : ''}, ` +
          `buffer ${st.bufferBytes ?? '?'} bytes${st.eventSocketBuffer ? '' : ' (not the event socket\'s)'}, ` +
          `kernel filter ${st.kernelFilter.length > 0 ? st.kernelFilter.join(',') : `none${st.kernelFilterSkipped ? ` (${st.kernelFilterSkipped})` : ''}`}`,
      );
    }
    if (opts.capture !== false) {
      capture = startCapture({
        netns: opts.netns,
        iface: opts.captureIface ?? 'any',
        serviceCidrs: opts.serviceCidrs,
        onConnection: (c) => sink.capture(c),
        ...(opts.udp !== false ? { onUdpExchange: (e: Parameters<FlowSink['captureUdp']>[0]) => sink.captureUdp(e) } : {}),
      });
      await capture.ready;
      metrics.collectorUp.set({ source: 'capture' }, 1);
      log(`capture: pid ${capture.pid} on ${opts.captureIface ?? 'any'} (${capture.linkType ?? '?'})`);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  const status = (): AgentStatus => {
    const loss = conntrack?.loss();
    const cap = capture?.stats;
    const lossy =
      (loss !== undefined && loss.overruns + loss.malformed + loss.orphanEvents + loss.gaps + loss.evicted > 0) ||
      (cap !== undefined && cap.malformed > 0) ||
      (capture?.error ?? conntrack?.error) !== undefined;
    return {
      netns: opts.netns,
      serviceCidrs: opts.serviceCidrs,
      mode,
      flows: { ...sink.counts },
      capture: capture && {
        running: capture.error === undefined,
        vipSeenOnWire: capture.stats.vipSeenOnWire,
        ...(capture.stats.udp ? { udpRequestsOnWire: capture.stats.udp.requestsOnWire } : {}),
        malformed: capture.stats.malformed,
        ignored: capture.stats.ignored,
        error: capture.error?.message,
      },
      conntrack: conntrack && {
        running: conntrack.error === undefined,
        loss: conntrack.loss(),
        error: conntrack.error?.message,
        reader: conntrack.stats().reader,
        kernelFilter: conntrack.stats().kernelFilter,
        ...(conntrack.stats().kernelFilterSkipped !== undefined ? { kernelFilterSkipped: conntrack.stats().kernelFilterSkipped } : {}),
        ...(fallbackReason !== undefined ? { fallbackReason } : {}),
      },
      lossy,
      histograms: sink.encodedHistograms(),
    };
  };

  const syncLossMetrics = (): void => {
    const loss = conntrack?.loss();
    if (loss) {
      for (const reason of ['overruns', 'malformed', 'orphanEvents', 'gaps', 'evicted'] as const) {
        metrics.raiseLost('conntrack', reason, loss[reason]);
      }
    }
    if (capture) {
      metrics.raiseLost('capture', 'malformed', capture.stats.malformed);
      metrics.raiseVipSyns(capture.stats.vipSeenOnWire);
    }
    metrics.collectorUp.set({ source: 'capture' }, capture && capture.error === undefined ? 1 : 0);
    metrics.collectorUp.set({ source: 'conntrack' }, conntrack && conntrack.error === undefined ? 1 : 0);
  };

  const settle = async (): Promise<SettleResult> => {
    if (!conntrack) throw new AgentConfigError('settle needs the conntrack collector, which is disabled');
    return conntrack.settle();
  };

  const relayKubeProxy = kubeProxyMetricsRelay(opts.kubeProxyMetricsUrl ?? DEFAULT_KUBE_PROXY_METRICS_URL);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === '/metrics') {
      syncLossMetrics();
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
    } else if (url.pathname === '/flows') {
      const since = Number(url.searchParams.get('since') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '10000');
      if (!Number.isInteger(since) || since < 0 || !Number.isInteger(limit) || limit < 1) {
        res.writeHead(400).end('since must be a non-negative integer and limit a positive one\n');
        return;
      }
      const page = sink.buffer.read(since, Math.min(limit, 100_000));
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'x-kube-sli-next': String(page.next),
        'x-kube-sli-missed': String(page.missed),
      });
      res.end(page.records.map((r) => JSON.stringify(r)).join('\n') + (page.records.length ? '\n' : ''));
    } else if (url.pathname === '/settle' && req.method === 'POST') {
      settle().then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        (e: Error) => res.writeHead(500).end(`settle failed: ${e.message}\n`),
      );
    } else if (url.pathname === '/dataplane/services' && req.method === 'GET') {
      const mode = url.searchParams.get('mode');
      if (mode !== 'nftables' && mode !== 'iptables') {
        res.writeHead(400).end('mode must be nftables or iptables (kube-proxy --proxy-mode)\n');
        return;
      }
      readDataplaneServices(opts.netns, mode).then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        (e: Error) => res.writeHead(500).end(`reading the ${mode} Service rules failed: ${e.message}\n`),
      );
    } else if (url.pathname === '/kube-proxy/metrics' && req.method === 'GET') {
      relayKubeProxy(res);
    } else if (url.pathname === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
    } else if (url.pathname === '/healthz') {
      const s = status();
      const ok = (s.capture?.running ?? true) && (s.conntrack?.running ?? true);
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : `collector down: ${s.capture?.error ?? s.conntrack?.error}\n`);
    } else {
      res.writeHead(404).end('try /metrics, /flows?since=0, /status, /healthz, /kube-proxy/metrics, /dataplane/services?mode=nftables|iptables, POST /settle\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new AgentConfigError(`listen port ${opts.listenPort ?? 9464} is in use: pick another with --listen host:port`)
            : e,
        ),
      );
      server.listen(opts.listenPort ?? 9464, opts.listenHost ?? '127.0.0.1', () => resolve());
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    status,
    flows: (since, limit) => sink.buffer.read(since, limit),
    metrics: () => {
      syncLossMetrics();
      return metrics.registry.metrics();
    },
    settle,
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await stopAll();
    },
  };
}
