// Runs tcpdump at the node boundary (optionally inside a network namespace) and turns its
// pcap stream into per-connection boundary timings.
//
// BPF filter (see buildBpfFilter): only SYN/FIN/RST segments to or from a service CIDR.
//   IPv4: `ip and (net A …) and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0`
//   IPv6: `ip6 and (net X …) and tcp and (ip6[6] != 6 or ip6[53] & 0x07 != 0)`
// libpcap's `tcp[…]` accessor only works over IPv4 (`ip6 and tcp[tcpflags] …` compiles to
// "rejects all packets"), and libpcap cannot walk IPv6 extension headers in BPF. So for
// IPv6 the flags byte is read at its fixed position (40-byte header + 13) when TCP follows
// the fixed header directly (next header = 6, the normal case), and when an extension
// header sits in between every TCP packet of the range is passed and the decoder (which
// does walk extension headers) picks the SYN/FIN/RST ones. Pure ACK/data segments that
// slip through are counted as `ignored`. VLAN-tagged frames on a trunk need a `vlan and …`
// filter and are out of scope (node interfaces normally see untagged frames).
import { execa } from 'execa';
import { type Cidr, parseCidr } from '../net/cidr.js';
import { CapturePipeline, type CapturePipelineOptions } from './pipeline.js';
import type { BoundaryCaptureStats, CaptureConnection } from './types.js';
import type { UdpTrackerStats } from './udp-tracker.js';

export interface CaptureOptions extends Omit<CapturePipelineOptions, 'onConnection'> {
  serviceCidrs: readonly (Cidr | string)[];
  /** interface to capture on (default `any`) */
  iface?: string;
  /** run tcpdump inside this network namespace (`ip netns exec <netns> tcpdump …`) */
  netns?: string;
  /** default `tcpdump` */
  tcpdumpPath?: string;
  /** `ip` binary for netns (default `ip`) */
  ipPath?: string;
  /** bytes per packet to capture (default 256: enough for SLL2/VLAN + IPv6 + ext headers + TCP) */
  snaplen?: number;
  /** kernel capture buffer in KiB (`-B`, default 16384) */
  bufferKiB?: number;
  /** `--immediate-mode`: hand packets over as they come instead of per ring block (default true) */
  immediate?: boolean;
  /** link-layer type to request (`-y`), e.g. LINUX_SLL for `-i any` */
  linkType?: string;
  /** reject `ready` when tcpdump has not said "listening on" by then (default 10 000) */
  readyTimeoutMs?: number;
  /** SIGKILL when tcpdump has not exited this long after SIGTERM (default 5 000) */
  stopTimeoutMs?: number;
  /** receive connections here; without it they are buffered for `connections` */
  onConnection?: (c: CaptureConnection) => void;
  /** cap of the `connections` buffer when nobody consumes it (default 1 000 000; the
   *  oldest are dropped and counted in `droppedConnections`) */
  maxBufferedConnections?: number;
}

export interface KernelCaptureStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

export interface CaptureHandle {
  /** resolves once tcpdump prints "listening on"; rejects with its stderr if it fails first */
  readonly ready: Promise<void>;
  /** completed connections, then the still-open ones (`incomplete`) after stop() */
  readonly connections: AsyncIterable<CaptureConnection>;
  readonly stats: BoundaryCaptureStats & { droppedConnections: number; kernel?: KernelCaptureStats; udp?: UdpTrackerStats };
  /** PID of tcpdump (`ip netns exec` execs it, so the same PID) */
  readonly pid: number | undefined;
  /** the command that was run */
  readonly command: readonly string[];
  /** fatal pipeline or process error, if any */
  readonly error: Error | undefined;
  /** tcpdump's own words on its link type, e.g. "LINUX_SLL2 (Linux cooked v2)" */
  readonly linkType: string | undefined;
  /** SIGTERM tcpdump (by PID), wait for it to exit, drain its output, flush open connections */
  stop(): Promise<void>;
}

const IPV4_FLAGS = 'tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0';
// 40-byte fixed header + 13 = the TCP flags byte; 0x07 = FIN|SYN|RST
const IPV6_FLAGS = 'tcp and (ip6[6] != 6 or ip6[53] & 0x07 != 0)';

/** The BPF filter for SYN/FIN/RST to or from the service CIDRs (both families), and with
 *  `udp` every UDP datagram to or from them. */
export function buildBpfFilter(serviceCidrs: readonly (Cidr | string)[], o: { udp?: boolean } = {}): string {
  const cidrs = serviceCidrs.map((c) => (typeof c === 'string' ? parseCidr(c) : c));
  if (cidrs.length === 0) throw new Error('a capture filter needs at least one service CIDR');
  const net = (c: Cidr) => `net ${c.text.includes('/') ? c.text : `${c.text}/${c.prefix}`}`;
  const v4 = cidrs.filter((c) => c.family === 4).map(net);
  const v6 = cidrs.filter((c) => c.family === 6).map(net);
  const parts: string[] = [];
  if (v4.length > 0) parts.push(`(ip and (${v4.join(' or ')}) and ${IPV4_FLAGS})`);
  if (v6.length > 0) parts.push(`(ip6 and (${v6.join(' or ')}) and ${IPV6_FLAGS})`);
  if (o.udp && v4.length > 0) parts.push(`(ip and (${v4.join(' or ')}) and udp)`);
  if (o.udp && v6.length > 0) parts.push(`(ip6 and (${v6.join(' or ')}) and udp)`);
  return parts.join(' or ');
}

/** argv (program first) that startCapture runs */
export function buildTcpdumpCommand(options: CaptureOptions): string[] {
  const tcpdump = [
    options.tcpdumpPath ?? 'tcpdump',
    '-i',
    options.iface ?? 'any',
    '-n',
    '-U',
    '--time-stamp-precision=nano',
    '-s',
    String(options.snaplen ?? 256),
    '-B',
    String(options.bufferKiB ?? 16384),
  ];
  if (options.immediate ?? true) tcpdump.push('--immediate-mode');
  if (options.linkType) tcpdump.push('-y', options.linkType);
  tcpdump.push('-w', '-', buildBpfFilter(options.serviceCidrs, { udp: options.onUdpExchange !== undefined }));
  return options.netns ? [options.ipPath ?? 'ip', 'netns', 'exec', options.netns, ...tcpdump] : tcpdump;
}

/** Start tcpdump and the pipeline. Await `ready` before generating traffic. */
export function startCapture(options: CaptureOptions): CaptureHandle {
  const command = buildTcpdumpCommand(options);
  const pipeline = new CapturePipeline(options.serviceCidrs, { ...options, onConnection: undefined });
  const queue = new ConnectionQueue(options.maxBufferedConnections ?? 1_000_000);
  pipeline.tracker.onConnection = options.onConnection ?? ((c) => queue.push(c));

  const [file, ...args] = command as [string, ...string[]];
  const sub = execa(file, args, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
    forceKillAfterDelay: false,
  });
  const pid = sub.pid;

  let stderr = '';
  let linkType: string | undefined;
  let error: Error | undefined;
  let kernel: KernelCaptureStats | undefined;
  let isReady = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => {}); // callers that never await ready must not see an unhandled rejection

  const failReady = (why: string) => {
    if (isReady) return;
    isReady = true;
    const e = new Error(`tcpdump (${command.join(' ')}) ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    error ??= e;
    rejectReady(e);
  };

  const readyTimer = setTimeout(() => {
    failReady(`did not start listening within ${options.readyTimeoutMs ?? 10_000} ms`);
    signal('SIGTERM');
  }, options.readyTimeoutMs ?? 10_000);
  readyTimer.unref();

  sub.stderr?.setEncoding('utf8');
  sub.stderr?.on('data', (s: string) => {
    stderr += s;
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
    if (!isReady) {
      const m = /listening on \S+, link-type ([^,]+)/.exec(stderr);
      if (m || stderr.includes('listening on')) {
        linkType = m?.[1];
        isReady = true;
        clearTimeout(readyTimer);
        resolveReady();
      }
    }
  });

  // stdout → pipeline; a fatal format error stops tcpdump
  const drained = (async () => {
    const out = sub.stdout;
    if (!out) return;
    try {
      for await (const chunk of out as AsyncIterable<Buffer>) {
        if (!pipeline.push(chunk)) {
          error ??= pipeline.error;
          signal('SIGTERM');
          break;
        }
      }
    } catch (e) {
      error ??= e instanceof Error ? e : new Error(String(e));
    }
  })();

  // during quiet periods: emit ended connections past their reorder window and idle ones
  // (kernel timestamps are wall-clock, so Date.now() is comparable)
  const idleTimer = setInterval(() => pipeline.tracker.evictIdle(BigInt(Date.now()) * 1_000_000n), 1000);
  idleTimer.unref();

  const exited = (async () => {
    const result = await sub;
    clearTimeout(readyTimer);
    const s = stderr;
    const num = (re: RegExp) => Number(re.exec(s)?.[1] ?? NaN);
    const captured = num(/(\d+) packets? captured/);
    if (Number.isFinite(captured)) {
      kernel = {
        captured,
        receivedByFilter: num(/(\d+) packets? received by filter/),
        droppedByKernel: num(/(\d+) packets? dropped by kernel/),
      };
    }
    if (!isReady) {
      const how = result.failed && result.exitCode === undefined && !result.signal
        ? `could not be started (${'shortMessage' in result ? result.shortMessage : 'spawn failed'})`
        : `exited (${result.signal ?? `code ${result.exitCode}`}) before listening`;
      failReady(how);
    }
    return result;
  })();

  let exitedFlag = false;
  void exited.then(() => {
    exitedFlag = true;
  });

  function signal(sig: NodeJS.Signals): void {
    if (pid === undefined || exitedFlag) return;
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signal('SIGTERM');
      const killer = setTimeout(() => signal('SIGKILL'), options.stopTimeoutMs ?? 5000);
      try {
        await exited;
        await drained;
      } finally {
        clearTimeout(killer);
        clearInterval(idleTimer);
      }
      pipeline.end();
      queue.close(error);
    })();
    return stopping;
  };

  // tcpdump ending by itself (killed, interface gone): finish the stream too
  void Promise.all([exited, drained]).then(([result]) => {
    if (stopping) return;
    // after a good start, an exit nobody asked for is a failure: health checks must see it
    if (isReady && error === undefined) {
      error = new Error(
        `${command.join(' ')} exited unexpectedly (${result.signal ?? `code ${result.exitCode}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`,
      );
    }
    void stop();
  });

  return {
    ready,
    connections: queue,
    get stats() {
      const udp = pipeline.tracker.udp?.stats;
      return { ...pipeline.stats, droppedConnections: queue.dropped, ...(kernel ? { kernel } : {}), ...(udp ? { udp: { ...udp } } : {}) };
    },
    pid,
    command,
    get error() {
      return error;
    },
    get linkType() {
      return linkType;
    },
    stop,
  };
}

/** single-consumer async queue of connections with a bounded buffer */
class ConnectionQueue implements AsyncIterable<CaptureConnection> {
  dropped = 0;
  private buf: CaptureConnection[] = [];
  private head = 0;
  private closed = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly cap: number) {}

  push(c: CaptureConnection): void {
    if (this.closed) return;
    if (this.buf.length - this.head >= this.cap) {
      this.head++;
      this.dropped++;
    }
    this.buf.push(c);
    this.compact();
    this.notify();
  }

  close(err?: Error): void {
    this.closed = true;
    this.failure = err;
    this.notify();
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CaptureConnection, void, undefined> {
    for (;;) {
      while (this.head < this.buf.length) {
        const c = this.buf[this.head++]!;
        this.compact();
        yield c;
      }
      if (this.closed) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((res) => {
        this.wake = res;
      });
    }
  }
}
