import { describe, expect, it } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL2,
  PcapFormatError,
  PcapReader,
  type PcapReaderOptions,
  PcapRecord,
  readPcap,
} from '../../../src/capture/pcap.js';
import { ipTcp, ether, chunks, fixture, ms, pcapFile, pcapGlobalHeader, SYN } from './helpers.js';

interface Seen {
  tsNs: bigint;
  caplen: number;
  origLen: number;
  linktype: number;
  bytes: string;
}

function readAll(buf: Uint8Array, chunkSize = buf.length, options: PcapReaderOptions = {}) {
  const seen: Seen[] = [];
  const reader = new PcapReader(
    (r) =>
      seen.push({
        tsNs: r.tsNs,
        caplen: r.caplen,
        origLen: r.origLen,
        linktype: r.linktype,
        bytes: Buffer.from(r.data).toString('hex'),
      }),
    options,
  );
  const results: boolean[] = [];
  for (const c of chunks(buf, chunkSize)) results.push(reader.push(c));
  results.push(reader.end());
  return { seen, reader, ok: results.every(Boolean) };
}

/** byte offsets of every record header in a well-formed little-endian pcap */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  for (let off = 24; off + 16 <= buf.length; off += 16 + buf.readUInt32LE(off + 8)) out.push(off);
  return out;
}

const V4_SLL2 = fixture('v4-any-sll2.pcap');

describe('PcapReader on a recorded capture', () => {
  it('reads the global header and every record', () => {
    const { seen, reader, ok } = readAll(V4_SLL2);
    expect(ok).toBe(true);
    expect(reader.error).toBeUndefined();
    expect(reader.header).toEqual({
      nanosecond: true,
      littleEndian: true,
      versionMajor: 2,
      versionMinor: 4,
      snaplen: 256,
      linktype: LINKTYPE_LINUX_SLL2,
    });
    expect(seen).toHaveLength(20);
    expect(seen[0]!.tsNs).toBe(1795259640036109749n);
    expect(seen.every((s) => s.linktype === 276 && s.caplen === s.origLen && s.caplen > 20)).toBe(true);
    expect(reader.stats).toMatchObject({ records: 20, bytes: V4_SLL2.length, malformed: 0, resyncs: 0, truncatedAtEnd: false });
  });

  it('gives identical records whatever the chunking, down to 1 byte at a time', () => {
    const whole = readAll(V4_SLL2).seen;
    for (const size of [1, 2, 7, 15, 16, 17, 23, 24, 25, 100, 1000]) {
      const { seen, reader } = readAll(V4_SLL2, size);
      expect(seen, `chunk size ${size}`).toEqual(whole);
      expect(reader.stats.malformed).toBe(0);
    }
  });

  it('hands out records inside one chunk as views of that chunk (no copy)', () => {
    const buffers: Uint8Array[] = [];
    const reader = new PcapReader((r) => buffers.push(r.buffer));
    reader.push(V4_SLL2);
    expect(buffers).toHaveLength(20);
    expect(buffers.every((b) => b === V4_SLL2)).toBe(true);
  });

  it('reads an async iterable of chunks with readPcap', async () => {
    async function* source() {
      yield* chunks(V4_SLL2, 33);
    }
    const recs: PcapRecord[] = [];
    for await (const r of readPcap(source())) recs.push(r);
    expect(recs).toHaveLength(20);
    expect(new Set(recs).size).toBe(20); // one object per record
    expect(recs[19]!.tsNs).toBe(readAll(V4_SLL2).seen[19]!.tsNs);
  });
});

describe('PcapReader formats', () => {
  const pkt = ether(ipTcp({ src: '10.0.0.1', dst: '10.96.0.1', sport: 1234, dport: 80, seq: 7, flags: SYN }));
  const records = [
    { tsNs: ms(0.123456), data: pkt },
    { tsNs: ms(1.5), data: pkt.subarray(0, 40) },
    { tsNs: ms(2000.000001), data: pkt },
  ];

  it.each([
    { nanosecond: true, bigEndian: false },
    { nanosecond: true, bigEndian: true },
    { nanosecond: false, bigEndian: false },
    { nanosecond: false, bigEndian: true },
  ])('reads magic variant %o', (o) => {
    const { seen, reader } = readAll(pcapFile(records, o), 5);
    expect(reader.error).toBeUndefined();
    expect(reader.header).toMatchObject({ nanosecond: o.nanosecond, littleEndian: !o.bigEndian, linktype: 1 });
    expect(seen.map((s) => s.caplen)).toEqual([pkt.length, 40, pkt.length]);
    const expected = records.map((r) => (o.nanosecond ? r.tsNs : (r.tsNs / 1000n) * 1000n));
    expect(seen.map((s) => s.tsNs)).toEqual(expected);
    expect(seen[1]!.bytes).toBe(Buffer.from(pkt.subarray(0, 40)).toString('hex'));
  });

  it('treats an empty stream as no records and no error', () => {
    const { seen, reader, ok } = readAll(new Uint8Array(0));
    expect(ok).toBe(true);
    expect(seen).toEqual([]);
    expect(reader.header).toBeUndefined();
  });
});

describe('PcapReader on corrupt input (derived from the recorded capture)', () => {
  const offsets = recordOffsets(V4_SLL2);
  const recLen = (i: number) => 16 + V4_SLL2.readUInt32LE(offsets[i]! + 8);

  it('reports a bad magic as an error, without throwing, and stays failed', () => {
    const bad = Buffer.from(V4_SLL2);
    bad.write('GET / HT', 0, 'latin1');
    const reader = new PcapReader(() => {});
    expect(() => reader.push(bad)).not.toThrow();
    expect(reader.push(bad)).toBe(false);
    expect(reader.end()).toBe(false);
    expect(reader.error).toBeInstanceOf(PcapFormatError);
    expect(reader.error?.code).toBe('BAD_MAGIC');
    expect(reader.error?.message).toMatch(/not a pcap stream: global header magic bytes 47 45 54 20.*a1b2c3d4.*a1b23c4d/);
    expect(reader.stats.records).toBe(0);
  });

  it('names pcapng explicitly', () => {
    const ng = Buffer.from(V4_SLL2);
    ng.writeUInt32LE(0x0a0d0d0a, 0);
    const { reader } = readAll(ng, 3);
    expect(reader.error?.code).toBe('PCAPNG');
    expect(reader.error?.message).toMatch(/pcapng/);
  });

  it('rejects an unknown link type naming it and the supported ones', () => {
    const radiotap = Buffer.from(V4_SLL2);
    radiotap.writeUInt32LE(127, 20);
    const { seen, reader, ok } = readAll(radiotap, 1);
    expect(ok).toBe(false);
    expect(seen).toEqual([]);
    expect(reader.error?.code).toBe('UNSUPPORTED_LINKTYPE');
    expect(reader.error?.linktype).toBe(127);
    expect(reader.error?.message).toBe(
      'unsupported pcap link type 127 (IEEE802_11_RADIOTAP); supported: 1 (EN10MB), 101 (RAW), 113 (LINUX_SLL), 228 (IPV4), 229 (IPV6), 276 (LINUX_SLL2)',
    );
    const anyType = readAll(radiotap, radiotap.length, { linkTypes: null });
    expect(anyType.reader.error).toBeUndefined();
    expect(anyType.seen).toHaveLength(20);
  });

  it('reports a stream cut inside the global header', () => {
    const { reader, ok } = readAll(V4_SLL2.subarray(0, 10), 4);
    expect(ok).toBe(false);
    expect(reader.error?.code).toBe('TRUNCATED_HEADER');
    expect(reader.error?.message).toMatch(/got 10 bytes/);
  });

  it('counts a truncated last record (inside its data or its header) instead of throwing', () => {
    for (const cut of [1, recLen(19) - 8, recLen(19) - 1]) {
      for (const size of [V4_SLL2.length, 1, 64]) {
        const { seen, reader, ok } = readAll(V4_SLL2.subarray(0, V4_SLL2.length - cut), size);
        expect(ok, `cut ${cut}`).toBe(true);
        expect(seen).toHaveLength(19);
        expect(reader.stats).toMatchObject({ malformed: 1, truncatedAtEnd: true, resyncs: 0 });
      }
    }
  });

  it('resynchronises after an absurd caplen and keeps reading', () => {
    const bad = Buffer.from(V4_SLL2);
    bad.writeUInt32LE(0x7fffffff, offsets[5]! + 8);
    const whole = readAll(V4_SLL2).seen;
    for (const size of [bad.length, 1, 10, 64]) {
      const { seen, reader, ok } = readAll(bad, size);
      expect(ok).toBe(true);
      expect(seen).toEqual([...whole.slice(0, 5), ...whole.slice(6)]);
      expect(reader.stats).toMatchObject({ records: 19, malformed: 1, resyncs: 1, skippedBytes: recLen(5) });
    }
  });

  it('treats caplen > snaplen and caplen > original length as corrupt', () => {
    const overSnap = Buffer.from(V4_SLL2);
    overSnap.writeUInt32LE(300, offsets[3]! + 8); // snaplen is 256
    overSnap.writeUInt32LE(1500, offsets[3]! + 12);
    expect(readAll(overSnap).reader.stats).toMatchObject({ records: 19, malformed: 1 });
    const overOrig = Buffer.from(V4_SLL2);
    overOrig.writeUInt32LE(10, offsets[3]! + 12);
    expect(readAll(overOrig).reader.stats).toMatchObject({ records: 19, malformed: 1 });
  });

  it('treats a sub-second field out of range as corrupt', () => {
    const bad = Buffer.from(V4_SLL2);
    bad.writeUInt32LE(1_000_000_000, offsets[7]! + 4);
    expect(readAll(bad, 9).reader.stats).toMatchObject({ records: 19, malformed: 1, resyncs: 1 });
  });

  it('skips garbage between records', () => {
    const garbage = Buffer.alloc(1000, 0xff);
    const buf = Buffer.concat([V4_SLL2.subarray(0, offsets[4]), garbage, V4_SLL2.subarray(offsets[4])]);
    for (const size of [buf.length, 1, 100]) {
      const { seen, reader, ok } = readAll(buf, size);
      expect(ok).toBe(true);
      expect(seen).toEqual(readAll(V4_SLL2).seen);
      expect(reader.stats).toMatchObject({ records: 20, malformed: 1, skippedBytes: 1000 });
    }
  });

  it('gives up with RESYNC_FAILED when garbage exceeds the resync budget', () => {
    const buf = Buffer.concat([V4_SLL2.subarray(0, offsets[4]), Buffer.alloc(5000, 0xff), V4_SLL2.subarray(offsets[4])]);
    const { seen, reader, ok } = readAll(buf, 512, { maxResyncBytes: 4096 });
    expect(ok).toBe(false);
    expect(seen).toHaveLength(4);
    expect(reader.error?.code).toBe('RESYNC_FAILED');
    expect(reader.error?.message).toMatch(/no valid record header within 4096 bytes/);
    expect(reader.stats.malformed).toBe(1);
  });

  it('counts garbage at the end of the stream and ends cleanly', () => {
    const buf = Buffer.concat([V4_SLL2, Buffer.alloc(40, 0xee)]);
    const { seen, reader, ok } = readAll(buf, 7);
    expect(ok).toBe(true);
    expect(seen).toHaveLength(20);
    expect(reader.stats).toMatchObject({ malformed: 1, skippedBytes: 40 });
  });

  it('throws the error object from readPcap iteration, never from a callback', async () => {
    const bad = Buffer.from(V4_SLL2);
    bad.writeUInt32LE(0xdeadbeef, 0);
    let n = 0;
    const consume = async () => {
      for await (const _ of readPcap([bad])) n++;
    };
    await expect(consume()).rejects.toBeInstanceOf(PcapFormatError);
    expect(n).toBe(0);
  });

  it('accepts a pcap header written by the helper for every supported link type', () => {
    for (const linktype of [LINKTYPE_ETHERNET, 101, 113, 228, 229, 276]) {
      expect(readAll(pcapGlobalHeader({ linktype })).reader.error).toBeUndefined();
    }
  });
});
