// Throughput of the capture pipeline (pcap reader → TCP decoder → BoundaryTracker).
//
// Synthesises a pcap of N connections × 4 records (SYN, SYN-ACK, FIN, FIN) from the first
// connection recorded in test/fixtures/capture/v4-eth.pcap: every copy gets its own client
// address/port (10.0.X.2:1024…65535) and is shifted by `spacingUs`, and the records are
// written in timestamp order, so ~5 ms connections overlap as they would on a busy node.
// IPv4 header checksums are recomputed; TCP checksums are not (nothing here checks them).
// The buffer is then replayed in 64 KiB chunks, as tcpdump's stdout would deliver it.
import { readFileSync } from 'node:fs';
import { CapturePipeline } from '../src/capture/pipeline.js';

export interface CaptureBenchResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMiB: number;
}

export interface CaptureBenchOptions {
  /** connections to synthesise (default 250 000 → 1 000 000 records) */
  connections?: number;
  /** default 65 536 */
  chunkSize?: number;
  /** start-to-start distance of consecutive connections in µs (default 20) */
  spacingUs?: number;
}

interface TemplateRecord {
  relNs: number;
  data: Buffer;
  /** the client address is the IPv4 source (else the destination) */
  fromClient: boolean;
}

const ETH = 14;

function template(): { header: Buffer; records: TemplateRecord[] } {
  const file = readFileSync(new URL('../test/fixtures/capture/v4-eth.pcap', import.meta.url));
  if (file.readUInt32LE(0) !== 0xa1b23c4d || file.readUInt32LE(20) !== 1) {
    throw new Error('bench template must be a little-endian nanosecond Ethernet pcap');
  }
  const header = Buffer.from(file.subarray(0, 24));
  const raw: { tsNs: bigint; data: Buffer }[] = [];
  for (let off = 24; off + 16 <= file.length && raw.length < 4; ) {
    const caplen = file.readUInt32LE(off + 8);
    const tsNs = BigInt(file.readUInt32LE(off)) * 1_000_000_000n + BigInt(file.readUInt32LE(off + 4));
    raw.push({ tsNs, data: Buffer.from(file.subarray(off + 16, off + 16 + caplen)) });
    off += 16 + caplen;
  }
  const first = raw[0];
  if (!first || raw.length < 4) throw new Error('bench template needs a full connection (4 records)');
  const client = first.data.readUInt32BE(ETH + 12);
  return {
    header,
    records: raw.map((r) => ({
      relNs: Number(r.tsNs - first.tsNs),
      data: r.data,
      fromClient: r.data.readUInt32BE(ETH + 12) === client,
    })),
  };
}

function ipv4Checksum(b: Buffer, off: number): void {
  const ihl = (b[off]! & 0x0f) * 4;
  b.writeUInt16BE(0, off + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, off + 10);
}

/** a classic pcap of `connections` synthetic connections (4 records each) */
export function synthesizeCapture(connections: number, spacingUs = 20): { pcap: Buffer; records: number } {
  const { header, records: tpl } = template();
  const t0Sec = 1_700_000_000;
  // (ns after t0, connection, template index) in timestamp order
  const order: { ts: number; conn: number; k: number }[] = [];
  for (let i = 0; i < connections; i++) {
    const start = i * spacingUs * 1000;
    tpl.forEach((r, k) => order.push({ ts: start + r.relNs, conn: i, k }));
  }
  order.sort((a, b) => a.ts - b.ts || a.k - b.k);
  const size = 24 + order.reduce((n, o) => n + 16 + tpl[o.k]!.data.length, 0);
  const out = Buffer.allocUnsafe(size);
  header.copy(out, 0);
  let off = 24;
  for (const o of order) {
    const r = tpl[o.k]!;
    out.writeUInt32LE(t0Sec + Math.floor(o.ts / 1e9), off);
    out.writeUInt32LE(o.ts % 1e9, off + 4);
    out.writeUInt32LE(r.data.length, off + 8);
    out.writeUInt32LE(r.data.length, off + 12);
    const p = off + 16;
    r.data.copy(out, p);
    const ip = p + ETH;
    const ihl = (out[ip]! & 0x0f) * 4;
    const port = 1024 + (o.conn % 64512);
    const net = 1 + Math.floor(o.conn / 64512);
    const addrAt = ip + (r.fromClient ? 12 : 16);
    const portAt = ip + ihl + (r.fromClient ? 0 : 2);
    out[addrAt + 2] = net & 0xff;
    out[addrAt + 3] = 2;
    out.writeUInt16BE(port, portAt);
    ipv4Checksum(out, ip);
    off += 16 + r.data.length;
  }
  return { pcap: out, records: order.length };
}

export async function benchCapture(options: CaptureBenchOptions = {}): Promise<CaptureBenchResult> {
  const connections = options.connections ?? 250_000;
  const chunkSize = options.chunkSize ?? 65_536;
  const { pcap, records } = synthesizeCapture(connections, options.spacingUs ?? 20);
  let emitted = 0;
  let complete = 0;
  const pipeline = new CapturePipeline(['10.96.0.0/12'], {
    onConnection: (c) => {
      emitted++;
      if (c.synAckNs !== undefined && c.endNs !== undefined) complete++;
    },
  });
  const start = process.hrtime.bigint();
  for (let off = 0; off < pcap.length; off += chunkSize) {
    pipeline.push(pcap.subarray(off, off + chunkSize));
  }
  pipeline.end();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.resolve();
  const stats = pipeline.stats;
  if (pipeline.error || stats.packets !== records || emitted !== connections || complete !== connections) {
    throw new Error(
      `capture bench is wrong: ${stats.packets}/${records} records, ${complete}/${emitted}/${connections} connections complete/emitted/expected${pipeline.error ? `, ${pipeline.error.message}` : ''}`,
    );
  }
  return {
    records,
    seconds,
    recordsPerSecond: records / seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}
