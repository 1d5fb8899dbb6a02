// Link layer → IPv4/IPv6 → TCP (or UDP, with decodePacket) header decoding, in place. The decoder writes raw offsets
// into a caller-owned TcpPacket (reused for every packet) and allocates nothing: addresses
// become strings only when the tracker creates a connection.
import { addressFromBytes } from '../net/cidr.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  type PcapRecord,
} from './pcap.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** a TCP segment was decoded into `out` */
export const DECODE_OK = 0;
/** not for us: not IP, not TCP (or UDP), a fragment, an unsupported link type */
export const DECODE_IGNORED = 1;
/** cut short or inconsistent headers */
export const DECODE_MALFORMED = 2;
export type DecodeResult = typeof DECODE_OK | typeof DECODE_IGNORED | typeof DECODE_MALFORMED;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const MAX_VLAN_TAGS = 4;
const MAX_IPV6_EXT_HEADERS = 8;
const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export class TcpPacket {
  /** the buffer the offsets point into */
  buf: Uint8Array = new Uint8Array(0);
  family: 4 | 6 = 4;
  /** 4 or 16 */
  addrLen: 4 | 16 = 4;
  ipOffset = 0;
  srcOffset = 0;
  dstOffset = 0;
  tcpOffset = 0;
  srcPort = 0;
  dstPort = 0;
  /** unsigned 32-bit */
  seq = 0;
  /** unsigned 32-bit */
  ack = 0;
  /** the TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, …) */
  flags = 0;
  /** TCP payload bytes according to the IP length fields */
  payloadLen = 0;

  srcAddr(): string {
    return addressFromBytes(this.buf, this.srcOffset, this.addrLen);
  }

  dstAddr(): string {
    return addressFromBytes(this.buf, this.dstOffset, this.addrLen);
  }

  /** 6 (TCP) or 17 (UDP: seq, ack and flags are 0, payloadLen from the UDP length) */
  proto: 6 | 17 = IPPROTO_TCP;
}

/** Decode the TCP segment at buf[off, off+len) captured with the given link type. */
export function decodeTcp(linktype: number, buf: Uint8Array, off: number, len: number, out: TcpPacket): DecodeResult {
  return decodeL4(linktype, buf, off, len, out, false);
}

/** Decode a TCP segment or a UDP datagram (out.proto says which). */
export function decodePacket(linktype: number, buf: Uint8Array, off: number, len: number, out: TcpPacket): DecodeResult {
  return decodeL4(linktype, buf, off, len, out, true);
}

function decodeL4(linktype: number, buf: Uint8Array, off: number, len: number, out: TcpPacket, udp: boolean): DecodeResult {
  const end = off + len;
  let p: number;
  let ethertype: number;
  switch (linktype) {
    case LINKTYPE_ETHERNET:
      if (len < 14) return DECODE_MALFORMED;
      ethertype = (buf[off + 12]! << 8) | buf[off + 13]!;
      p = off + 14;
      break;
    case LINKTYPE_LINUX_SLL:
      if (len < 16) return DECODE_MALFORMED;
      ethertype = (buf[off + 14]! << 8) | buf[off + 15]!;
      p = off + 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (len < 20) return DECODE_MALFORMED;
      ethertype = (buf[off]! << 8) | buf[off + 1]!;
      p = off + 20;
      break;
    case LINKTYPE_RAW: {
      if (len < 1) return DECODE_MALFORMED;
      const v = buf[off]! >> 4;
      if (v === 4) return decodeIPv4(buf, off, end, out, udp);
      if (v === 6) return decodeIPv6(buf, off, end, out, udp);
      return DECODE_MALFORMED;
    }
    case LINKTYPE_IPV4:
      return decodeIPv4(buf, off, end, out, udp);
    case LINKTYPE_IPV6:
      return decodeIPv6(buf, off, end, out, udp);
    default:
      return DECODE_IGNORED;
  }
  for (let i = 0; i < MAX_VLAN_TAGS; i++) {
    if (ethertype !== ETHERTYPE_VLAN && ethertype !== ETHERTYPE_QINQ && ethertype !== ETHERTYPE_QINQ_OLD) break;
    if (end - p < 4) return DECODE_MALFORMED;
    ethertype = (buf[p + 2]! << 8) | buf[p + 3]!;
    p += 4;
  }
  if (ethertype === ETHERTYPE_IPV4) return decodeIPv4(buf, p, end, out, udp);
  if (ethertype === ETHERTYPE_IPV6) return decodeIPv6(buf, p, end, out, udp);
  return DECODE_IGNORED;
}

/** decodeTcp on a pcap record */
export function decodeRecord(rec: PcapRecord, out: TcpPacket): DecodeResult {
  return decodeTcp(rec.linktype, rec.buffer, rec.offset, rec.caplen, out);
}

function decodeIPv4(buf: Uint8Array, p: number, end: number, out: TcpPacket, udp: boolean): DecodeResult {
  if (end - p < 20) return DECODE_MALFORMED;
  const vihl = buf[p]!;
  if (vihl >> 4 !== 4) return DECODE_MALFORMED;
  const ihl = (vihl & 0x0f) << 2;
  if (ihl < 20) return DECODE_MALFORMED;
  const totalLen = (buf[p + 2]! << 8) | buf[p + 3]!;
  // total length 0 happens for GSO super-packets (BIG TCP); anything else below the
  // header length is corrupt
  if (totalLen !== 0 && totalLen < ihl) return DECODE_MALFORMED;
  // any fragment (more-fragments set or a non-zero offset): a SYN/FIN never needs one, and
  // a request/response datagram of the kit fits one packet
  if ((((buf[p + 6]! << 8) | buf[p + 7]!) & 0x3fff) !== 0) return DECODE_IGNORED;
  if (udp && buf[p + 9] === IPPROTO_UDP) {
    const u = p + ihl;
    if (end - u < 8) return DECODE_MALFORMED;
    out.buf = buf;
    out.family = 4;
    out.addrLen = 4;
    out.ipOffset = p;
    out.srcOffset = p + 12;
    out.dstOffset = p + 16;
    return decodeUdpHeader(buf, u, out);
  }
  if (buf[p + 9] !== IPPROTO_TCP) return DECODE_IGNORED;
  const t = p + ihl;
  if (end - t < 20) return DECODE_MALFORMED;
  if (totalLen !== 0 && totalLen < ihl + 20) return DECODE_MALFORMED;
  const doff = (buf[t + 12]! >> 4) << 2;
  if (doff < 20) return DECODE_MALFORMED;
  out.buf = buf;
  out.family = 4;
  out.addrLen = 4;
  out.ipOffset = p;
  out.srcOffset = p + 12;
  out.dstOffset = p + 16;
  out.payloadLen = totalLen === 0 ? Math.max(0, end - t - doff) : Math.max(0, totalLen - ihl - doff);
  return decodeTcpHeader(buf, t, out);
}

function decodeIPv6(buf: Uint8Array, p: number, end: number, out: TcpPacket, udp: boolean): DecodeResult {
  if (end - p < 40) return DECODE_MALFORMED;
  if (buf[p]! >> 4 !== 6) return DECODE_MALFORMED;
  const plen = (buf[p + 4]! << 8) | buf[p + 5]!;
  let nh = buf[p + 6]!;
  let q = p + 40;
  for (let i = 0; nh !== IPPROTO_TCP && !(udp && nh === IPPROTO_UDP); i++) {
    if (i === MAX_IPV6_EXT_HEADERS) return DECODE_IGNORED;
    switch (nh) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
        if (end - q < 2) return DECODE_MALFORMED;
        nh = buf[q]!;
        q += (buf[q + 1]! + 1) << 3;
        break;
      case 51: // authentication header: length in 4-octet units minus 2
        if (end - q < 2) return DECODE_MALFORMED;
        nh = buf[q]!;
        q += (buf[q + 1]! + 2) << 2;
        break;
      default:
        // 44 fragment, 50 ESP, 59 no next header, UDP (unless asked for), ICMPv6, …
        return DECODE_IGNORED;
    }
  }
  if (nh === IPPROTO_UDP) {
    if (end - q < 8) return DECODE_MALFORMED;
    out.buf = buf;
    out.family = 6;
    out.addrLen = 16;
    out.ipOffset = p;
    out.srcOffset = p + 8;
    out.dstOffset = p + 24;
    return decodeUdpHeader(buf, q, out);
  }
  if (end - q < 20) return DECODE_MALFORMED;
  const doff = (buf[q + 12]! >> 4) << 2;
  if (doff < 20) return DECODE_MALFORMED;
  out.buf = buf;
  out.family = 6;
  out.addrLen = 16;
  out.ipOffset = p;
  out.srcOffset = p + 8;
  out.dstOffset = p + 24;
  // payload length 0 = jumbogram / GSO: fall back to what was captured
  out.payloadLen = plen === 0 ? Math.max(0, end - q - doff) : Math.max(0, plen - (q - p - 40) - doff);
  return decodeTcpHeader(buf, q, out);
}

function decodeUdpHeader(buf: Uint8Array, u: number, out: TcpPacket): DecodeResult {
  out.proto = IPPROTO_UDP;
  out.tcpOffset = u;
  out.srcPort = (buf[u]! << 8) | buf[u + 1]!;
  out.dstPort = (buf[u + 2]! << 8) | buf[u + 3]!;
  out.seq = 0;
  out.ack = 0;
  out.flags = 0;
  out.payloadLen = Math.max(0, ((buf[u + 4]! << 8) | buf[u + 5]!) - 8);
  return DECODE_OK;
}

function decodeTcpHeader(buf: Uint8Array, t: number, out: TcpPacket): DecodeResult {
  out.proto = IPPROTO_TCP;
  out.tcpOffset = t;
  out.srcPort = (buf[t]! << 8) | buf[t + 1]!;
  out.dstPort = (buf[t + 2]! << 8) | buf[t + 3]!;
  out.seq = ((buf[t + 4]! << 24) | (buf[t + 5]! << 16) | (buf[t + 6]! << 8) | buf[t + 7]!) >>> 0;
  out.ack = ((buf[t + 8]! << 24) | (buf[t + 9]! << 16) | (buf[t + 10]! << 8) | buf[t + 11]!) >>> 0;
  out.flags = buf[t + 13]!;
  return DECODE_OK;
}
