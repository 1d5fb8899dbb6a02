// Per-connection boundary timings from decoded TCP packets seen at the node boundary.
//
// A connection is keyed by (client addr, client port, VIP addr, VIP port). It starts at
// the client's first SYN toward a VIP (dst inside a service CIDR, before DNAT), gets its
// SYN-ACK from the VIP (src inside a service CIDR, after reverse NAT) and ends at the first
// FIN or RST in either direction. It is then emitted and forgotten as soon as the second
// FIN/RST shows up or the short reorder window passes (`-i any` can store packets of two
// interfaces a few µs out of timestamp order, so the earliest-stamped FIN/RST wins): the
// ACK/FIN tail after that costs no memory (a late FIN/RST is counted as `unmatched`).
//
// Hot path: packets are looked up by a 30-bit hash of the raw key bytes (a Smi, so the
// Map lookup allocates nothing) with a collision chain; strings and the emitted object
// are built once per connection. Times are kept as JS numbers of ns relative to the first
// packet's second (exact for 104 days) and become bigint only on emission.
import { type Cidr, addressFromBytes, cidrContainsBytes } from '../net/cidr.js';
import { DECODE_MALFORMED, DECODE_OK, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpPacket, decodePacket, decodeTcp } from './packet.js';
import type { PcapRecord } from './pcap.js';
import type { BoundaryCaptureStats, CaptureConnection } from './types.js';
import { UdpExchangeTracker, type CaptureUdpExchange } from './udp-tracker.js';

export interface BoundaryTrackerOptions {
  /** called for every completed (or incomplete, see CaptureConnection.incomplete) connection */
  onConnection?: (c: CaptureConnection) => void;
  /** capture-time ms after a connection's last SYN/SYN-ACK with no FIN/RST before it is
   *  emitted as `incomplete: 'idle-timeout'` (default 120 000) */
  idleTimeoutMs?: number;
  /** a SYN with the same ISN within this many ms of the previous sighting is the same
   *  packet seen twice (e.g. on two interfaces with `-i any`), not a retransmission; Linux
   *  retransmits a SYN after ≥ 200 ms (1 s by default) (default 50) */
  duplicateWindowMs?: number;
  /** open connections kept at most; beyond it the least recently active one is emitted
   *  as `incomplete: 'capacity'` (default 1 000 000) */
  maxOpenConnections?: number;
  /** capture-time ms a connection stays after its first FIN/RST, waiting for an earlier
   *  stamped FIN/RST or a late SYN-ACK record; the next FIN/RST of the connection emits
   *  it at once (default 5; 0 emits on the first FIN/RST) */
  reorderWindowMs?: number;
  /** track UDP request/response exchanges too (see udp-tracker.ts) and hand them here */
  onUdpExchange?: (e: CaptureUdpExchange) => void;
  /** capture-time ms an unanswered UDP exchange is kept (default 30 000, conntrack's UDP timeout) */
  udpIdleTimeoutMs?: number;
}

class Conn {
  bucketNext: Conn | null = null;
  prev: Conn | null = null;
  next: Conn | null = null;
  synAckRel = 0;
  hasSynAck = false;
  retransmits = 0;
  /** 0 open, 1 ended by FIN, 2 ended by RST (waiting in the closing list) */
  endKind = 0;
  endRel = 0;
  lingerUntil = 0;
  /** in the closing list (else in the open list) */
  closing = false;
  constructor(
    readonly hash: number,
    readonly family: 4 | 6,
    /** client address bytes followed by VIP address bytes */
    readonly addr: Uint8Array,
    readonly clientPort: number,
    readonly vipPort: number,
    readonly isn: number,
    public synRel: number,
    public lastSynRel: number,
    public activeRel: number,
  ) {}
}

const DEFAULT_IDLE_MS = 120_000;
const DEFAULT_DUP_MS = 50;
const DEFAULT_MAX_OPEN = 1_000_000;
const DEFAULT_REORDER_MS = 5;
const END_FIN = 1;
const END_RST = 2;

export class BoundaryTracker {
  readonly stats: BoundaryCaptureStats = {
    packets: 0,
    ignored: 0,
    malformed: 0,
    vipSeenOnWire: 0,
    connectionsStarted: 0,
    connectionsEmitted: 0,
    incomplete: 0,
    open: 0,
    synRetransmits: 0,
    duplicates: 0,
    portReuse: 0,
    unmatched: 0,
    reordered: 0,
    ackMismatch: 0,
    skippedBytes: 0,
    truncatedAtEnd: false,
  };
  onConnection: (c: CaptureConnection) => void;
  /** UDP exchanges, when onUdpExchange was given */
  readonly udp: UdpExchangeTracker | undefined;

  private readonly v4: readonly Cidr[];
  private readonly v6: readonly Cidr[];
  private readonly buckets = new Map<number, Conn>();
  // open connections, least recently active first
  private head: Conn | null = null;
  private tail: Conn | null = null;
  // ended connections waiting out the reorder window, oldest first
  private chead: Conn | null = null;
  private ctail: Conn | null = null;
  private baseSec = -1;
  private baseNs = 0n;
  private readonly idleNs: number;
  private readonly dupNs: number;
  private readonly maxOpen: number;
  private readonly lingerNs: number;
  private nextIdleCheck = 0;
  private readonly scratch = new TcpPacket();
  // address text by hash of its bytes: clients and VIPs repeat, ipaddr.js formatting is slow
  private readonly names = new Map<number, { bytes: Uint8Array; text: string }>();

  constructor(serviceCidrs: readonly Cidr[], options: BoundaryTrackerOptions = {}) {
    if (serviceCidrs.length === 0) throw new Error('BoundaryTracker needs at least one service CIDR');
    this.v4 = serviceCidrs.filter((c) => c.family === 4);
    this.v6 = serviceCidrs.filter((c) => c.family === 6);
    this.onConnection = options.onConnection ?? (() => {});
    this.idleNs = (options.idleTimeoutMs ?? DEFAULT_IDLE_MS) * 1e6;
    this.dupNs = (options.duplicateWindowMs ?? DEFAULT_DUP_MS) * 1e6;
    this.maxOpen = Math.max(1, options.maxOpenConnections ?? DEFAULT_MAX_OPEN);
    this.lingerNs = Math.max(0, (options.reorderWindowMs ?? DEFAULT_REORDER_MS) * 1e6);
    this.udp = options.onUdpExchange
      ? new UdpExchangeTracker(serviceCidrs, { onExchange: options.onUdpExchange, ...(options.udpIdleTimeoutMs !== undefined ? { idleTimeoutMs: options.udpIdleTimeoutMs } : {}), ...(options.maxOpenConnections !== undefined ? { maxOpenExchanges: options.maxOpenConnections } : {}) })
      : undefined;
  }

  /** SYNs seen toward a VIP; 0 after clients connected = the VIP never hit the wire */
  get vipSeenOnWire(): number {
    return this.stats.vipSeenOnWire;
  }

  get openConnections(): number {
    return this.stats.open;
  }

  /** Decode a pcap record and observe it; counts packets/ignored/malformed. */
  observeRecord(rec: PcapRecord): void {
    this.stats.packets++;
    const r = this.udp === undefined ? decodeTcp(rec.linktype, rec.buffer, rec.offset, rec.caplen, this.scratch) : decodePacket(rec.linktype, rec.buffer, rec.offset, rec.caplen, this.scratch);
    if (r === DECODE_OK) {
      if (this.scratch.proto === IPPROTO_UDP) {
        if (!this.udp!.observe(this.scratch, rec.tsSec, rec.tsNsec)) this.stats.ignored++;
      } else this.observe(this.scratch, rec.tsSec, rec.tsNsec);
    } else if (r === DECODE_MALFORMED) this.stats.malformed++;
    else this.stats.ignored++;
  }

  /** Observe one decoded TCP packet stamped tsSec + tsNsec/1e9. */
  observe(p: TcpPacket, tsSec: number, tsNsec: number): void {
    if (this.baseSec < 0) {
      this.baseSec = tsSec;
      this.baseNs = BigInt(tsSec) * 1_000_000_000n;
    }
    const t = (tsSec - this.baseSec) * 1e9 + tsNsec;
    const flags = p.flags;
    const b = p.buf;
    const alen = p.addrLen;
    if ((flags & TCP_SYN) !== 0) {
      if ((flags & (TCP_FIN | TCP_RST)) !== 0) {
        this.stats.ignored++;
      } else if ((flags & TCP_ACK) === 0) {
        if (this.inRange(b, p.dstOffset, alen)) this.onSyn(p, t);
        else this.stats.ignored++;
      } else if (this.inRange(b, p.srcOffset, alen)) {
        this.onSynAck(p, t);
      } else {
        this.stats.ignored++;
      }
    } else if ((flags & (TCP_FIN | TCP_RST)) !== 0) {
      const dstIn = this.inRange(b, p.dstOffset, alen);
      const srcIn = this.inRange(b, p.srcOffset, alen);
      if (!dstIn && !srcIn) {
        this.stats.ignored++;
      } else {
        let c: Conn | null = null;
        if (dstIn) c = this.find(b, p.srcOffset, p.dstOffset, alen, p.srcPort, p.dstPort);
        if (c === null && srcIn) c = this.find(b, p.dstOffset, p.srcOffset, alen, p.dstPort, p.srcPort);
        if (c === null) this.stats.unmatched++;
        else if (t < c.synRel) this.stats.reordered++;
        else this.onEnd(c, t, (flags & TCP_RST) !== 0 ? END_RST : END_FIN);
      }
    } else {
      // plain ACK/data: only reaches us with a looser filter (see collector.ts, IPv6)
      this.stats.ignored++;
    }
    while (this.chead !== null && this.chead.lingerUntil < t) this.emitClosed(this.chead);
    if (t >= this.nextIdleCheck) {
      this.evictIdleRel(t);
      this.nextIdleCheck = t + Math.max(this.idleNs / 8, 1e6);
    }
  }

  /**
   * Emit connections idle since before `nowNs - idleTimeout` (wall-clock driven eviction
   * for quiet periods; busy streams evict on packet time by themselves). Returns how many.
   */
  evictIdle(nowNs: bigint): number {
    this.udp?.evictIdle(nowNs);
    if (this.baseSec < 0) return 0;
    const t = Number(nowNs - this.baseNs);
    while (this.chead !== null && this.chead.lingerUntil < t) this.emitClosed(this.chead);
    return this.evictIdleRel(t);
  }

  /** Emit ended connections still in the reorder window, then every open one as
   *  `incomplete: 'end-of-capture'`. */
  flush(): void {
    while (this.chead !== null) this.emitClosed(this.chead);
    while (this.head !== null) this.emit(this.head, 'end-of-capture');
    this.udp?.flush();
  }

  // ---- internals ----

  private inRange(b: Uint8Array, off: number, alen: 4 | 16): boolean {
    const list = alen === 4 ? this.v4 : this.v6;
    for (let i = 0; i < list.length; i++) {
      if (cidrContainsBytes(list[i]!, b, off, alen)) return true;
    }
    return false;
  }

  private onSyn(p: TcpPacket, t: number): void {
    this.stats.vipSeenOnWire++;
    const b = p.buf;
    const alen = p.addrLen;
    const h = hashKey(b, p.srcOffset, p.dstOffset, alen, p.srcPort, p.dstPort);
    const c = this.lookup(h, b, p.srcOffset, p.dstOffset, alen, p.srcPort, p.dstPort);
    if (c !== null) {
      if (c.isn === p.seq && c.endKind === 0) {
        const since = t - c.lastSynRel;
        if (since < this.dupNs && since > -this.dupNs) {
          this.stats.duplicates++;
          if (t < c.synRel) c.synRel = t;
          return;
        }
        c.retransmits++;
        this.stats.synRetransmits++;
        if (t > c.lastSynRel) c.lastSynRel = t;
        this.touch(c, t);
        return;
      }
      if (c.endKind !== 0) {
        // ended already, within the reorder window: a SYN after the FIN/RST is a new
        // connection on the same tuple (or a stray retransmission, counted as one)
        if (c.isn === p.seq) {
          c.retransmits++;
          this.stats.synRetransmits++;
          return;
        }
        this.emitClosed(c);
      } else {
        // a new ISN on a tuple still open: the old connection is over
        this.stats.portReuse++;
        this.emit(c, 'port-reuse');
      }
    }
    const addr = new Uint8Array(alen * 2);
    addr.set(b.subarray(p.srcOffset, p.srcOffset + alen), 0);
    addr.set(b.subarray(p.dstOffset, p.dstOffset + alen), alen);
    const n = new Conn(h, p.family, addr, p.srcPort, p.dstPort, p.seq, t, t, t);
    const first = this.buckets.get(h);
    if (first !== undefined) n.bucketNext = first;
    this.buckets.set(h, n);
    this.append(n);
    this.stats.connectionsStarted++;
    this.stats.open++;
    if (this.stats.open > this.maxOpen) {
      if (this.chead !== null) this.emitClosed(this.chead);
      else if (this.head !== null) this.emit(this.head, 'capacity');
    }
  }

  private onSynAck(p: TcpPacket, t: number): void {
    // client is the destination, the VIP the source
    const c = this.find(p.buf, p.dstOffset, p.srcOffset, p.addrLen, p.dstPort, p.srcPort);
    if (c === null) {
      this.stats.unmatched++;
      return;
    }
    // must acknowledge our SYN (ISN+1, or a little more for TCP Fast Open data)
    if (((p.ack - c.isn - 1) >>> 0) > 0xffff) {
      this.stats.ackMismatch++;
      return;
    }
    if (t < c.synRel) {
      this.stats.reordered++;
      return;
    }
    if (c.hasSynAck) {
      this.stats.duplicates++;
      if (t < c.synAckRel) c.synAckRel = t;
      return;
    }
    c.hasSynAck = true;
    c.synAckRel = t;
    if (c.endKind === 0) this.touch(c, t);
  }

  private onEnd(c: Conn, t: number, kind: number): void {
    if (c.endKind !== 0) {
      // the second FIN/RST: keep the earliest stamp, done with this connection
      if (t < c.endRel) {
        c.endRel = t;
        c.endKind = kind;
      }
      this.emitClosed(c);
      return;
    }
    c.endRel = t;
    c.endKind = kind;
    if (this.lingerNs === 0) {
      this.emitClosed(c);
      return;
    }
    this.unlink(c);
    c.closing = true;
    c.lingerUntil = t + this.lingerNs;
    c.prev = this.ctail;
    if (this.ctail !== null) this.ctail.next = c;
    else this.chead = c;
    this.ctail = c;
  }

  private find(b: Uint8Array, cOff: number, vOff: number, alen: 4 | 16, cPort: number, vPort: number): Conn | null {
    return this.lookup(hashKey(b, cOff, vOff, alen, cPort, vPort), b, cOff, vOff, alen, cPort, vPort);
  }

  private lookup(
    h: number,
    b: Uint8Array,
    cOff: number,
    vOff: number,
    alen: 4 | 16,
    cPort: number,
    vPort: number,
  ): Conn | null {
    let c = this.buckets.get(h) ?? null;
    outer: for (; c !== null; c = c.bucketNext) {
      if (c.clientPort !== cPort || c.vipPort !== vPort || c.addr.length !== alen * 2) continue;
      const a = c.addr;
      for (let i = 0; i < alen; i++) {
        if (a[i] !== b[cOff + i] || a[alen + i] !== b[vOff + i]) continue outer;
      }
      return c;
    }
    return null;
  }

  private evictIdleRel(t: number): number {
    const limit = t - this.idleNs;
    let n = 0;
    while (this.head !== null && this.head.activeRel < limit) {
      this.emit(this.head, 'idle-timeout');
      n++;
    }
    return n;
  }

  private append(c: Conn): void {
    c.prev = this.tail;
    c.next = null;
    if (this.tail !== null) this.tail.next = c;
    else this.head = c;
    this.tail = c;
  }

  /** remove from whichever list it is in (open or closing) */
  private unlink(c: Conn): void {
    if (!c.closing) {
      if (c.prev !== null) c.prev.next = c.next;
      else this.head = c.next;
      if (c.next !== null) c.next.prev = c.prev;
      else this.tail = c.prev;
    } else {
      if (c.prev !== null) c.prev.next = c.next;
      else this.chead = c.next;
      if (c.next !== null) c.next.prev = c.prev;
      else this.ctail = c.prev;
    }
    c.prev = c.next = null;
  }

  /** mark activity: the LRU list stays ordered by activity for idle eviction */
  private touch(c: Conn, t: number): void {
    if (t <= c.activeRel) return;
    c.activeRel = t;
    if (this.tail !== c) {
      this.unlink(c);
      this.append(c);
    }
  }

  private remove(c: Conn): void {
    this.unlink(c);
    const first = this.buckets.get(c.hash);
    if (first === c) {
      if (c.bucketNext === null) this.buckets.delete(c.hash);
      else this.buckets.set(c.hash, c.bucketNext);
    } else {
      for (let x = first ?? null; x !== null; x = x.bucketNext) {
        if (x.bucketNext === c) {
          x.bucketNext = c.bucketNext;
          break;
        }
      }
    }
    c.bucketNext = null;
    this.stats.open--;
  }

  private addressText(b: Uint8Array, off: number, len: 4 | 16): string {
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ b[off + i]!, 0x01000193);
    h &= 0x3fffffff;
    const hit = this.names.get(h);
    if (hit !== undefined && hit.bytes.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (hit.bytes[i] !== b[off + i]) {
          same = false;
          break;
        }
      }
      if (same) return hit.text;
    }
    const text = addressFromBytes(b, off, len);
    if (this.names.size >= 65_536) this.names.clear();
    this.names.set(h, { bytes: b.slice(off, off + len), text });
    return text;
  }

  private emitClosed(c: Conn): void {
    this.emit(c, undefined);
  }

  private emit(c: Conn, incomplete: CaptureConnection['incomplete']): void {
    this.remove(c);
    const alen = c.family === 4 ? 4 : 16;
    const out: CaptureConnection = {
      family: c.family,
      clientAddr: this.addressText(c.addr, 0, alen),
      clientPort: c.clientPort,
      vipAddr: this.addressText(c.addr, alen, alen),
      vipPort: c.vipPort,
      synNs: this.baseNs + BigInt(c.synRel),
      synRetransmits: c.retransmits,
    };
    if (c.hasSynAck) out.synAckNs = this.baseNs + BigInt(c.synAckRel);
    if (c.endKind !== 0) {
      out.endNs = this.baseNs + BigInt(c.endRel);
      out.endKind = c.endKind === END_RST ? 'RST' : 'FIN';
    }
    if (incomplete !== undefined) {
      out.incomplete = incomplete;
      this.stats.incomplete++;
    }
    this.stats.connectionsEmitted++;
    this.onConnection(out);
  }
}

/** 30-bit hash (a Smi) of client addr, VIP addr and both ports */
function hashKey(b: Uint8Array, cOff: number, vOff: number, alen: number, cPort: number, vPort: number): number {
  let h = 0x811c9dc5 ^ alen;
  for (let i = 0; i < alen; i++) h = Math.imul(h ^ b[cOff + i]!, 0x01000193);
  for (let i = 0; i < alen; i++) h = Math.imul(h ^ b[vOff + i]!, 0x01000193);
  h = Math.imul(h ^ ((cPort << 16) | vPort), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** SYN → SYN-ACK in seconds; undefined without a SYN-ACK (or a negative difference) */
export function firstPacketLatencySeconds(c: CaptureConnection): number | undefined {
  if (c.synAckNs === undefined) return undefined;
  const d = c.synAckNs - c.synNs;
  return d < 0n ? undefined : Number(d) / 1e9;
}

/** SYN → first FIN/RST in seconds; undefined when no end was seen */
export function totalLatencySeconds(c: CaptureConnection): number | undefined {
  if (c.endNs === undefined) return undefined;
  const d = c.endNs - c.synNs;
  return d < 0n ? undefined : Number(d) / 1e9;
}
