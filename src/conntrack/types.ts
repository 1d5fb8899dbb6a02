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
}

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
}

/** Lines or events that could not be used, by reason; surfaced so a run is never silently trusted. */
export interface LossReport {
  /** conntrack said its netlink buffer overran (ENOBUFS) */
  overruns: number;
  /** malformed lines the parser dropped */
  malformed: number;
  /** events that reference a flow we never saw begin (NEW missing) */
  orphanEvents: number;
}
