// Joins conntrack events into per-flow records by conntrack id, and counts what was lost.
//
// Facts this relies on (measured, kernel 6.18; see docs/measured-facts.md and test/fixtures/conntrack):
// - every event repeats both tuples, so a filter on the ORIGINAL destination needs no state;
// - the kernel emits an event per packet that changes a flow's state/status (state changes
//   within one packet are collapsed), so a DESTROY that shows a reply or a FIN-ish TCP state
//   no earlier event showed means UPDATE events were lost;
// - conntrack ids are reused by the kernel once a flow is destroyed: a NEW for an id that is
//   still live here means we lost that flow's DESTROY;
// - NEW is emitted at confirmation (nf_confirm, the last netfilter hook) after the DNAT rule
//   search, and user-space receive times are taken by conntrack when it reads the event:
//   conntrack timings leave out the rule-search latency (see conntrackFirstPacketSeconds).
import { cidrContains, parseCidr, type Cidr } from '../net/cidr.js';
import type { ParseError } from './parse-error.js';
import type { ConntrackEvent, FlowEnd, FlowRecord, LossReport } from './types.js';

export interface FlowTrackerOptions {
  /**
   * Keep only flows whose ORIGINAL destination lies in one of these ranges (e.g. the
   * Service CIDRs). Events of other flows are dropped before any state is kept and are not
   * counted as orphans.
   */
  serviceCidrs?: readonly (string | Cidr)[];
  /** Called with each finished record; without it records queue up for completed()/takeCompleted(). */
  onRecord?: (record: FlowRecord) => void;
  /**
   * When watching began (epoch ns; the collector sets it when conntrack's socket is open).
   * An UPDATE/DESTROY for an unknown id whose flow provably began before this (kernel start
   * time) or that arrives within `startGraceNs` after it, is counted as `preStartEvents`,
   * not as an orphan. Without it every unknown-id event is an orphan.
   */
  startedAtNs?: bigint;
  /** default 0n: see startedAtNs */
  startGraceNs?: bigint;
  /** Also build records for flows whose NEW we did not see (orphan: true, no newNs). Default false. */
  keepOrphans?: boolean;
  /** Live flows kept at most; the oldest is evicted (end 'evicted') beyond it. Default 262,144. */
  maxLiveFlows?: number;
  /**
   * Finish a UDP flow (end 'replied') at the first event showing the reply instead of at its
   * DESTROY, which comes only 30 s after the last datagram (120 s once the flow is ASSURED):
   * a request/response exchange is over when its reply is seen. Its later events (ASSURED,
   * DESTROY) are then expected, not orphans. Default false.
   */
  finishUdpOnReply?: boolean;
}

export interface SettleResult {
  /** closed flows finished with their listed counters */
  settled: number;
  /** listed flows still open: left live */
  open: number;
  /** listed flows this tracker has no NEW for (began before watching, or their NEW was lost) */
  unseen: number;
}

export interface TrackerStats {
  events: number;
  /** events dropped by the serviceCidrs filter */
  filteredEvents: number;
  /** unknown-id events attributed to flows that began before startedAtNs */
  preStartEvents: number;
  live: number;
  records: number;
}

const CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE']);
/** closing states that are always announced by an UPDATE before any DESTROY (CLOSE after RST is not) */
const CLOSING_WITH_UPDATE = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT']);
const MEMO_MAX = 65_536;

interface Live {
  rec: FlowRecord;
  /** orphan flow attributed to the time before startedAtNs */
  preStart: boolean;
  /** some event showed the reply direction / a closing state (even if its time was unusable) */
  sawReply: boolean;
  sawClose: boolean;
}

export class FlowTracker {
  private readonly live = new Map<number, Live>();
  private readonly cidrs: Cidr[] | undefined;
  private readonly memo = new Map<string, boolean>();
  private readonly queue: FlowRecord[] = [];
  /** ids finished by settle(), with their flow key: their later DESTROY is expected, not an orphan */
  private readonly settledIds = new Map<number, string>();
  private readonly onRecord: ((r: FlowRecord) => void) | undefined;
  private readonly keepOrphans: boolean;
  private readonly maxLive: number;
  private readonly graceNs: bigint;
  private readonly finishUdpOnReply: boolean;
  startedAtNs: bigint | undefined;

  private overruns = 0;
  private malformed = 0;
  private orphanEvents = 0;
  private gaps = 0;
  private evicted = 0;
  private events = 0;
  private filteredEvents = 0;
  private preStartEvents = 0;
  private records = 0;
  private readonly lastErrors: ParseError[] = [];

  constructor(opts: FlowTrackerOptions = {}) {
    this.cidrs = opts.serviceCidrs?.length
      ? opts.serviceCidrs.map((c) => (typeof c === 'string' ? parseCidr(c) : c))
      : undefined;
    this.onRecord = opts.onRecord;
    this.keepOrphans = opts.keepOrphans ?? false;
    this.maxLive = opts.maxLiveFlows ?? 262_144;
    this.graceNs = opts.startGraceNs ?? 0n;
    this.finishUdpOnReply = opts.finishUdpOnReply ?? false;
    this.startedAtNs = opts.startedAtNs;
  }

  /** Feed one parsed event. */
  push(ev: ConntrackEvent): void {
    this.events++;
    if (this.cidrs !== undefined && !this.inService(ev.original.dst.addr)) {
      this.filteredEvents++;
      return;
    }
    let l = this.live.get(ev.id);
    if (ev.type === 'NEW') {
      if (l !== undefined) {
        // the kernel reuses ids only after destroy: we lost this flow's DESTROY
        if (!l.rec.orphan) this.gaps++;
        this.finish(l, 'replaced');
      }
      l = { rec: newRecord(ev, false), preStart: false, sawReply: false, sawClose: false };
      this.live.set(ev.id, l);
      if (this.live.size > this.maxLive) this.evictOldest();
      this.apply(l, ev);
      return;
    }
    if (l !== undefined && !sameFlow(l.rec, ev)) {
      // id reused while both the old DESTROY and the new NEW were lost
      this.gaps++;
      this.finish(l, 'replaced');
      l = undefined;
    }
    if (l === undefined && this.settledIds.get(ev.id) === flowKey(ev)) {
      // the late DESTROY (or TIME_WAIT update) of a flow settle() already finished
      if (ev.type === 'DESTROY') this.settledIds.delete(ev.id);
      return;
    }
    if (l === undefined) {
      const preStart = this.isPreStart(ev);
      if (preStart) this.preStartEvents++;
      else this.orphanEvents++;
      if (!this.keepOrphans) return;
      l = { rec: newRecord(ev, true), preStart, sawReply: false, sawClose: false };
      if (ev.type !== 'DESTROY') {
        this.live.set(ev.id, l);
        if (this.live.size > this.maxLive) this.evictOldest();
      }
    } else if (l.rec.orphan) {
      if (l.preStart) this.preStartEvents++;
      else this.orphanEvents++;
    }
    this.apply(l, ev);
    if (ev.type === 'DESTROY') this.finish(l, 'destroy');
    else if (this.finishUdpOnReply && l.sawReply && l.rec.proto === 'udp' && !l.rec.orphan) {
      this.finish(l, 'replied');
      this.rememberFinished(ev);
    }
  }

  /**
   * Finish every live flow that a table listing shows closed (TIME_WAIT or CLOSE), taking its
   * final counters from the listing. Flows still open stay live; listed flows whose NEW we
   * never saw are only counted (`unseen`), since a listing cannot tell when they began.
   */
  settle(listed: Iterable<ConntrackEvent>): SettleResult {
    const result: SettleResult = { settled: 0, open: 0, unseen: 0 };
    for (const ev of listed) {
      if (this.cidrs !== undefined && !this.inService(ev.original.dst.addr)) continue;
      const l = this.live.get(ev.id);
      if (l === undefined || !sameFlow(l.rec, ev)) {
        if (this.settledIds.get(ev.id) !== flowKey(ev)) result.unseen++;
        continue;
      }
      if (ev.tcpState !== 'TIME_WAIT' && ev.tcpState !== 'CLOSE') {
        result.open++;
        continue;
      }
      this.apply(l, ev);
      this.finish(l, 'settled');
      this.rememberFinished(ev);
      result.settled++;
    }
    return result;
  }

  /** a flow finished before its DESTROY: its later events are expected, not orphans */
  private rememberFinished(ev: ConntrackEvent): void {
    if (this.settledIds.size >= this.maxLive) this.settledIds.delete(this.settledIds.keys().next().value!);
    this.settledIds.set(ev.id, flowKey(ev));
  }

  /** Count a line the parser rejected (the last few are kept for diagnostics). */
  pushParseError(err: ParseError): void {
    this.malformed++;
    if (this.lastErrors.length >= 8) this.lastErrors.shift();
    this.lastErrors.push(err);
  }

  countMalformed(n = 1): void {
    this.malformed += n;
  }

  /** conntrack reported that its netlink socket overran (ENOBUFS): events were lost. */
  countOverrun(n = 1): void {
    this.overruns += n;
  }

  countGaps(n = 1): void {
    this.gaps += n;
  }

  loss(): LossReport {
    return {
      overruns: this.overruns,
      malformed: this.malformed,
      orphanEvents: this.orphanEvents,
      gaps: this.gaps,
      evicted: this.evicted,
    };
  }

  stats(): TrackerStats {
    return {
      events: this.events,
      filteredEvents: this.filteredEvents,
      preStartEvents: this.preStartEvents,
      live: this.live.size,
      records: this.records,
    };
  }

  /** The most recent parse errors (at most 8). */
  recentParseErrors(): readonly ParseError[] {
    return this.lastErrors;
  }

  /** Ends every live flow (end 'flushed') and returns those records; they are not sent to onRecord. */
  flush(): FlowRecord[] {
    const out: FlowRecord[] = [];
    for (const l of this.live.values()) {
      l.rec.end = 'flushed';
      this.records++;
      out.push(l.rec);
    }
    this.live.clear();
    return out;
  }

  /** Finished records queued so far (only without onRecord); empties the queue. */
  takeCompleted(): FlowRecord[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Iterates and removes the queued finished records (only without onRecord). */
  *completed(): Generator<FlowRecord> {
    while (this.queue.length > 0) yield this.queue.shift()!;
  }

  private inService(addr: string): boolean {
    let v = this.memo.get(addr);
    if (v === undefined) {
      v = false;
      for (const c of this.cidrs!) {
        if (cidrContains(c, addr)) {
          v = true;
          break;
        }
      }
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(addr, v);
    }
    return v;
  }

  private isPreStart(ev: ConntrackEvent): boolean {
    const s = this.startedAtNs;
    if (s === undefined) return false;
    if (ev.kernelStartNs !== undefined) {
      // began surely before we watched (text kernel times are truncated to the second)
      return ev.kernelStartNs + BigInt(ev.kernelTimeResolutionNs ?? 1) <= s;
    }
    return ev.recvNs !== undefined && ev.recvNs <= s + this.graceNs;
  }

  private apply(l: Live, ev: ConntrackEvent): void {
    const r = l.rec;
    r.events++;
    const t = ev.recvNs;
    if (t !== undefined && ev.recvResolutionNs !== undefined) {
      if (r.recvResolutionNs === undefined || ev.recvResolutionNs > r.recvResolutionNs) {
        r.recvResolutionNs = ev.recvResolutionNs;
      }
    }
    const state = ev.tcpState;
    const destroy = ev.type === 'DESTROY';
    // a DESTROY that is the first to show the reply or a FIN-ish state: UPDATEs were lost
    let missed = false;
    if (ev.type === 'NEW') {
      if (t !== undefined) r.newNs = t;
    } else if (ev.seenReply || state === 'SYN_RECV' || state === 'ESTABLISHED') {
      if (!l.sawReply) {
        if (!destroy) {
          if (t !== undefined) r.seenReplyNs = t;
        } else missed = true;
      }
      l.sawReply = true;
    }
    if (state !== undefined && CLOSING.has(state) && !l.sawClose) {
      if (!destroy) {
        if (t !== undefined) r.firstFinNs = t;
      } else if (state === 'CLOSE' && !ev.userspace) {
        // RST/close: the kernel destroys the flow as it closes; no UPDATE precedes it
        if (t !== undefined) r.firstFinNs = t;
      } else if (CLOSING_WITH_UPDATE.has(state)) {
        missed = true;
      }
      l.sawClose = true;
    }
    if (missed && !r.orphan) this.gaps++;
    if (state !== undefined) r.lastTcpState = state;
    if (ev.assured) r.assured = true;
    if (ev.origCounters !== undefined) r.orig = ev.origCounters;
    if (ev.replyCounters !== undefined) r.replyDir = ev.replyCounters;
    if (ev.kernelStartNs !== undefined) r.kernelStartNs = ev.kernelStartNs;
    if (ev.kernelStopNs !== undefined) r.kernelStopNs = ev.kernelStopNs;
    if (ev.kernelTimeResolutionNs !== undefined) r.kernelTimeResolutionNs = ev.kernelTimeResolutionNs;
    if (ev.mark !== undefined) r.mark = ev.mark;
    if (ev.zone !== undefined) r.zone = ev.zone;
    if (destroy) {
      if (t !== undefined) r.destroyNs = t;
      if (ev.userspace) r.deletedByUserspace = true;
    }
  }

  private finish(l: Live, end: FlowEnd): void {
    const r = l.rec;
    if (this.live.get(r.id) === l) this.live.delete(r.id);
    r.end = end;
    this.records++;
    if (this.onRecord !== undefined) this.onRecord(r);
    else this.queue.push(r);
  }

  private evictOldest(): void {
    const first = this.live.values().next();
    if (first.done) return;
    this.evicted++;
    this.finish(first.value, 'evicted');
  }
}

function newRecord(ev: ConntrackEvent, orphan: boolean): FlowRecord {
  const o = ev.original;
  const rp = ev.reply;
  const rec: FlowRecord = {
    id: ev.id,
    l3: ev.l3,
    proto: ev.proto,
    original: o,
    reply: rp,
    dnat: rp.src.addr !== o.dst.addr || rp.src.port !== o.dst.port,
    end: 'flushed',
    events: 0,
  };
  if (orphan) rec.orphan = true;
  return rec;
}

function flowKey(ev: ConntrackEvent): string {
  const o = ev.original;
  return `${ev.proto} ${o.src.addr} ${o.src.port} ${o.dst.addr} ${o.dst.port}`;
}

function sameFlow(r: FlowRecord, ev: ConntrackEvent): boolean {
  const a = r.original;
  const b = ev.original;
  return (
    a.src.port === b.src.port &&
    a.dst.port === b.dst.port &&
    a.src.addr === b.src.addr &&
    a.dst.addr === b.dst.addr &&
    r.proto === ev.proto
  );
}

// ---------------------------------------------------------------------------------------
// Derived figures. All return undefined where the data is missing or too coarse.

export interface TimingOptions {
  /** refuse times coarser than this (XML `<when>` is 1 s); default 1_000_000 (1 ms) */
  maxResolutionNs?: number;
}

function fine(resNs: number | undefined, opts: TimingOptions | undefined): boolean {
  return (resNs ?? 0) <= (opts?.maxResolutionNs ?? 1_000_000);
}

/**
 * conntrack NEW → first event showing the reply (SYN_RECV/ESTABLISHED for TCP), seconds,
 * from user-space receive times (`-o timestamp`, µs).
 *
 * Caveat (docs/measured-facts.md): the kernel emits NEW at confirmation (nf_confirm, the last netfilter
 * hook), i.e. AFTER the SYN has traversed the DNAT rules. The rule-search latency — the very
 * thing that grows with the number of iptables Services (176 µs at 10,000 Services vs 7 µs
 * NEW→SEEN_REPLY) — is not in this figure. Use packet capture for first_packet_latency;
 * this is a cross-check. Undefined without both times or when they are coarser than 1 ms.
 */
export function conntrackFirstPacketSeconds(r: FlowRecord, opts?: TimingOptions): number | undefined {
  if (r.newNs === undefined || r.seenReplyNs === undefined || !fine(r.recvResolutionNs, opts)) return undefined;
  return Number(r.seenReplyNs - r.newNs) / 1e9;
}

/**
 * conntrack NEW → first closing TCP state (FIN_WAIT/CLOSE_WAIT/LAST_ACK/TIME_WAIT, or CLOSE
 * after a RST), seconds, user-space receive times. Same caveat as conntrackFirstPacketSeconds
 * at the start. Undefined for flows without a seen close (UDP, still open, deleted while open).
 */
export function conntrackTotalSeconds(r: FlowRecord, opts?: TimingOptions): number | undefined {
  if (r.newNs === undefined || r.firstFinNs === undefined || !fine(r.recvResolutionNs, opts)) return undefined;
  return Number(r.firstFinNs - r.newNs) / 1e9;
}

export interface ThroughputOptions extends TimingOptions {
  /**
   * 'kernel': kernelStop − kernelStart (ns with XML `-o ktimestamp`; text gives whole seconds,
   * refused by maxResolutionNs). The kernel stops the clock at DESTROY, i.e. after TIME_WAIT
   * (~120 s) or when the flow is deleted (`destroyFlows`): delete promptly after the client
   * finishes, or the figure is diluted.
   * 'events': newNs → firstFinNs (first closing TCP state) from user-space receive times
   * (text mode, µs); undefined for flows without a seen close (UDP).
   * 'auto' (default): 'kernel' when its times are fine enough, else 'events'.
   */
  span?: 'auto' | 'kernel' | 'events';
}

/**
 * Bytes of both directions (DESTROY counters, nf_conntrack_acct=1; IP-layer bytes, headers
 * included) ÷ the flow's duration (see ThroughputOptions.span). Undefined without both
 * counters, without the span's two times, with a span that is not positive, or with times
 * coarser than maxResolutionNs.
 */
export function throughputBytesPerSecond(r: FlowRecord, opts?: ThroughputOptions): number | undefined {
  if (r.orig === undefined || r.replyDir === undefined) return undefined;
  let span = opts?.span ?? 'auto';
  if (span === 'auto') {
    const kernelOk =
      r.kernelStartNs !== undefined && r.kernelStopNs !== undefined && fine(r.kernelTimeResolutionNs, opts);
    span = kernelOk ? 'kernel' : 'events';
  }
  let dt: bigint;
  if (span === 'kernel') {
    if (r.kernelStartNs === undefined || r.kernelStopNs === undefined) return undefined;
    if (!fine(r.kernelTimeResolutionNs, opts)) return undefined;
    dt = r.kernelStopNs - r.kernelStartNs;
  } else {
    if (r.newNs === undefined || r.firstFinNs === undefined || !fine(r.recvResolutionNs, opts)) return undefined;
    dt = r.firstFinNs - r.newNs;
  }
  if (dt <= 0n) return undefined;
  return (r.orig.bytes + r.replyDir.bytes) / (Number(dt) / 1e9);
}
