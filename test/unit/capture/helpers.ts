// Test helpers: fixture loading and a small pcap writer for synthetic edge cases.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type AnalyzeResult, type CapturePipelineOptions, analyzePcap } from '../../../src/capture/pipeline.js';
import type { CaptureConnection } from '../../../src/capture/types.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/capture/', import.meta.url));
export const SERVICE_CIDRS = ['10.96.0.0/12', 'fd00:10:96::/112'];

export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}

/** run a buffer through the pipeline in chunks of `chunkSize` bytes (default: one chunk) */
export function analyze(
  buf: Uint8Array,
  chunkSize = buf.length,
  options: CapturePipelineOptions = {},
  cidrs: readonly string[] = SERVICE_CIDRS,
): Promise<AnalyzeResult> {
  return analyzePcap(chunks(buf, chunkSize), cidrs, options);
}

export function* chunks(buf: Uint8Array, size: number): Generator<Uint8Array> {
  if (buf.length === 0) return;
  for (let off = 0; off < buf.length; off += size) {
    // copy: a reader must not depend on a chunk staying intact after push()
    yield Uint8Array.from(buf.subarray(off, off + size));
  }
}

/** connection objects without volatile identity, for equality across runs */
export function summary(conns: readonly CaptureConnection[]): string[] {
  return conns.map(
    (c) =>
      `${c.clientAddr}:${c.clientPort}>${c.vipAddr}:${c.vipPort} syn=${c.synNs} synack=${c.synAckNs} end=${c.endNs}/${c.endKind} rtx=${c.synRetransmits} inc=${c.incomplete}`,
  );
}

// ---- pcap writer ----

export interface PcapWriterOptions {
  nanosecond?: boolean;
  bigEndian?: boolean;
  linktype?: number;
  snaplen?: number;
}

export function pcapGlobalHeader(o: PcapWriterOptions = {}): Buffer {
  const b = Buffer.alloc(24);
  const magic = o.nanosecond === false ? 0xa1b2c3d4 : 0xa1b23c4d;
  const w32 = (v: number, at: number) => (o.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  const w16 = (v: number, at: number) => (o.bigEndian ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  w32(magic, 0);
  w16(2, 4);
  w16(4, 6);
  w32(0, 8);
  w32(0, 12);
  w32(o.snaplen ?? 262144, 16);
  w32(o.linktype ?? 1, 20);
  return b;
}

export function pcapRecord(tsNs: bigint, data: Uint8Array, o: PcapWriterOptions = {}, origLen = data.length): Buffer {
  const b = Buffer.alloc(16 + data.length);
  const w32 = (v: number, at: number) => (o.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  w32(Number(tsNs / 1_000_000_000n), 0);
  const frac = Number(tsNs % 1_000_000_000n);
  w32(o.nanosecond === false ? Math.floor(frac / 1000) : frac, 4);
  w32(data.length, 8);
  w32(origLen, 12);
  b.set(data, 16);
  return b;
}

export function pcapFile(records: readonly { tsNs: bigint; data: Uint8Array }[], o: PcapWriterOptions = {}): Buffer {
  return Buffer.concat([pcapGlobalHeader(o), ...records.map((r) => pcapRecord(r.tsNs, r.data, o))]);
}

// ---- packet builders ----

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const ACK = 0x10;

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags: number;
  /** IPv4 options bytes (multiple of 4) */
  ipOptions?: number[];
  /** IPv6 extension headers as [next-header-type, body bytes…] pairs, in order */
  ext6?: { type: number; body: number[] }[];
  /** IPv4 flags/fragment offset field */
  fragField?: number;
  payload?: number;
}

function v4bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function v6bytes(a: string): number[] {
  const [head = '', tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

function tcpHeader(s: TcpSpec): number[] {
  const t = Buffer.alloc(20 + (s.payload ?? 0));
  t.writeUInt16BE(s.sport, 0);
  t.writeUInt16BE(s.dport, 2);
  t.writeUInt32BE((s.seq ?? 0) >>> 0, 4);
  t.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  t[12] = 5 << 4;
  t[13] = s.flags;
  t.writeUInt16BE(65535, 14);
  return [...t];
}

/** a raw IP packet (v4 or v6 chosen by the address syntax) carrying a TCP segment */
export function ipTcp(s: TcpSpec): Uint8Array {
  const tcp = tcpHeader(s);
  if (!s.src.includes(':')) {
    const opts = s.ipOptions ?? [];
    const ihl = 20 + opts.length;
    const ip = Buffer.alloc(ihl);
    ip[0] = 0x40 | (ihl / 4);
    ip.writeUInt16BE(ihl + tcp.length, 2);
    ip.writeUInt16BE(s.fragField ?? 0x4000, 6);
    ip[8] = 64;
    ip[9] = 6;
    ip.set(v4bytes(s.src), 12);
    ip.set(v4bytes(s.dst), 16);
    ip.set(opts, 20);
    return Uint8Array.from([...ip, ...tcp]);
  }
  const ext: number[] = [];
  const exts = s.ext6 ?? [];
  let first = 6;
  if (exts.length > 0) first = exts[0]!.type;
  exts.forEach((e, i) => {
    const next = i + 1 < exts.length ? exts[i + 1]!.type : 6;
    ext.push(next, ...e.body);
  });
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(ext.length + tcp.length, 4);
  ip[6] = first;
  ip[7] = 64;
  ip.set(v6bytes(s.src), 8);
  ip.set(v6bytes(s.dst), 24);
  return Uint8Array.from([...ip, ...ext, ...tcp]);
}

/** Ethernet II frame around an IP packet, optionally 802.1Q-tagged */
export function ether(ip: Uint8Array, vlanIds: number[] = []): Uint8Array {
  const etype = (ip[0]! >> 4) === 6 ? 0x86dd : 0x0800;
  const h: number[] = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  for (const id of vlanIds) h.push(0x81, 0x00, id >> 8, id & 0xff);
  h.push(etype >> 8, etype & 0xff);
  return Uint8Array.from([...h, ...ip]);
}

export function sll(ip: Uint8Array): Uint8Array {
  const etype = (ip[0]! >> 4) === 6 ? 0x86dd : 0x0800;
  const h = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, etype >> 8, etype & 0xff];
  return Uint8Array.from([...h, ...ip]);
}

export function sll2(ip: Uint8Array): Uint8Array {
  const etype = (ip[0]! >> 4) === 6 ? 0x86dd : 0x0800;
  const h = [etype >> 8, etype & 0xff, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
  return Uint8Array.from([...h, ...ip]);
}

const T0 = 1_700_000_000_000_000_000n;
export const ms = (n: number): bigint => T0 + BigInt(Math.round(n * 1e6));

/** SYN, SYN-ACK, FIN, FIN of one connection (client → VIP), Ethernet frames */
export function connection(opts: {
  client: string;
  vip: string;
  cport: number;
  vport?: number;
  isn: number;
  synMs: number;
  synAckMs?: number;
  finMs?: number;
}): { tsNs: bigint; data: Uint8Array }[] {
  const vport = opts.vport ?? 80;
  const out: { tsNs: bigint; data: Uint8Array }[] = [
    { tsNs: ms(opts.synMs), data: ether(ipTcp({ src: opts.client, dst: opts.vip, sport: opts.cport, dport: vport, seq: opts.isn, flags: SYN })) },
  ];
  if (opts.synAckMs !== undefined) {
    out.push({
      tsNs: ms(opts.synAckMs),
      data: ether(ipTcp({ src: opts.vip, dst: opts.client, sport: vport, dport: opts.cport, seq: 777, ack: opts.isn + 1, flags: SYN | ACK })),
    });
  }
  if (opts.finMs !== undefined) {
    out.push({
      tsNs: ms(opts.finMs),
      data: ether(ipTcp({ src: opts.client, dst: opts.vip, sport: opts.cport, dport: vport, seq: opts.isn + 10, flags: FIN | ACK })),
    });
    out.push({
      tsNs: ms(opts.finMs + 0.01),
      data: ether(ipTcp({ src: opts.vip, dst: opts.client, sport: vport, dport: opts.cport, seq: 800, flags: FIN | ACK })),
    });
  }
  return out;
}
