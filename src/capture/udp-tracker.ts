// Per-exchange boundary timings of UDP request/response traffic through a Service VIP (the
// shape of DNS: one request datagram, one reply datagram).
//
// UDP has no handshake. An exchange is keyed by (client addr, client port, VIP addr, VIP
// port), as conntrack keys its entry: it starts at the first datagram toward the VIP (dst
// inside a service CIDR, before DNAT; the dataplane chooses the backend on this datagram)
// and ends at the first datagram from the VIP back to that client port (src inside a
// service CIDR, after reverse NAT). The exchange is emitted at once on its reply; a
// request repeated from the same port before any reply counts as a retry and does not move
// the start. A datagram toward the VIP after the reply starts a new exchange here, while
// conntrack still holds the old entry (30 s after the last packet): the kit's client uses
// a fresh port per exchange, so the two views line up. Exchanges without a reply are
// emitted as `incomplete` after the idle timeout (default 30 s, conntrack's UDP timeout),
// on capacity, or at the end of the capture.
import { type Cidr, addressFromBytes, cidrContainsBytes } from '../net/cidr.js';
import type { TcpPacket } from './packet.js';

export interface CaptureUdpExchange {
  family: 4 | 6;
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  /** the first request datagram toward the VIP (kernel timestamp, epoch ns) */
  requestNs: bigint;
  /** datagrams toward the VIP before the reply (1 = no retry) */
  requests: number;
  /** the first datagram from the VIP back to the client port */
  replyNs?: bigint;
  /** set when emitted without a reply */
  incomplete?: 'idle-timeout' | 'capacity' | 'end-of-capture';
}

export interface UdpTrackerStats {
  /** UDP datagrams toward a VIP; 0 after clients sent = the VIP never hit the wire */
  requestsOnWire: number;
  replies: number;
  exchangesStarted: number;
  exchangesEmitted: number;
  /** emitted without a reply */
  unanswered: number;
  /** requests repeated on an open exchange's tuple before its reply */
  retries: number;
  /** replies from a VIP for no open exchange (request before the capture, or a second reply) */
  unmatched: number;
  /** replies stamped earlier than their request (ignored) */
  reordered: number;
  open: number;
}

export interface UdpTrackerOptions {
  onExchange?: (e: CaptureUdpExchange) => void;
  /** capture-time ms without a reply before an exchange is emitted unanswered (default 30 000) */
  idleTimeoutMs?: number;
  /** open exchanges kept at most; the oldest is emitted as `capacity` beyond it (default 1 000 000) */
  maxOpenExchanges?: number;
}

interface Open {
  family: 4 | 6;
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  requestRel: number;
  requests: number;
}

export class UdpExchangeTracker {
  readonly stats: UdpTrackerStats = {
    requestsOnWire: 0,
    replies: 0,
    exchangesStarted: 0,
    exchangesEmitted: 0,
    unanswered: 0,
    retries: 0,
    unmatched: 0,
    reordered: 0,
    open: 0,
  };
  onExchange: (e: CaptureUdpExchange) => void;
  private readonly v4: readonly Cidr[];
  private readonly v6: readonly Cidr[];
  // insertion order is start order: the oldest open exchange comes first
  private readonly open = new Map<string, Open>();
  private baseSec = -1;
  private baseNs = 0n;
  private readonly idleNs: number;
  private readonly maxOpen: number;
  private nextIdleCheck = 0;

  constructor(serviceCidrs: readonly Cidr[], options: UdpTrackerOptions = {}) {
    if (serviceCidrs.length === 0) throw new Error('UdpExchangeTracker needs at least one service CIDR');
    this.v4 = serviceCidrs.filter((c) => c.family === 4);
    this.v6 = serviceCidrs.filter((c) => c.family === 6);
    this.onExchange = options.onExchange ?? (() => {});
    this.idleNs = (options.idleTimeoutMs ?? 30_000) * 1e6;
    this.maxOpen = Math.max(1, options.maxOpenExchanges ?? 1_000_000);
  }

  /** Observe one decoded UDP datagram (TcpPacket with proto 17) stamped tsSec + tsNsec/1e9. Returns false when it is not to or from a VIP. */
  observe(p: TcpPacket, tsSec: number, tsNsec: number): boolean {
    if (this.baseSec < 0) {
      this.baseSec = tsSec;
      this.baseNs = BigInt(tsSec) * 1_000_000_000n;
    }
    const t = (tsSec - this.baseSec) * 1e9 + tsNsec;
    const b = p.buf;
    const alen = p.addrLen;
    let ours = true;
    if (this.inRange(b, p.dstOffset, alen)) {
      this.stats.requestsOnWire++;
      const clientAddr = addressFromBytes(b, p.srcOffset, alen);
      const vipAddr = addressFromBytes(b, p.dstOffset, alen);
      const k = key(clientAddr, p.srcPort, vipAddr, p.dstPort);
      const o = this.open.get(k);
      if (o !== undefined) {
        o.requests++;
        this.stats.retries++;
      } else {
        this.open.set(k, { family: p.family, clientAddr, clientPort: p.srcPort, vipAddr, vipPort: p.dstPort, requestRel: t, requests: 1 });
        this.stats.exchangesStarted++;
        this.stats.open++;
        if (this.stats.open > this.maxOpen) this.emitOldest('capacity');
      }
    } else if (this.inRange(b, p.srcOffset, alen)) {
      this.stats.replies++;
      const k = key(addressFromBytes(b, p.dstOffset, alen), p.dstPort, addressFromBytes(b, p.srcOffset, alen), p.srcPort);
      const o = this.open.get(k);
      if (o === undefined) this.stats.unmatched++;
      else if (t < o.requestRel) this.stats.reordered++;
      else {
        this.open.delete(k);
        this.emit(o, t, undefined);
      }
    } else ours = false;
    if (t >= this.nextIdleCheck) {
      this.evictIdleRel(t);
      this.nextIdleCheck = t + Math.max(this.idleNs / 8, 1e6);
    }
    return ours;
  }

  /** Emit exchanges without a reply since before `nowNs - idleTimeout`. Returns how many. */
  evictIdle(nowNs: bigint): number {
    if (this.baseSec < 0) return 0;
    return this.evictIdleRel(Number(nowNs - this.baseNs));
  }

  /** Emit every open exchange as `incomplete: 'end-of-capture'`. */
  flush(): void {
    while (this.open.size > 0) this.emitOldest('end-of-capture');
  }

  private evictIdleRel(t: number): number {
    const limit = t - this.idleNs;
    let n = 0;
    for (const o of this.open.values()) {
      if (o.requestRel >= limit) break;
      this.emitOldest('idle-timeout');
      n++;
    }
    return n;
  }

  private emitOldest(why: NonNullable<CaptureUdpExchange['incomplete']>): void {
    const first = this.open.entries().next();
    if (first.done) return;
    this.open.delete(first.value[0]);
    this.emit(first.value[1], undefined, why);
  }

  private emit(o: Open, replyRel: number | undefined, incomplete: CaptureUdpExchange['incomplete']): void {
    this.stats.open--;
    this.stats.exchangesEmitted++;
    const out: CaptureUdpExchange = {
      family: o.family,
      clientAddr: o.clientAddr,
      clientPort: o.clientPort,
      vipAddr: o.vipAddr,
      vipPort: o.vipPort,
      requestNs: this.baseNs + BigInt(o.requestRel),
      requests: o.requests,
    };
    if (replyRel !== undefined) out.replyNs = this.baseNs + BigInt(replyRel);
    if (incomplete !== undefined) {
      out.incomplete = incomplete;
      this.stats.unanswered++;
    }
    this.onExchange(out);
  }

  private inRange(b: Uint8Array, off: number, alen: 4 | 16): boolean {
    const list = alen === 4 ? this.v4 : this.v6;
    for (let i = 0; i < list.length; i++) if (cidrContainsBytes(list[i]!, b, off, alen)) return true;
    return false;
  }
}

const key = (client: string, cport: number, vip: string, vport: number): string => `${client}|${cport}|${vip}|${vport}`;

/** request → reply in seconds; undefined without a reply */
export function udpFirstPacketSeconds(e: CaptureUdpExchange): number | undefined {
  if (e.replyNs === undefined) return undefined;
  const d = e.replyNs - e.requestNs;
  return d < 0n ? undefined : Number(d) / 1e9;
}
