// Line parser for `conntrack -E -o xml,timestamp,id,ktimestamp` output. conntrack prints one
// complete `<flow>` element per line, between a `<?xml …?>` + `<conntrack>` header and a
// `</conntrack>` trailer (printed on exit). Events caused by user space (e.g. `conntrack -D`)
// get ` [USERSPACE] portid=… progname=…` appended AFTER `</flow>` on the same line, so the
// output is not well-formed XML. A line-oriented scanner copes with that and is ~13x faster
// than fast-xml-parser 5 on these lines (measured: 197k vs 15k lines per CPU-second).
//
// Real DESTROY line (conntrack v1.4.7, kernel 6.18, nf_conntrack_acct=1, nf_conntrack_timestamp=1):
//   <flow type="destroy"><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>fd00:1::2</src>
//   <dst>fd00:10:96::10</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>41824</sport><dport>80</dport>
//   </layer4><counters><packets>6</packets><bytes>540</bytes></counters></meta><meta direction="reply">…
//   <meta direction="independent"><state>TIME_WAIT</state><timeout>119</timeout><id>3692063190</id><assured/>
//   <timestamp><start>1795259979094435014</start><stop>1795259980811398211</stop></timestamp><deltatime>1</deltatime>
//   </meta><when><hour>11</hour><min>19</min><sec>40</sec><wday>7</wday><day>21</day><month>11</month>
//   <year>2026</year></when></flow> [USERSPACE] portid=3537971441
// (one line in the output). `<timestamp>` needs `ktimestamp` in -o; `<when>` (1 s resolution,
// the conntrack process's local time) needs `timestamp`; counters only with nf_conntrack_acct=1.
import type { ConntrackEvent, ConntrackEventType, Counters, Tuple } from './types.js';
import { ParseError, PORT_PROTOCOLS, calendarToNs, parseUint } from './parse-error.js';

export interface XmlParseOptions {
  /** time zone of `<when>` (the conntrack process's TZ); default 'utc' */
  timeZone?: 'utc' | 'local';
}

/** Text of the first `<tag>…</tag>` in [from, to), or undefined. `open` is `<tag>`. */
function inner(line: string, open: string, close: string, from: number, to: number): string | undefined {
  const a = line.indexOf(open, from);
  if (a < 0 || a >= to) return undefined;
  const s = a + open.length;
  const b = line.indexOf(close, s);
  if (b < 0 || b > to) return undefined;
  return line.substring(s, b);
}

/** `key` is `name="` */
function attr(line: string, key: string, from: number, to: number): string | undefined {
  const a = line.indexOf(key, from);
  if (a < 0 || a >= to) return undefined;
  const s = a + key.length;
  const b = line.indexOf('"', s);
  if (b < 0 || b > to) return undefined;
  return line.substring(s, b);
}

interface Dir {
  tuple: Tuple;
  l3: string;
  proto: string;
  counters?: Counters;
}

function parseDir(line: string, from: number, to: number): Dir | string {
  const l3a = line.indexOf('<layer3 ', from);
  if (l3a < 0 || l3a >= to) return 'missing layer3';
  const l3 = attr(line, 'protoname="', l3a, to);
  const src = inner(line, '<src>', '</src>', l3a, to);
  const dst = inner(line, '<dst>', '</dst>', l3a, to);
  if (l3 === undefined || !src || !dst) return 'missing address';
  const l4a = line.indexOf('<layer4 ', l3a);
  if (l4a < 0 || l4a >= to) return 'missing layer4';
  const proto = attr(line, 'protoname="', l4a, to);
  if (proto === undefined) return 'missing protocol';
  let sport = 0;
  let dport = 0;
  if (PORT_PROTOCOLS.has(proto)) {
    const sp = inner(line, '<sport>', '</sport>', l4a, to);
    const dp = inner(line, '<dport>', '</dport>', l4a, to);
    if (sp === undefined || dp === undefined) return 'missing ports';
    sport = parseUint(sp);
    dport = parseUint(dp);
    if (Number.isNaN(sport) || Number.isNaN(dport) || sport > 65535 || dport > 65535) return 'bad port';
  }
  const d: Dir = { tuple: { src: { addr: src, port: sport }, dst: { addr: dst, port: dport } }, l3, proto };
  const ca = line.indexOf('<counters>', l4a);
  if (ca >= 0 && ca < to) {
    const p = parseUint(inner(line, '<packets>', '</packets>', ca, to) ?? '');
    const b = parseUint(inner(line, '<bytes>', '</bytes>', ca, to) ?? '');
    if (Number.isNaN(p) || Number.isNaN(b)) return 'bad counters';
    d.counters = { packets: p, bytes: b };
  }
  return d;
}

/**
 * Parse one line of `conntrack -E -o xml,…` output.
 * @returns the event; `null` for the framing lines (`<?xml …?>`, `<conntrack>`, `</conntrack>`)
 * and blank lines; a ParseError (never throws) otherwise.
 */
export function parseXmlLine(line: string, opts: XmlParseOptions = {}): ConntrackEvent | ParseError | null {
  let pos = 0;
  const len = line.length;
  while (pos < len && (line.charCodeAt(pos) === 32 || line.charCodeAt(pos) === 9)) pos++;
  if (pos >= len || line.charCodeAt(pos) === 13) return null;
  if (!line.startsWith('<flow', pos)) {
    const rest = line.trim();
    if (rest.startsWith('<?xml') || rest === '<conntrack>' || rest === '</conntrack>') return null;
    return new ParseError('not a <flow> element', line);
  }
  const end = line.indexOf('</flow>', pos);
  if (end < 0) return new ParseError('unterminated <flow>', line);
  const tagEnd = line.indexOf('>', pos);
  const typeName = attr(line, 'type="', pos, tagEnd);
  let type: ConntrackEventType;
  switch (typeName) {
    case 'new':
      type = 'NEW';
      break;
    case 'update':
      type = 'UPDATE';
      break;
    case 'destroy':
      type = 'DESTROY';
      break;
    default:
      return new ParseError(`unknown flow type ${JSON.stringify(typeName ?? '')}`, line);
  }

  const oa = line.indexOf('<meta direction="original">', tagEnd);
  const ra = line.indexOf('<meta direction="reply">', tagEnd);
  const ia = line.indexOf('<meta direction="independent">', tagEnd);
  if (oa < 0 || oa > end) return new ParseError('missing original tuple', line);
  if (ra < 0 || ra > end) return new ParseError('missing reply tuple', line);
  const oEnd = line.indexOf('</meta>', oa);
  const rEnd = line.indexOf('</meta>', ra);
  const o = parseDir(line, oa, oEnd);
  if (typeof o === 'string') return new ParseError(`original: ${o}`, line);
  const r = parseDir(line, ra, rEnd);
  if (typeof r === 'string') return new ParseError(`reply: ${r}`, line);
  if (o.l3 !== 'ipv4' && o.l3 !== 'ipv6') return new ParseError(`unknown layer3 ${JSON.stringify(o.l3)}`, line);

  const iEnd = ia < 0 ? -1 : line.indexOf('</meta>', ia);
  if (ia < 0 || iEnd < 0 || iEnd > end) return new ParseError('missing id', line);
  const idText = inner(line, '<id>', '</id>', ia, iEnd);
  if (idText === undefined) return new ParseError('missing id', line);
  const id = parseUint(idText);
  if (Number.isNaN(id) || id > 0xffffffff) return new ParseError('bad id', line);

  const ev: ConntrackEvent = {
    type,
    id,
    l3: o.l3,
    proto: o.proto,
    original: o.tuple,
    reply: r.tuple,
    seenReply: true,
    assured: false,
  };
  const state = inner(line, '<state>', '</state>', ia, iEnd);
  if (state !== undefined) ev.tcpState = state;
  const timeout = inner(line, '<timeout>', '</timeout>', ia, iEnd);
  if (timeout !== undefined) {
    const v = parseUint(timeout);
    if (Number.isNaN(v)) return new ParseError('bad timeout', line);
    ev.timeout = v;
  }
  const mark = inner(line, '<mark>', '</mark>', ia, iEnd);
  if (mark !== undefined) {
    const v = parseUint(mark);
    if (Number.isNaN(v)) return new ParseError('bad mark', line);
    ev.mark = v;
  }
  const zone = inner(line, '<zone>', '</zone>', ia, iEnd);
  if (zone !== undefined) {
    const v = parseUint(zone);
    if (Number.isNaN(v)) return new ParseError('bad zone', line);
    ev.zone = v;
  }
  const un = line.indexOf('<unreplied/>', ia);
  if (un >= 0 && un < iEnd) ev.seenReply = false;
  const as = line.indexOf('<assured/>', ia);
  if (as >= 0 && as < iEnd) ev.assured = true;
  const ts = line.indexOf('<timestamp>', ia);
  if (ts >= 0 && ts < iEnd) {
    const start = inner(line, '<start>', '</start>', ts, iEnd);
    const stop = inner(line, '<stop>', '</stop>', ts, iEnd);
    try {
      if (start !== undefined) ev.kernelStartNs = BigInt(start);
      if (stop !== undefined) ev.kernelStopNs = BigInt(stop);
    } catch {
      return new ParseError('bad <timestamp>', line);
    }
    ev.kernelTimeResolutionNs = 1;
  }
  if (o.counters) ev.origCounters = o.counters;
  if (r.counters) ev.replyCounters = r.counters;

  const wa = line.indexOf('<when>', iEnd);
  if (wa >= 0 && wa < end) {
    const we = line.indexOf('</when>', wa);
    const f = (open: string, close: string): number => parseUint(inner(line, open, close, wa, we) ?? '');
    const y = f('<year>', '</year>'), mo = f('<month>', '</month>'), d = f('<day>', '</day>');
    const h = f('<hour>', '</hour>'), mi = f('<min>', '</min>'), s = f('<sec>', '</sec>');
    if ([y, mo, d, h, mi, s].some(Number.isNaN)) return new ParseError('bad <when>', line);
    const ns = calendarToNs(opts.timeZone ?? 'utc', y, mo - 1, d, h, mi, s);
    if (ns === undefined) return new ParseError('bad <when>', line);
    ev.recvNs = ns;
    ev.recvResolutionNs = 1_000_000_000;
  }
  if (line.indexOf('[USERSPACE]', end) > 0) ev.userspace = true;
  return ev;
}
