import { describe, expect, it } from 'vitest';
import {
  DECODE_IGNORED,
  DECODE_MALFORMED,
  DECODE_OK,
  TcpPacket,
  decodeRecord,
  decodeTcp,
} from '../../../src/capture/packet.js';
import { PcapReader } from '../../../src/capture/pcap.js';
import { ACK, FIN, SYN, ether, fixture, ipTcp, sll, sll2 } from './helpers.js';

const v4 = ipTcp({ src: '10.0.1.2', dst: '10.96.0.10', sport: 46682, dport: 80, seq: 0xfedcba98, ack: 5, flags: SYN });
const v6 = ipTcp({ src: 'fd00:1::2', dst: 'fd00:10:96::10', sport: 51870, dport: 80, seq: 109195214, ack: 1, flags: SYN | ACK });

function decode(linktype: number, frame: Uint8Array): { r: number; p: TcpPacket } {
  const p = new TcpPacket();
  // decode at a non-zero offset inside a larger buffer, as records sit inside chunks
  const buf = new Uint8Array(frame.length + 10);
  buf.set(frame, 7);
  const r = decodeTcp(linktype, buf, 7, frame.length, p);
  return { r, p };
}

describe('decodeTcp', () => {
  it.each([
    ['EN10MB', 1, ether(v4)],
    ['EN10MB + 802.1Q', 1, ether(v4, [100])],
    ['EN10MB + QinQ', 1, ether(v4, [100, 200])],
    ['LINUX_SLL', 113, sll(v4)],
    ['LINUX_SLL2', 276, sll2(v4)],
    ['RAW', 101, v4],
    ['IPV4', 228, v4],
  ])('decodes IPv4/TCP over %s', (_name, linktype, frame) => {
    const { r, p } = decode(linktype, frame);
    expect(r).toBe(DECODE_OK);
    expect(p.family).toBe(4);
    expect(p.srcAddr()).toBe('10.0.1.2');
    expect(p.dstAddr()).toBe('10.96.0.10');
    expect([p.srcPort, p.dstPort, p.seq, p.ack, p.flags]).toEqual([46682, 80, 0xfedcba98, 5, SYN]);
    expect(p.payloadLen).toBe(0);
  });

  it.each([
    ['EN10MB', 1, ether(v6)],
    ['LINUX_SLL', 113, sll(v6)],
    ['LINUX_SLL2', 276, sll2(v6)],
    ['RAW', 101, v6],
    ['IPV6', 229, v6],
  ])('decodes IPv6/TCP over %s', (_name, linktype, frame) => {
    const { r, p } = decode(linktype, frame);
    expect(r).toBe(DECODE_OK);
    expect(p.family).toBe(6);
    expect(p.addrLen).toBe(16);
    expect(p.srcAddr()).toBe('fd00:1::2');
    expect(p.dstAddr()).toBe('fd00:10:96::10');
    expect([p.srcPort, p.dstPort, p.seq, p.ack, p.flags]).toEqual([51870, 80, 109195214, 1, SYN | ACK]);
  });

  it('honours IPv4 options (IHL > 5) and reports the payload length', () => {
    const withOpts = ipTcp({ src: '10.0.0.1', dst: '10.96.0.1', sport: 1, dport: 2, flags: FIN | ACK, ipOptions: [1, 1, 1, 1, 7, 3, 4, 0], payload: 5 });
    const { r, p } = decode(1, ether(withOpts));
    expect(r).toBe(DECODE_OK);
    expect(p.tcpOffset - p.ipOffset).toBe(28);
    expect([p.srcPort, p.dstPort, p.flags, p.payloadLen]).toEqual([1, 2, FIN | ACK, 5]);
  });

  it('walks IPv6 extension headers (hop-by-hop, destination options, routing)', () => {
    const pkt = ipTcp({
      src: 'fd00:1::2',
      dst: 'fd00:10:96::10',
      sport: 3,
      dport: 80,
      flags: SYN,
      ext6: [
        { type: 0, body: [0, 1, 4, 0, 0, 0, 0] }, // hop-by-hop, 8 bytes, PadN
        { type: 60, body: [1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, // dest opts, 16 bytes
        { type: 43, body: [0, 4, 0, 0, 0, 0, 0] }, // routing, 8 bytes
      ],
    });
    const { r, p } = decode(229, pkt);
    expect(r).toBe(DECODE_OK);
    expect(p.tcpOffset - p.ipOffset).toBe(40 + 32);
    expect([p.srcPort, p.dstPort, p.flags]).toEqual([3, 80, SYN]);
  });

  it('ignores fragments, non-TCP and non-IP', () => {
    const frag = ipTcp({ src: '10.0.0.1', dst: '10.96.0.1', sport: 1, dport: 2, flags: SYN, fragField: 0x2000 });
    const later = ipTcp({ src: '10.0.0.1', dst: '10.96.0.1', sport: 1, dport: 2, flags: SYN, fragField: 0x0010 });
    const frag6 = ipTcp({ src: 'fd00::1', dst: 'fd00:10:96::1', sport: 1, dport: 2, flags: SYN, ext6: [{ type: 44, body: [0, 0, 1, 0, 0, 0, 1] }] });
    const udp = Uint8Array.from(v4);
    udp[9] = 17;
    const arp = ether(v4);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(decode(228, frag).r).toBe(DECODE_IGNORED);
    expect(decode(228, later).r).toBe(DECODE_IGNORED);
    expect(decode(229, frag6).r).toBe(DECODE_IGNORED);
    expect(decode(228, udp).r).toBe(DECODE_IGNORED);
    expect(decode(1, arp).r).toBe(DECODE_IGNORED);
    expect(decode(147, v4).r).toBe(DECODE_IGNORED);
  });

  it('flags short and inconsistent headers as malformed', () => {
    const badIhl = Uint8Array.from(v4);
    badIhl[0] = 0x44;
    const badDoff = Uint8Array.from(v4);
    badDoff[20 + 12] = 0x40;
    const shortTotal = Uint8Array.from(v4);
    shortTotal[3] = 30; // total length 30 < 20 + 20
    const v6TruncExt = ipTcp({ src: 'fd00::1', dst: 'fd00:10:96::1', sport: 1, dport: 2, flags: SYN, ext6: [{ type: 0, body: [0, 1, 4, 0, 0, 0, 0] }] }).subarray(0, 41);
    const cases: [string, number, Uint8Array][] = [
      ['ethernet header cut', 1, ether(v4).subarray(0, 10)],
      ['vlan tag cut', 1, ether(v4, [5]).subarray(0, 16)],
      ['sll cut', 113, sll(v4).subarray(0, 12)],
      ['sll2 cut', 276, sll2(v4).subarray(0, 19)],
      ['ipv4 header cut', 1, ether(v4).subarray(0, 14 + 19)],
      ['tcp header cut', 1, ether(v4).subarray(0, 14 + 20 + 12)],
      ['IHL < 5', 228, badIhl],
      ['TCP data offset < 5', 228, badDoff],
      ['total length too small', 228, shortTotal],
      ['ipv6 header cut', 229, v6.subarray(0, 39)],
      ['ipv6 extension header cut', 229, v6TruncExt],
      ['raw with version 5', 101, Uint8Array.from([0x50, ...v4.subarray(1)])],
      ['raw empty', 101, new Uint8Array(0)],
      ['ipv4 link type, v6 packet', 228, v6],
    ];
    for (const [name, linktype, frame] of cases) expect(decode(linktype, frame).r, name).toBe(DECODE_MALFORMED);
  });

  it('decodes every record of the recorded captures', () => {
    for (const name of ['v4-eth.pcap', 'v4-any-sll.pcap', 'v4-any-sll2.pcap', 'v6-eth.pcap', 'v6-any-sll.pcap', 'v6-any-sll2.pcap']) {
      const p = new TcpPacket();
      const results: number[] = [];
      const flags: number[] = [];
      const reader = new PcapReader((rec) => {
        results.push(decodeRecord(rec, p));
        flags.push(p.flags & 0x07);
      });
      reader.push(fixture(name));
      reader.end();
      expect(results.length, name).toBeGreaterThanOrEqual(20);
      expect(results.every((r) => r === DECODE_OK), name).toBe(true);
      expect(flags.every((f) => f !== 0), name).toBe(true); // only SYN/FIN/RST passed the filter
      expect(p.family).toBe(name.startsWith('v4') ? 4 : 6);
    }
  });
});
