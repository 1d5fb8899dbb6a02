import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../src/net/cidr.js';
import { CapturePipeline } from '../../../src/capture/pipeline.js';
import { TcpPacket, decodeTcp } from '../../../src/capture/packet.js';
import { BoundaryTracker, firstPacketLatencySeconds, totalLatencySeconds } from '../../../src/capture/tracker.js';
import type { CaptureConnection } from '../../../src/capture/types.js';
import {
  ACK,
  FIN,
  RST,
  SYN,
  analyze,
  connection,
  ether,
  fixture,
  ipTcp,
  ms,
  pcapFile,
  summary,
} from './helpers.js';

const PLAIN = [
  { file: 'v4-any-sll2.pcap', family: 4, vip: '10.96.0.10', client: '10.0.1.2', linktype: 276 },
  { file: 'v4-any-sll.pcap', family: 4, vip: '10.96.0.10', client: '10.0.1.2', linktype: 113 },
  { file: 'v4-eth.pcap', family: 4, vip: '10.96.0.10', client: '10.0.1.2', linktype: 1 },
  { file: 'v6-any-sll2.pcap', family: 6, vip: 'fd00:10:96::10', client: 'fd00:1::2', linktype: 276 },
  { file: 'v6-any-sll.pcap', family: 6, vip: 'fd00:10:96::10', client: 'fd00:1::2', linktype: 113 },
  { file: 'v6-eth.pcap', family: 6, vip: 'fd00:10:96::10', client: 'fd00:1::2', linktype: 1 },
] as const;

const ALL = [...PLAIN.map((p) => p.file), 'refused-any-sll2.pcap', 'edge-eth.pcap'];

describe('BoundaryTracker on recorded captures', () => {
  it.each(PLAIN)('$file: 5 connections with SYN-ACK after SYN and an end', async ({ file, family, vip, client, linktype }) => {
    const { connections, stats, header, error } = await analyze(fixture(file));
    expect(error).toBeUndefined();
    expect(header?.linktype).toBe(linktype);
    expect(connections).toHaveLength(5);
    for (const c of connections) {
      expect(c).toMatchObject({ family, vipAddr: vip, vipPort: 80, clientAddr: client, endKind: 'FIN' });
      expect(c.incomplete).toBeUndefined();
      expect(c.synAckNs! > c.synNs).toBe(true);
      expect(c.endNs! > c.synAckNs!).toBe(true);
      const fpl = firstPacketLatencySeconds(c)!;
      const total = totalLatencySeconds(c)!;
      expect(fpl).toBeGreaterThan(0);
      expect(total).toBeGreaterThan(fpl);
      // only the SYN retransmitted in the v6 captures waited for its 1 s timer
      expect(fpl).toBeLessThan(c.synRetransmits > 0 ? 1.1 : 0.001);
    }
    expect(new Set(connections.map((c) => c.clientPort)).size).toBe(5);
    const retransmits = family === 6 ? 1 : 0;
    expect(connections.reduce((n, c) => n + c.synRetransmits, 0)).toBe(retransmits);
    expect(stats).toMatchObject({
      packets: 20 + 2 * retransmits,
      ignored: 0,
      malformed: 0,
      vipSeenOnWire: 5 + retransmits,
      connectionsStarted: 5,
      connectionsEmitted: 5,
      incomplete: 0,
      open: 0,
      synRetransmits: retransmits,
      duplicates: retransmits, // the repeated SYN-ACK
      portReuse: 0,
      unmatched: 0, // the second FIN emits the connection; nothing comes after it
      reordered: 0,
      ackMismatch: 0,
    });
  });

  it('pins exact timings of the Ethernet capture', async () => {
    const { connections } = await analyze(fixture('v4-eth.pcap'));
    expect(connections[0]).toEqual({
      family: 4,
      clientAddr: '10.0.1.2',
      clientPort: 46682,
      vipAddr: '10.96.0.10',
      vipPort: 80,
      synNs: 1795259640036113435n,
      synRetransmits: 0,
      synAckNs: 1795259640036304308n,
      endNs: 1795259640041432145n,
      endKind: 'FIN',
    });
    expect(firstPacketLatencySeconds(connections[0]!)).toBeCloseTo(0.000190873, 9);
    expect(totalLatencySeconds(connections[0]!)).toBeCloseTo(0.00531871, 9);
  });

  it('takes the earliest-stamped FIN when -i any stored the two FINs out of order', async () => {
    const { connections, stats } = await analyze(fixture('v4-any-sll2.pcap'));
    // records: client FIN at …159897397, then the VIP's FIN stamped earlier at …159896446
    expect(connections[4]!.endNs).toBe(1795259641159896446n);
    expect(stats.reordered).toBe(0);
    const noWindow = await analyze(fixture('v4-any-sll2.pcap'), undefined, { reorderWindowMs: 0 });
    expect(noWindow.connections[4]!.endNs).toBe(1795259641159897397n);
  });

  it('sees the same connections on every link type of one capture session', async () => {
    for (const fam of ['v4', 'v6']) {
      const runs = await Promise.all(['any-sll2', 'any-sll', 'eth'].map((l) => analyze(fixture(`${fam}-${l}.pcap`))));
      const ports = runs.map((r) => r.connections.map((c) => c.clientPort));
      expect(ports[1]).toEqual(ports[0]);
      expect(ports[2]).toEqual(ports[0]);
      const fpl = runs.map((r) => r.connections.map((c) => firstPacketLatencySeconds(c)!));
      for (let i = 0; i < 5; i++) {
        expect(Math.abs(fpl[1]![i]! - fpl[0]![i]!)).toBeLessThan(50e-6);
        expect(Math.abs(fpl[2]![i]! - fpl[0]![i]!)).toBeLessThan(50e-6);
      }
    }
  });

  it('records refused connections (RST from the VIP), IPv4 and IPv6', async () => {
    const { connections, stats } = await analyze(fixture('refused-any-sll2.pcap'));
    expect(connections).toHaveLength(6);
    expect(connections.filter((c) => c.family === 4).map((c) => c.vipAddr)).toEqual(Array(3).fill('10.96.0.11'));
    expect(connections.filter((c) => c.family === 6).map((c) => c.vipAddr)).toEqual(Array(3).fill('fd00:10:96::11'));
    for (const c of connections) {
      expect(c.endKind).toBe('RST');
      expect(c.synAckNs).toBeUndefined();
      expect(firstPacketLatencySeconds(c)).toBeUndefined();
      expect(totalLatencySeconds(c)).toBeGreaterThan(0);
      expect(totalLatencySeconds(c)).toBeLessThan(0.001);
      expect(c.incomplete).toBeUndefined();
    }
    expect(stats).toMatchObject({ packets: 12, vipSeenOnWire: 6, unmatched: 0, incomplete: 0 });
  });

  it('handles a real SYN retransmission and a real client-port reuse', async () => {
    const { connections, stats } = await analyze(fixture('edge-eth.pcap'));
    expect(summary(connections)).toEqual([
      '10.0.1.2:60396>10.96.0.12:80 syn=1795259642138179760 synack=1795259643167422896 end=1795259643170832634/FIN rtx=1 inc=undefined',
      '10.0.1.2:40000>10.96.0.10:80 syn=1795259643183262424 synack=1795259643183347770 end=1795259643195921555/FIN rtx=0 inc=undefined',
      '10.0.1.2:40000>10.96.0.10:80 syn=1795259643209756724 synack=1795259643209858755 end=1795259643211936878/FIN rtx=0 inc=undefined',
    ]);
    // measured from the first SYN, not the retransmission
    expect(firstPacketLatencySeconds(connections[0]!)).toBeCloseTo(1.029243136, 9);
    expect(stats).toMatchObject({ packets: 13, vipSeenOnWire: 4, connectionsStarted: 3, synRetransmits: 1, portReuse: 0 });
  });

  it.each(ALL)('%s: identical results when fed 1 byte at a time and in odd chunks', async (file) => {
    const buf = fixture(file);
    const whole = await analyze(buf);
    for (const size of [1, 3, 17, 4096]) {
      const split = await analyze(buf, size);
      expect(summary(split.connections)).toEqual(summary(whole.connections));
      expect(split.stats).toEqual(whole.stats);
    }
  });

  it('emits connections while the stream is still being read', () => {
    const got: CaptureConnection[] = [];
    const p = new CapturePipeline(['10.96.0.0/12'], { onConnection: (c) => got.push(c) });
    const buf = fixture('v4-eth.pcap');
    p.push(buf.subarray(0, Math.floor(buf.length / 2)));
    expect(got.length).toBeGreaterThanOrEqual(2);
    p.push(buf.subarray(Math.floor(buf.length / 2)));
    p.end();
    expect(got).toHaveLength(5);
  });

  it('reports corrupt derived inputs through error/stats, never by throwing', async () => {
    const base = fixture('v4-eth.pcap');
    const badMagic = Buffer.from(base);
    badMagic.writeUInt32LE(0x12345678, 0);
    const unknownLink = Buffer.from(base);
    unknownLink.writeUInt32LE(147, 20);
    const absurd = Buffer.from(base);
    absurd.writeUInt32LE(0x40000000, 24 + 8);
    const truncated = base.subarray(0, base.length - 3);
    const r1 = await analyze(badMagic, 5);
    expect(r1.error?.code).toBe('BAD_MAGIC');
    expect(r1.connections).toEqual([]);
    const r2 = await analyze(unknownLink, 5);
    expect(r2.error?.message).toMatch(/unsupported pcap link type 147 \(unknown\); supported: 1 \(EN10MB\)/);
    const r3 = await analyze(absurd, 1);
    expect(r3.error).toBeUndefined();
    // the first SYN was lost: its SYN-ACK and both FINs belong to no connection
    expect(r3.stats).toMatchObject({ malformed: 1, unmatched: 3, connectionsStarted: 4 });
    expect(r3.connections.filter((c) => c.synAckNs !== undefined)).toHaveLength(4);
    const r4 = await analyze(truncated, 1);
    expect(r4.error).toBeUndefined();
    expect(r4.stats).toMatchObject({ malformed: 1, truncatedAtEnd: true, connectionsEmitted: 5 });
  });
});

// ---- synthetic edge cases ----

const C = '10.0.1.2';
const V = '10.96.0.10';

function syn(cport: number, isn: number, t: number, client = C, vip = V) {
  return { tsNs: ms(t), data: ether(ipTcp({ src: client, dst: vip, sport: cport, dport: 80, seq: isn, flags: SYN })) };
}
function synAck(cport: number, isn: number, t: number, client = C, vip = V) {
  return { tsNs: ms(t), data: ether(ipTcp({ src: vip, dst: client, sport: 80, dport: cport, seq: 99, ack: isn + 1, flags: SYN | ACK })) };
}
function fin(cport: number, t: number, fromClient = true, flags = FIN | ACK) {
  const data = fromClient
    ? ether(ipTcp({ src: C, dst: V, sport: cport, dport: 80, flags }))
    : ether(ipTcp({ src: V, dst: C, sport: 80, dport: cport, flags }));
  return { tsNs: ms(t), data };
}

describe('BoundaryTracker edge cases (synthetic records)', () => {
  it('counts a retransmitted SYN and measures from the first one', async () => {
    const { connections, stats } = await analyze(pcapFile([syn(1000, 5, 0), syn(1000, 5, 1000), synAck(1000, 5, 1000.2), fin(1000, 1002)]));
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({ synNs: ms(0), synRetransmits: 1, synAckNs: ms(1000.2), endNs: ms(1002), endKind: 'FIN' });
    expect(firstPacketLatencySeconds(connections[0]!)).toBeCloseTo(1.0002, 9);
    expect(stats).toMatchObject({ synRetransmits: 1, vipSeenOnWire: 2, duplicates: 0 });
  });

  it('treats exact duplicate sightings (same packet on two interfaces) as one', async () => {
    const recs = [syn(1000, 5, 0), syn(1000, 5, 0.003), synAck(1000, 5, 0.1), synAck(1000, 5, 0.101), fin(1000, 1), fin(1000, 1.001)];
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({ synNs: ms(0), synRetransmits: 0, synAckNs: ms(0.1), endNs: ms(1) });
    expect(stats).toMatchObject({ duplicates: 2, synRetransmits: 0, connectionsStarted: 1 });
  });

  it('keeps the earliest stamp of a duplicate that was stored later', async () => {
    const { connections } = await analyze(pcapFile([syn(1000, 5, 0.002), syn(1000, 5, 0.001), synAck(1000, 5, 0.5), fin(1000, 1)]));
    expect(connections[0]!.synNs).toBe(ms(0.001));
  });

  it('finalises an open connection when its tuple gets a SYN with a new ISN (port reuse)', async () => {
    const recs = [syn(40000, 100, 0), syn(40000, 900, 10), synAck(40000, 100, 10.1), synAck(40000, 900, 10.2), fin(40000, 11)];
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(connections).toHaveLength(2);
    expect(connections[0]).toMatchObject({ clientPort: 40000, synNs: ms(0), incomplete: 'port-reuse' });
    expect(connections[0]!.synAckNs).toBeUndefined();
    expect(connections[0]!.endNs).toBeUndefined();
    expect(connections[1]).toMatchObject({ clientPort: 40000, synNs: ms(10), synAckNs: ms(10.2), endNs: ms(11) });
    expect(connections[1]!.incomplete).toBeUndefined();
    // the old connection's SYN-ACK does not acknowledge the new ISN
    expect(stats).toMatchObject({ portReuse: 1, ackMismatch: 1, incomplete: 1, connectionsStarted: 2 });
  });

  it('starts a new connection on a tuple whose previous connection ended', async () => {
    const recs = [...connection({ client: C, vip: V, cport: 5, isn: 1, synMs: 0, synAckMs: 1, finMs: 2 }), ...connection({ client: C, vip: V, cport: 5, isn: 77, synMs: 100, synAckMs: 101, finMs: 105 })];
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(connections.map((c) => [c.synNs, c.endNs, c.incomplete])).toEqual([
      [ms(0), ms(2), undefined],
      [ms(100), ms(105), undefined],
    ]);
    expect(stats.portReuse).toBe(0);
  });

  it('emits the ended connection at once when its tuple is reused inside the reorder window', async () => {
    const recs = [syn(7, 1, 0), synAck(7, 1, 0.1), fin(7, 0.5, true, RST), syn(7, 50, 0.6), synAck(7, 50, 0.7), fin(7, 0.8)];
    const { connections } = await analyze(pcapFile(recs), undefined, { reorderWindowMs: 100 });
    expect(connections.map((c) => [c.synNs, c.endKind])).toEqual([
      [ms(0), 'RST'],
      [ms(0.6), 'FIN'],
    ]);
  });

  it('ignores and counts a SYN-ACK or FIN that comes before any SYN', async () => {
    const recs = [synAck(1, 5, 0), fin(1, 0.5, false), syn(1, 5, 1), fin(1, 3)];
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(stats.unmatched).toBe(2);
    expect(connections).toHaveLength(1);
    expect(connections[0]!.synAckNs).toBeUndefined();
    expect(connections[0]).toMatchObject({ synNs: ms(1), endNs: ms(3), endKind: 'FIN' });
  });

  it('ends a connection on a FIN seen before any SYN-ACK, and takes a late-stored SYN-ACK', async () => {
    const early = await analyze(pcapFile([syn(1, 5, 0), fin(1, 2)]));
    expect(early.connections[0]).toMatchObject({ endNs: ms(2), endKind: 'FIN' });
    expect(firstPacketLatencySeconds(early.connections[0]!)).toBeUndefined();
    expect(totalLatencySeconds(early.connections[0]!)).toBeCloseTo(0.002, 9);
    // SYN-ACK stamped before the FIN but stored after it (two CPUs with -i any)
    const late = await analyze(pcapFile([syn(1, 5, 0), fin(1, 2), synAck(1, 5, 1.999)]));
    expect(late.connections[0]).toMatchObject({ synAckNs: ms(1.999), endNs: ms(2) });
  });

  it('rejects a SYN-ACK or FIN stamped before the SYN', async () => {
    const { connections, stats } = await analyze(pcapFile([syn(1, 5, 10), synAck(1, 5, 9), fin(1, 8), synAck(1, 5, 11), fin(1, 12)]));
    expect(stats.reordered).toBe(2);
    expect(connections[0]).toMatchObject({ synNs: ms(10), synAckNs: ms(11), endNs: ms(12) });
  });

  it('evicts idle connections as incomplete and flushes the rest at the end', async () => {
    const recs = [syn(1, 5, 0), synAck(1, 5, 1), syn(2, 6, 500), syn(3, 7, 2500), synAck(3, 7, 2501), fin(3, 2600)];
    const { connections, stats } = await analyze(pcapFile(recs), undefined, { idleTimeoutMs: 1000 });
    expect(connections.map((c) => [c.clientPort, c.incomplete ?? 'complete'])).toEqual([
      [1, 'idle-timeout'],
      [2, 'idle-timeout'],
      [3, 'complete'],
    ]);
    expect(connections[0]!.synAckNs).toBe(ms(1));
    expect(totalLatencySeconds(connections[0]!)).toBeUndefined();
    const flushed = await analyze(pcapFile(recs.slice(0, 3)), undefined, { idleTimeoutMs: 1000 });
    expect(flushed.connections.map((c) => c.incomplete)).toEqual(['end-of-capture', 'end-of-capture']);
    expect(stats).toMatchObject({ incomplete: 2, open: 0, connectionsEmitted: 3 });
  });

  it('evicts on wall-clock time with evictIdle() during quiet periods', () => {
    const got: CaptureConnection[] = [];
    const p = new CapturePipeline(['10.96.0.0/12'], { idleTimeoutMs: 1000, onConnection: (c) => got.push(c) });
    p.push(pcapFile([syn(1, 5, 0), syn(2, 5, 0.5), fin(2, 0.6)]));
    expect(got).toHaveLength(0); // port 2 waits out its reorder window
    expect(p.tracker.openConnections).toBe(2);
    expect(p.tracker.evictIdle(ms(100))).toBe(0);
    expect(got.map((c) => c.clientPort)).toEqual([2]);
    expect(p.tracker.evictIdle(ms(1001))).toBe(1);
    expect(got.map((c) => c.incomplete)).toEqual([undefined, 'idle-timeout']);
  });

  it('bounds memory with maxOpenConnections', async () => {
    const recs = [syn(1, 5, 0), syn(2, 5, 1), syn(3, 5, 2), synAck(1, 5, 3)];
    const { connections, stats } = await analyze(pcapFile(recs), undefined, { maxOpenConnections: 2 });
    expect(connections.map((c) => [c.clientPort, c.incomplete])).toEqual([
      [1, 'capacity'],
      [2, 'end-of-capture'],
      [3, 'end-of-capture'],
    ]);
    expect(stats.unmatched).toBe(1);
  });

  it('ignores traffic outside the service CIDRs and non-SYN/FIN/RST segments', async () => {
    const recs = [
      { tsNs: ms(0), data: ether(ipTcp({ src: C, dst: '10.244.1.2', sport: 1, dport: 8080, flags: SYN })) },
      { tsNs: ms(1), data: ether(ipTcp({ src: '10.244.1.2', dst: C, sport: 8080, dport: 1, flags: SYN | ACK })) },
      { tsNs: ms(2), data: ether(ipTcp({ src: C, dst: V, sport: 1, dport: 80, flags: ACK })) },
      { tsNs: ms(3), data: ether(ipTcp({ src: C, dst: V, sport: 1, dport: 80, flags: SYN | FIN })) },
      { tsNs: ms(4), data: ether(ipTcp({ src: V, dst: C, sport: 80, dport: 1, flags: SYN })) },
    ];
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(connections).toEqual([]);
    expect(stats).toMatchObject({ packets: 5, ignored: 5, vipSeenOnWire: 0 });
  });

  it('reports vipSeenOnWire = 0 when clients reach pods directly (socket-LB dataplane)', async () => {
    const direct = connection({ client: C, vip: '10.244.1.2', cport: 9, isn: 1, synMs: 0, synAckMs: 1, finMs: 2 });
    const { stats } = await analyze(pcapFile(direct));
    expect(stats.vipSeenOnWire).toBe(0);
    expect(stats.connectionsStarted).toBe(0);
  });

  it('tracks IPv6 connections behind extension headers, apart from IPv4 ones with the same ports', async () => {
    const hbh = [{ type: 0, body: [0, 1, 4, 0, 0, 0, 0] }];
    const recs = [
      { tsNs: ms(0), data: ether(ipTcp({ src: 'fd00:1::2', dst: 'fd00:10:96::10', sport: 5, dport: 80, seq: 1, flags: SYN, ext6: hbh })) },
      syn(5, 1, 0.1),
      { tsNs: ms(1), data: ether(ipTcp({ src: 'fd00:10:96::10', dst: 'fd00:1::2', sport: 80, dport: 5, ack: 2, flags: SYN | ACK })) },
      { tsNs: ms(2), data: ether(ipTcp({ src: 'fd00:10:96::10', dst: 'fd00:1::2', sport: 80, dport: 5, flags: RST | ACK, ext6: hbh })) },
    ];
    const { connections } = await analyze(pcapFile(recs));
    expect(connections.map((c) => [c.family, c.clientAddr, c.vipAddr, c.synAckNs, c.endKind, c.incomplete])).toEqual([
      [6, 'fd00:1::2', 'fd00:10:96::10', ms(1), 'RST', undefined],
      [4, C, V, undefined, undefined, 'end-of-capture'],
    ]);
  });

  it('keys many connections apart (hash collisions resolved by the full tuple)', async () => {
    const recs = [];
    for (let i = 0; i < 3000; i++) recs.push(syn(1024 + i, i, i * 0.01));
    for (let i = 0; i < 3000; i++) recs.push(synAck(1024 + i, i, 40 + i * 0.01));
    for (let i = 0; i < 3000; i++) recs.push(fin(1024 + i, 80 + i * 0.01, false, RST | ACK));
    const { connections, stats } = await analyze(pcapFile(recs));
    expect(connections).toHaveLength(3000);
    expect(stats).toMatchObject({ unmatched: 0, ackMismatch: 0, incomplete: 0 });
    expect(connections.every((c) => c.synAckNs === ms(40 + (c.clientPort - 1024) * 0.01))).toBe(true);
  });

  it('works packet by packet through observe()', () => {
    const got: CaptureConnection[] = [];
    const t = new BoundaryTracker([parseCidr('10.96.0.0/12')], { onConnection: (c) => got.push(c), reorderWindowMs: 0 });
    const p = new TcpPacket();
    for (const [i, r] of [syn(1, 5, 0), synAck(1, 5, 0.25), fin(1, 1)].entries()) {
      expect(decodeTcp(1, r.data, 0, r.data.length, p)).toBe(0);
      t.observe(p, 1_700_000_000, i * 250_000);
    }
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ synNs: 1_700_000_000_000_000_000n, synAckNs: 1_700_000_000_000_250_000n, endNs: 1_700_000_000_000_500_000n });
    expect(t.vipSeenOnWire).toBe(1);
  });
});

describe('latency helpers', () => {
  const base: CaptureConnection = { family: 4, clientAddr: C, clientPort: 1, vipAddr: V, vipPort: 80, synNs: 10n, synRetransmits: 0 };
  it('return seconds or undefined', () => {
    expect(firstPacketLatencySeconds(base)).toBeUndefined();
    expect(totalLatencySeconds(base)).toBeUndefined();
    expect(firstPacketLatencySeconds({ ...base, synAckNs: 1_000_010n })).toBe(0.001);
    expect(totalLatencySeconds({ ...base, endNs: 2_000_000_010n })).toBe(2);
    expect(firstPacketLatencySeconds({ ...base, synAckNs: 5n })).toBeUndefined();
  });
});
