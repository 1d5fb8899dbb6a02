// Streaming reader for classic libpcap files (what `tcpdump -w -` writes): microsecond
// (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic, either byte order. Chunks may split a
// header or a record anywhere; a record that lies inside one chunk is handed out as a view
// of that chunk (no copy), a record split across chunks is assembled into a fresh buffer.
//
// Errors are values, not crashes: a corrupt record header is counted in `stats.malformed`
// and the reader resynchronises on the next plausible record; a truncated last record is
// counted; only an unusable stream (bad magic, pcapng, unsupported link type, no valid
// record within the resync budget) is fatal, and even then `push()` returns false and
// `error` holds a PcapFormatError — nothing is thrown at the caller.

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'EN10MB'],
  [9, 'PPP'],
  [12, 'RAW (OpenBSD DLT value)'],
  [14, 'RAW (BSD DLT value)'],
  [101, 'RAW'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [276, 'LINUX_SLL2'],
]);

/** Link types the decoder understands. */
export const SUPPORTED_LINKTYPES: readonly number[] = [
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
];

export function linkTypeName(linktype: number): string {
  return LINKTYPE_NAMES.get(linktype) ?? 'unknown';
}

export type PcapErrorCode =
  | 'BAD_MAGIC'
  | 'PCAPNG'
  | 'BAD_VERSION'
  | 'UNSUPPORTED_LINKTYPE'
  | 'TRUNCATED_HEADER'
  | 'RESYNC_FAILED';

export class PcapFormatError extends Error {
  override readonly name = 'PcapFormatError';
  constructor(
    readonly code: PcapErrorCode,
    message: string,
    /** byte offset in the stream where the problem starts */
    readonly offset: number,
    readonly linktype?: number,
  ) {
    super(message);
  }
}

export interface PcapHeader {
  /** true for the 0xa1b23c4d magic: record timestamps carry nanoseconds */
  nanosecond: boolean;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** LINKTYPE_* value (low 16 bits of the header's network field) */
  linktype: number;
}

/**
 * One captured packet. `buffer`/`offset`/`caplen` locate the captured bytes without
 * creating a view; `data` makes one on demand. In the callback API the same object is
 * reused for every record: copy what you keep (or `clone()` it).
 */
export class PcapRecord {
  tsSec = 0;
  /** fraction of the second in ns (µs files are scaled) */
  tsNsec = 0;
  linktype = 0;
  buffer: Uint8Array = EMPTY;
  offset = 0;
  caplen = 0;
  origLen = 0;

  /** timestamp in ns since the Unix epoch */
  get tsNs(): bigint {
    return BigInt(this.tsSec) * 1_000_000_000n + BigInt(this.tsNsec);
  }

  /** the captured bytes (a view, no copy) */
  get data(): Uint8Array {
    return this.buffer.subarray(this.offset, this.offset + this.caplen);
  }

  clone(): PcapRecord {
    const r = new PcapRecord();
    r.tsSec = this.tsSec;
    r.tsNsec = this.tsNsec;
    r.linktype = this.linktype;
    r.buffer = this.buffer;
    r.offset = this.offset;
    r.caplen = this.caplen;
    r.origLen = this.origLen;
    return r;
  }
}

const EMPTY = new Uint8Array(0);

export interface PcapReaderOptions {
  /** records with a larger caplen are corrupt (default 256 KiB, tcpdump's maximum snaplen) */
  maxRecordBytes?: number;
  /** give up (fatal RESYNC_FAILED) when no valid record header follows within this many
   *  bytes after a corrupt one (default 1 MiB) */
  maxResyncBytes?: number;
  /** accepted link types; `null` accepts any (default SUPPORTED_LINKTYPES) */
  linkTypes?: readonly number[] | null;
}

export interface PcapReaderStats {
  /** records handed to the callback */
  records: number;
  bytes: number;
  /** corrupt record headers (one per resync) plus a truncated last record */
  malformed: number;
  resyncs: number;
  skippedBytes: number;
  truncatedAtEnd: boolean;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const DEFAULT_MAX_RECORD = 256 * 1024;
const DEFAULT_MAX_RESYNC = 1024 * 1024;
/** during resync a candidate's timestamp must lie within this of the last good one */
const RESYNC_TS_WINDOW_SEC = 7 * 86400;

const S_HEADER = 0;
const S_RECORDS = 1;
const S_RESYNC = 2;
const S_FAILED = 3;
const S_ENDED = 4;

export class PcapReader {
  header: PcapHeader | undefined;
  error: PcapFormatError | undefined;
  readonly stats: PcapReaderStats = {
    records: 0,
    bytes: 0,
    malformed: 0,
    resyncs: 0,
    skippedBytes: 0,
    truncatedAtEnd: false,
  };

  private state = S_HEADER;
  private le = true;
  private fracLimit = 1_000_000;
  private fracMul = 1000;
  private maxCap = DEFAULT_MAX_RECORD;
  private linktype = 0;
  private readonly maxRecord: number;
  private readonly maxResync: number;
  private readonly linkTypes: readonly number[] | null;
  /** bytes of the stream before the buffer being parsed (for error offsets) */
  private base = 0;
  // a header or record split across chunks is assembled here
  private readonly scratch = new Uint8Array(GLOBAL_HEADER);
  private part: Uint8Array = this.scratch;
  private partLen = 0;
  private partNeed = 0;
  // resync: bytes after a corrupt record header that are being searched
  private rbuf: Uint8Array = EMPTY;
  private rpos = 0;
  private rskipped = 0;
  private rstart = 0;
  private lastTsSec = -1;
  private readonly rec = new PcapRecord();

  constructor(
    private readonly onRecord: (rec: PcapRecord) => void,
    options: PcapReaderOptions = {},
  ) {
    this.maxRecord = options.maxRecordBytes ?? DEFAULT_MAX_RECORD;
    this.maxResync = options.maxResyncBytes ?? DEFAULT_MAX_RESYNC;
    this.linkTypes = options.linkTypes === undefined ? SUPPORTED_LINKTYPES : options.linkTypes;
  }

  get failed(): boolean {
    return this.state === S_FAILED;
  }

  /** Feed the next chunk. Returns false once the stream has failed (see `error`). */
  push(chunk: Uint8Array): boolean {
    if (this.state === S_FAILED) return false;
    if (this.state === S_ENDED || chunk.length === 0) return true;
    this.stats.bytes += chunk.length;
    const chunkBase = this.stats.bytes - chunk.length;
    if (this.state === S_RESYNC) {
      this.appendResync(chunk);
      this.scanResync(false);
      return !this.failed;
    }
    let off = 0;
    while (this.partLen > 0) {
      const take = Math.min(this.partNeed - this.partLen, chunk.length - off);
      this.part.set(take === chunk.length ? chunk : chunk.subarray(off, off + take), this.partLen);
      this.partLen += take;
      off += take;
      if (this.partLen < this.partNeed) return true;
      this.base = chunkBase + off - this.partLen;
      if (this.state === S_HEADER) {
        this.partLen = 0;
        if (!this.parseGlobalHeader(this.part, 0)) return false;
      } else if (this.partNeed === RECORD_HEADER) {
        const caplen = this.checkRecordHeader(this.part, 0);
        if (caplen < 0) {
          const bad = new Uint8Array(RECORD_HEADER + chunk.length - off);
          bad.set(this.part.subarray(0, RECORD_HEADER));
          bad.set(chunk.subarray(off), RECORD_HEADER);
          this.partLen = 0;
          this.beginResync(bad, 0, this.base);
          return !this.failed;
        }
        if (caplen === 0) {
          this.partLen = 0;
          this.emit(this.part, 0, 0);
        } else {
          const full = new Uint8Array(RECORD_HEADER + caplen);
          full.set(this.part.subarray(0, RECORD_HEADER));
          this.part = full;
          this.partNeed = RECORD_HEADER + caplen;
        }
      } else {
        const full = this.part;
        this.part = this.scratch;
        this.partLen = 0;
        this.emit(full, 0, full.length - RECORD_HEADER);
      }
    }
    if (off < chunk.length) this.parse(chunk, off, chunkBase);
    return !this.failed;
  }

  /** Signal the end of the stream. A truncated last record is counted, not thrown. */
  end(): boolean {
    if (this.state === S_FAILED) return false;
    if (this.state === S_ENDED) return true;
    while (this.state === S_RESYNC) {
      const before = this.rbuf;
      this.scanResync(true);
      // an accepted candidate may lead into another corrupt header: scan that one too
      if (this.state === S_RESYNC && this.rbuf === before) break;
    }
    if (this.state === S_RESYNC) {
      // nothing valid after the corrupt header: the rest is lost
      this.stats.skippedBytes += this.rskipped + this.rbuf.length - this.rpos;
      this.rbuf = EMPTY;
    }
    if (this.state === S_HEADER && this.partLen > 0) {
      return this.fail(
        'TRUNCATED_HEADER',
        `pcap stream ended inside its ${GLOBAL_HEADER}-byte global header (got ${this.partLen} bytes)`,
        0,
      );
    }
    if (this.state === S_RECORDS && this.partLen > 0) {
      this.stats.malformed++;
      this.stats.truncatedAtEnd = true;
      this.partLen = 0;
      this.part = this.scratch;
    }
    if (this.failed) return false;
    this.state = S_ENDED;
    return true;
  }

  /** Parse complete units from buf[off..]; stash an incomplete tail. */
  private parse(buf: Uint8Array, off: number, bufBase: number): void {
    const end = buf.length;
    if (this.state === S_HEADER) {
      if (end - off < GLOBAL_HEADER) {
        this.stash(buf, off, GLOBAL_HEADER);
        return;
      }
      this.base = bufBase;
      if (!this.parseGlobalHeader(buf, off)) return;
      off += GLOBAL_HEADER;
    }
    for (;;) {
      const rem = end - off;
      if (rem < RECORD_HEADER) {
        if (rem > 0) this.stash(buf, off, RECORD_HEADER);
        return;
      }
      const caplen = this.checkRecordHeader(buf, off);
      if (caplen < 0) {
        this.beginResync(buf, off, bufBase + off);
        return;
      }
      if (rem < RECORD_HEADER + caplen) {
        const full = new Uint8Array(RECORD_HEADER + caplen);
        full.set(buf.subarray(off, end));
        this.part = full;
        this.partLen = rem;
        this.partNeed = full.length;
        return;
      }
      this.emit(buf, off, caplen);
      off += RECORD_HEADER + caplen;
    }
  }

  private stash(buf: Uint8Array, off: number, need: number): void {
    this.part = this.scratch;
    this.part.set(buf.subarray(off), 0);
    this.partLen = buf.length - off;
    this.partNeed = need;
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private emit(b: Uint8Array, o: number, caplen: number): void {
    const r = this.rec;
    r.tsSec = this.u32(b, o);
    r.tsNsec = this.u32(b, o + 4) * this.fracMul;
    r.origLen = this.u32(b, o + 12);
    r.linktype = this.linktype;
    r.buffer = b;
    r.offset = o + RECORD_HEADER;
    r.caplen = caplen;
    this.lastTsSec = r.tsSec;
    this.stats.records++;
    this.onRecord(r);
  }

  /** caplen of a sane record header at b[o], or -1 when it is corrupt */
  private checkRecordHeader(b: Uint8Array, o: number): number {
    const frac = this.u32(b, o + 4);
    const caplen = this.u32(b, o + 8);
    const orig = this.u32(b, o + 12);
    if (frac >= this.fracLimit || caplen > this.maxCap || caplen > orig) return -1;
    return caplen;
  }

  private parseGlobalHeader(b: Uint8Array, o: number): boolean {
    const magicLe = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    let le: boolean;
    let ns: boolean;
    switch (magicLe) {
      case 0xa1b2c3d4: le = true; ns = false; break;
      case 0xd4c3b2a1: le = false; ns = false; break;
      case 0xa1b23c4d: le = true; ns = true; break;
      case 0x4d3cb2a1: le = false; ns = true; break;
      case 0x0a0d0d0a:
        return this.fail(
          'PCAPNG',
          'pcapng stream: only the classic pcap format is supported (tcpdump -w writes it unless told --pcapng / -w with an .pcapng-producing option)',
          0,
        );
      case 0xa1b2cd34:
      case 0x34cdb2a1:
        return this.fail('BAD_MAGIC', 'modified (Kuznetzov) pcap format is not supported; use classic pcap', 0);
      default: {
        const hex = Array.from(b.subarray(o, o + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
        return this.fail(
          'BAD_MAGIC',
          `not a pcap stream: global header magic bytes ${hex}; expected a1b2c3d4 (µs) or a1b23c4d (ns) in either byte order`,
          0,
        );
      }
    }
    this.le = le;
    const versionMajor = le ? b[o + 4]! | (b[o + 5]! << 8) : (b[o + 4]! << 8) | b[o + 5]!;
    const versionMinor = le ? b[o + 6]! | (b[o + 7]! << 8) : (b[o + 6]! << 8) | b[o + 7]!;
    const snaplen = this.u32(b, o + 16);
    const linktype = this.u32(b, o + 20) & 0xffff;
    this.header = { nanosecond: ns, littleEndian: le, versionMajor, versionMinor, snaplen, linktype };
    if (versionMajor !== 2) {
      return this.fail('BAD_VERSION', `unsupported pcap version ${versionMajor}.${versionMinor} (expected 2.x)`, 4);
    }
    if (this.linkTypes !== null && !this.linkTypes.includes(linktype)) {
      const supported = this.linkTypes.map((t) => `${t} (${linkTypeName(t)})`).join(', ');
      return this.fail(
        'UNSUPPORTED_LINKTYPE',
        `unsupported pcap link type ${linktype} (${linkTypeName(linktype)}); supported: ${supported}`,
        20,
        linktype,
      );
    }
    this.linktype = linktype;
    this.fracLimit = ns ? 1_000_000_000 : 1_000_000;
    this.fracMul = ns ? 1 : 1000;
    this.maxCap = snaplen > 0 ? Math.min(snaplen, this.maxRecord) : this.maxRecord;
    this.state = S_RECORDS;
    return true;
  }

  private fail(code: PcapErrorCode, message: string, offset: number, linktype?: number): false {
    this.error = new PcapFormatError(code, message, offset, linktype);
    this.state = S_FAILED;
    this.rbuf = EMPTY;
    this.part = this.scratch;
    this.partLen = 0;
    return false;
  }

  // ---- resynchronisation after a corrupt record header ----

  private beginResync(buf: Uint8Array, off: number, streamOffset: number): void {
    this.stats.malformed++;
    this.stats.resyncs++;
    this.state = S_RESYNC;
    // keep our own copy: the caller's chunk may be reused after push() returns
    this.rbuf = buf.slice(off);
    this.rpos = 1;
    this.rskipped = 1;
    this.rstart = streamOffset;
    this.scanResync(false);
  }

  private appendResync(chunk: Uint8Array): void {
    const keep = this.rbuf.length - this.rpos;
    const next = new Uint8Array(keep + chunk.length);
    next.set(this.rbuf.subarray(this.rpos));
    next.set(chunk, keep);
    this.rbuf = next;
    this.rpos = 0;
  }

  private plausible(b: Uint8Array, o: number): number {
    const caplen = this.checkRecordHeader(b, o);
    if (caplen < 0) return -1;
    if (this.lastTsSec >= 0 && Math.abs(this.u32(b, o) - this.lastTsSec) > RESYNC_TS_WINDOW_SEC) return -1;
    return caplen;
  }

  private scanResync(atEof: boolean): void {
    const b = this.rbuf;
    let p = this.rpos;
    while (p + RECORD_HEADER <= b.length) {
      const caplen = this.plausible(b, p);
      if (caplen >= 0) {
        const next = p + RECORD_HEADER + caplen;
        if (next + RECORD_HEADER <= b.length) {
          if (this.plausible(b, next) >= 0) return this.acceptResync(p);
        } else if (next === b.length && atEof) {
          return this.acceptResync(p);
        } else if (!atEof) {
          break; // wait for more bytes to confirm this candidate
        }
      }
      p++;
      this.rskipped++;
      if (this.rskipped > this.maxResync) {
        this.stats.skippedBytes += this.rskipped;
        this.fail(
          'RESYNC_FAILED',
          `pcap stream corrupt: no valid record header within ${this.maxResync} bytes after the corrupt one at offset ${this.rstart}`,
          this.rstart,
        );
        return;
      }
    }
    this.rpos = p;
  }

  private acceptResync(p: number): void {
    this.stats.skippedBytes += this.rskipped;
    const rest = this.rbuf.subarray(p);
    const restBase = this.stats.bytes - rest.length;
    this.rbuf = EMPTY;
    this.rpos = 0;
    this.state = S_RECORDS;
    this.parse(rest, 0, restBase);
  }
}

/**
 * Reads records from a byte source (a Node Readable, any async or sync iterable of
 * chunks, or one buffer). Each yielded record is its own object whose data is a view of
 * the source's chunk. A fatal format error is thrown from the iterator as a
 * PcapFormatError (never synchronously from a callback); `onStats` receives the final
 * counters.
 */
export async function* readPcap(
  source: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: PcapReaderOptions & { onStats?: (s: PcapReaderStats, header: PcapHeader | undefined) => void } = {},
): AsyncGenerator<PcapRecord, void, undefined> {
  let batch: PcapRecord[] = [];
  const reader = new PcapReader((r) => batch.push(r.clone()), options);
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = source instanceof Uint8Array ? [source] : source;
  for await (const chunk of chunks) {
    const ok = reader.push(chunk);
    const out = batch;
    batch = [];
    yield* out;
    if (!ok) break;
  }
  if (!reader.failed) reader.end();
  yield* batch;
  options.onStats?.(reader.stats, reader.header);
  if (reader.error) throw reader.error;
}
