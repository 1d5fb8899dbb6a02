// Flow records built from conntrack-tools event output. Absolute times are bigint
// nanoseconds since the Unix epoch (a double cannot hold epoch-ns exactly); durations
// derived from them are plain seconds.

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

export interface Endpoint {
  addr: string;
  port: number;
}

export interface Tuple {
  src: Endpoint;
  dst: Endpoint;
}

export interface Counters {
  packets: number;
  bytes: number;
}

export interface ConntrackEvent {
  type: ConntrackEventType;
  /** user-space receive time (text `-o timestamp`, µs resolution) or the XML `<when>` time */
  recvNs?: bigint;
  id: number;
  l3: 'ipv4' | 'ipv6';
  proto: string; // 'tcp', 'udp', ...
  /** TCP state name as conntrack prints it (SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, ...) */
  tcpState?: string;
  original: Tuple;
  reply: Tuple;
  origCounters?: Counters;
  replyCounters?: Counters;
  /** false while conntrack prints [UNREPLIED] */
  seenReply: boolean;
  assured: boolean;
  /** kernel flow start/stop (nf_conntrack_timestamp=1); ns in XML output */
  kernelStartNs?: bigint;
  kernelStopNs?: bigint;
  /** resolution of recvNs: 1_000 (text `[sec.usec]`) or 1_000_000_000 (XML `<when>`) */
  recvResolutionNs?: number;
  /** resolution of kernelStartNs/StopNs: 1 (XML `<timestamp>`) or 1_000_000_000 (text `[start=ctime]`) */
  kernelTimeResolutionNs?: number;
  /** conntrack timeout shown with the event, seconds */
  timeout?: number;
  mark?: number;
  zone?: number;
  /** the event was caused by a user-space request (`[USERSPACE]`, e.g. `conntrack -D`) */
  userspace?: boolean;
  /** from a table listing (`conntrack -L`), not an event: no receive time, current counters */
  listed?: boolean;
}

/** How a FlowRecord ended. */
export type FlowEnd =
  /** its DESTROY event arrived (kernel expiry, RST/close, or deletion: see `deletedByUserspace`) */
  | 'destroy'
  /** a NEW arrived for its (kernel-reused) id: its DESTROY was lost */
  | 'replaced'
  /** still alive when the tracker was flushed */
  | 'flushed'
  /** dropped to keep the tracker's memory bounded */
  | 'evicted'
  /**
   * closed (TIME_WAIT/CLOSE) when a table listing was taken: its counters are final and came
   * from that listing, so its DESTROY (after TIME_WAIT, ~120 s) is not waited for. Listings
   * are netlink dumps, flow-controlled and lossless, unlike a burst of DESTROY events.
   */
  | 'settled'
  /** a UDP flow finished at its first reply (FlowTrackerOptions.finishUdpOnReply): an
   *  exchange is over then, its DESTROY comes 30 s later and carries the counters */
  | 'replied';

export interface FlowRecord {
  id: number;
  l3: 'ipv4' | 'ipv6';
  proto: string;
  original: Tuple;
  reply: Tuple;
  /** the reply source differs from the original destination: the flow was DNAT'd */
  dnat: boolean;
  newNs?: bigint;
  /** first event showing the reply direction (no longer [UNREPLIED]) */
  seenReplyNs?: bigint;
  /** first event with a closing TCP state (FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE) */
  firstFinNs?: bigint;
  destroyNs?: bigint;
  kernelStartNs?: bigint;
  kernelStopNs?: bigint;
  orig?: Counters;
  replyDir?: Counters;
  end: FlowEnd;
  /** the NEW event was not seen (orphan flow kept with `keepOrphans`); newNs is undefined */
  orphan?: boolean;
  /** DESTROY came from user space (`conntrack -D`): the flow was ended early, kernelStop is the deletion time */
  deletedByUserspace?: boolean;
  assured?: boolean;
  /** last TCP state shown (DESTROY shows the state at deletion/expiry) */
  lastTcpState?: string;
  mark?: number;
  zone?: number;
  /** coarsest resolution of the user-space times used (newNs, seenReplyNs, firstFinNs, destroyNs) */
  recvResolutionNs?: number;
  kernelTimeResolutionNs?: number;
  /** events joined into this record */
  events: number;
}

/** Lines or events that could not be used, by reason; surfaced so a run is never silently trusted. */
export interface LossReport {
  /** conntrack said its netlink buffer overran (ENOBUFS) */
  overruns: number;
  /** malformed lines the parser dropped */
  malformed: number;
  /** events that reference a flow we never saw begin (NEW missing) */
  orphanEvents: number;
  /**
   * holes detectable after the fact: a NEW for an id that is still live (its DESTROY was
   * lost), a DESTROY showing a reply that no earlier event showed (UPDATEs lost), an event
   * whose tuple does not match the live flow of its id, and lines conntrack says it printed
   * that we never read.
   */
  gaps: number;
  /** live flows dropped to keep memory bounded (their later events count as orphans) */
  evicted: number;
}
