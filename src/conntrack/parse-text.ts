// Line parser for `conntrack -E -o timestamp,id,extended` text output (also accepts the
// output without `timestamp`/`extended`, with `ktimestamp`, and with counters).
//
// Real lines (conntrack v1.4.7, kernel 6.18; see test/fixtures/conntrack/):
//   [1795259978.712876]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.0.1.2 dst=10.96.0.10 sport=39044 dport=80 [UNREPLIED] src=10.244.1.2 dst=10.0.1.2 sport=8080 dport=39044 id=1128957441
//   [1795259980.716102]\t[DESTROY] ipv4     2 tcp      6 118 TIME_WAIT src=… dport=80 packets=5 bytes=368 src=… dport=39044 packets=5 bytes=5268 [ASSURED] delta-time=2 id=1128957441 [USERSPACE] portid=3612076463
// Grammar (libnetfilter_conntrack snprintf_default):
//   ['[' sec.usec ']' TAB] pad '[' TYPE ']' [l3name l3num] l4name l4num [timeout] [STATE]
//   tuple [packets= bytes=] [UNREPLIED] tuple [packets= bytes=] [ASSURED] [mark=] [secctx=]
//   [zone=] [delta-time=] [start=ctime] [stop=ctime] [use=] [id=] [USERSPACE [portid=] [progname=]]
//   tuple := src= dst= (sport= dport= | type= code= id= | …)
// ICMP tuples carry their own `id=` right after `code=`; the conntrack id is the other one.
import type { ConntrackEvent, ConntrackEventType, Counters, Endpoint } from './types.js';
import { ParseError, PORT_PROTOCOLS, calendarToNs, parseUint } from './parse-error.js';

export interface TextParseOptions {
  /** time zone of `[start=…]`/`[stop=…]` ctime strings (the conntrack process's TZ); default 'utc' */
  timeZone?: 'utc' | 'local';
  /**
   * Lines come from a table listing (`conntrack -L -o extended,id,ktimestamp`), which has no
   * `[NEW]`/`[UPDATE]`/`[DESTROY]` tag: they parse as UPDATE events with `listed: true`.
   */
  listing?: boolean;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** `sec.usec` between [a, b) → epoch ns, or undefined. */
function parseSecUsec(line: string, a: number, b: number): bigint | undefined {
  let sec = 0;
  let i = a;
  for (; i < b; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c === -2) break; // '.'
    if (c < 0 || c > 9) return undefined;
    sec = sec * 10 + c;
  }
  if (i === a) return undefined;
  let frac = 0;
  let digits = 0;
  for (i++; i < b; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || ++digits > 9) return undefined;
    frac = frac * 10 + c;
  }
  if (digits <= 6) {
    // µs resolution (what conntrack prints): one exact double, one BigInt
    const us = sec * 1_000_000 + frac * 10 ** (6 - digits);
    if (Number.isSafeInteger(us)) return BigInt(us) * 1000n;
  }
  return BigInt(sec) * 1_000_000_000n + BigInt(frac * 10 ** (9 - digits));
}

/** ctime tokens `Sat Nov 21 11:19:38 2026` (weekday optional) → epoch ns. */
function parseCtime(parts: string[], zone: 'utc' | 'local'): bigint | undefined {
  const p = parts.length === 5 ? parts.slice(1) : parts;
  if (p.length !== 4) return undefined;
  const [mon, day, hms, year] = p as [string, string, string, string];
  const m = MONTHS[mon];
  const hm = hms.split(':');
  if (m === undefined || hm.length !== 3) return undefined;
  const nums = [parseUint(year), parseUint(day), parseUint(hm[0] ?? ''), parseUint(hm[1] ?? ''), parseUint(hm[2] ?? '')];
  if (nums.some(Number.isNaN)) return undefined;
  return calendarToNs(zone, nums[0]!, m, nums[1]!, nums[2]!, nums[3]!, nums[4]!);
}

/** Decimal digits in [a, b) → number, or NaN. */
function uintAt(line: string, a: number, b: number): number {
  if (a >= b || b - a > 15) return NaN;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

function protoName(line: string, a: number, b: number): string {
  // interned names for the common protocols (no allocation)
  const n = b - a;
  if (n === 3 && line.startsWith('tcp', a)) return 'tcp';
  if (n === 3 && line.startsWith('udp', a)) return 'udp';
  if (n === 4 && line.startsWith('icmp', a)) return 'icmp';
  return line.substring(a, b);
}

const STATES = ['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];

function stateName(line: string, a: number, b: number): string {
  for (const st of STATES) if (st.length === b - a && line.startsWith(st, a)) return st;
  return line.substring(a, b);
}

/**
 * Parse one line of `conntrack -E` text output. A single pass over the line, without a token
 * array; only addresses are copied out.
 * @returns the event; `null` for a blank line; a ParseError (never throws) otherwise.
 */
export function parseTextLine(line: string, opts: TextParseOptions = {}): ConntrackEvent | ParseError | null {
  let len = line.length;
  if (len > 0 && line.charCodeAt(len - 1) === 13) len--; // CRLF
  let i = 0;
  while (i < len && isSpace(line.charCodeAt(i))) i++;
  if (i >= len) return null;

  let recvNs: bigint | undefined;
  // `[1795259978.712876]` user-space timestamp
  if (line.charCodeAt(i) === 91 /* [ */) {
    const c1 = line.charCodeAt(i + 1);
    if (c1 >= 48 && c1 <= 57) {
      const close = line.indexOf(']', i);
      if (close < 0 || close >= len) return new ParseError('unterminated timestamp', line);
      recvNs = parseSecUsec(line, i + 1, close);
      if (recvNs === undefined) return new ParseError('bad timestamp', line);
      i = close + 1;
      while (i < len && isSpace(line.charCodeAt(i))) i++;
      if (i >= len) return new ParseError('timestamp without event', line);
    }
  }
  // [NEW] / [UPDATE] / [DESTROY]
  let type: ConntrackEventType;
  if (line.startsWith('[NEW]', i)) {
    type = 'NEW';
    i += 5;
  } else if (line.startsWith('[UPDATE]', i)) {
    type = 'UPDATE';
    i += 8;
  } else if (line.startsWith('[DESTROY]', i)) {
    type = 'DESTROY';
    i += 9;
  } else if (opts.listing && line.charCodeAt(i) !== 91 /* [ */) {
    type = 'UPDATE';
  } else {
    return new ParseError(`unknown event type ${JSON.stringify(line.substring(i, Math.min(len, i + 20)))}`, line);
  }

  // header: [l3name l3num] l4name l4num [timeout] [STATE]
  let l3: 'ipv4' | 'ipv6' | undefined;
  let proto: string | undefined;
  let timeout: number | undefined;
  let tcpState: string | undefined;
  let field = 0; // 0: l3/l4 name, 1: l4num (or l3num), 2: after l4num
  let s = 0;
  let e: number;
  let rescan = false;
  for (;;) {
    while (i < len && isSpace(line.charCodeAt(i))) i++;
    if (i >= len) break;
    s = i;
    while (i < len && !isSpace(line.charCodeAt(i))) i++;
    e = i;
    const c0 = line.charCodeAt(s);
    if (field === 0) {
      if (e - s === 4 && line.startsWith('ipv', s) && l3 === undefined) {
        l3 = line.charCodeAt(s + 3) === 52 ? 'ipv4' : line.charCodeAt(s + 3) === 54 ? 'ipv6' : undefined;
        if (l3 === undefined) return new ParseError('unknown layer 3', line);
        // skip the l3 number
        while (i < len && isSpace(line.charCodeAt(i))) i++;
        while (i < len && !isSpace(line.charCodeAt(i))) i++;
        continue;
      }
      if (c0 === 91 || hasEq(line, s, e)) return new ParseError('missing protocol', line);
      proto = protoName(line, s, e);
      field = 1;
      continue;
    }
    if (field === 1) {
      if (Number.isNaN(uintAt(line, s, e))) return new ParseError('missing protocol', line);
      field = 2;
      continue;
    }
    if (c0 >= 48 && c0 <= 57 && timeout === undefined && tcpState === undefined) {
      timeout = uintAt(line, s, e);
      if (Number.isNaN(timeout)) return new ParseError('bad timeout', line);
      continue;
    }
    if (c0 !== 91 && tcpState === undefined && !hasEq(line, s, e)) {
      tcpState = stateName(line, s, e);
      continue;
    }
    rescan = true; // first tuple / flag token: rescan it below
    break;
  }
  if (proto === undefined || field < 2) return new ParseError('missing protocol', line);
  if (rescan) i = s;

  // tuples and the rest
  let tuple = -1;
  let oSrc: string | undefined, oDst: string | undefined, rSrc: string | undefined, rDst: string | undefined;
  let oSport = -1, oDport = -1, rSport = -1, rDport = -1;
  let oPk = -1, oBy = -1, rPk = -1, rBy = -1;
  let unreplied = false;
  let assured = false;
  let userspace = false;
  let id = -1;
  let mark: number | undefined;
  let zone: number | undefined;
  let kernelStartNs: bigint | undefined;
  let kernelStopNs: bigint | undefined;
  let afterCode = false;
  while (i < len) {
    while (i < len && isSpace(line.charCodeAt(i))) i++;
    if (i >= len) break;
    s = i;
    while (i < len && !isSpace(line.charCodeAt(i))) i++;
    e = i;
    const c0 = line.charCodeAt(s);
    if (c0 === 91 /* [ */) {
      afterCode = false;
      const n = e - s;
      if (n === 11 && line.startsWith('[UNREPLIED]', s)) unreplied = true;
      else if (n === 9 && line.startsWith('[ASSURED]', s)) assured = true;
      else if (n === 11 && line.startsWith('[USERSPACE]', s)) userspace = true;
      else if (line.startsWith('[start=', s) || line.startsWith('[stop=', s)) {
        const isStart = line.charCodeAt(s + 3) === 97; // [sta(r)t vs [sto(p)
        const close = line.indexOf(']', s);
        if (close < 0 || close >= len) return new ParseError('unterminated [start=/[stop=', line);
        const ns = parseCtime(line.substring(s + (isStart ? 7 : 6), close).split(' ').filter(Boolean), opts.timeZone ?? 'utc');
        if (ns === undefined) return new ParseError('bad kernel timestamp', line);
        if (isStart) kernelStartNs = ns;
        else kernelStopNs = ns;
        i = close + 1;
      }
      // other flags ([OFFLOAD], [HW_OFFLOAD], …) carry nothing we use
      continue;
    }
    const eq = line.indexOf('=', s);
    if (eq < 0 || eq >= e) return new ParseError(`unexpected token ${JSON.stringify(line.substring(s, Math.min(e, s + 40)))}`, line);
    const k = eq - s;
    const v = eq + 1;
    const wasAfterCode = afterCode;
    afterCode = false;
    switch (c0) {
      case 115: // s
        if (k === 3 && line.charCodeAt(s + 1) === 114) {
          // src=
          if (v === e) return new ParseError('empty src=', line);
          tuple++;
          if (tuple === 0) oSrc = line.substring(v, e);
          else if (tuple === 1) rSrc = line.substring(v, e);
          else return new ParseError('more than two tuples', line);
        } else if (k === 5 && line.startsWith('sport', s)) {
          const p = uintAt(line, v, e);
          if (Number.isNaN(p) || p > 65535) return new ParseError('bad sport=', line);
          if (tuple === 0) oSport = p;
          else if (tuple === 1) rSport = p;
          else return new ParseError('sport= before src=', line);
        }
        break;
      case 100: // d
        if (k === 3 && line.charCodeAt(s + 1) === 115) {
          // dst=
          if (v === e) return new ParseError('empty dst=', line);
          if (tuple === 0) oDst = line.substring(v, e);
          else if (tuple === 1) rDst = line.substring(v, e);
          else return new ParseError('dst= before src=', line);
        } else if (k === 5 && line.startsWith('dport', s)) {
          const p = uintAt(line, v, e);
          if (Number.isNaN(p) || p > 65535) return new ParseError('bad dport=', line);
          if (tuple === 0) oDport = p;
          else if (tuple === 1) rDport = p;
          else return new ParseError('dport= before src=', line);
        }
        break;
      case 112: // p
        if (k === 7 && line.startsWith('packets', s)) {
          const p = uintAt(line, v, e);
          if (Number.isNaN(p)) return new ParseError('bad packets=', line);
          if (tuple === 0) oPk = p;
          else if (tuple === 1) rPk = p;
        }
        break;
      case 98: // b
        if (k === 5 && line.startsWith('bytes', s)) {
          const p = uintAt(line, v, e);
          if (Number.isNaN(p)) return new ParseError('bad bytes=', line);
          if (tuple === 0) oBy = p;
          else if (tuple === 1) rBy = p;
        }
        break;
      case 105: // i
        if (k === 2 && line.charCodeAt(s + 1) === 100) {
          if (wasAfterCode) break; // ICMP tuple id (`type= code= id=`)
          id = uintAt(line, v, e);
          if (Number.isNaN(id) || id > 0xffffffff) return new ParseError('bad id=', line);
        }
        break;
      case 99: // c
        if (k === 4 && line.startsWith('code', s)) afterCode = true;
        break;
      case 109: // m
        if (k === 4 && line.startsWith('mark', s)) {
          mark = uintAt(line, v, e);
          if (Number.isNaN(mark)) return new ParseError('bad mark=', line);
        }
        break;
      case 122: // z
        if (k === 4 && line.startsWith('zone', s)) {
          zone = uintAt(line, v, e);
          if (Number.isNaN(zone)) return new ParseError('bad zone=', line);
        }
        break;
      default:
      // type=, use=, delta-time=, portid=, progname=, secctx=, labels=, zone-orig=, …
    }
  }

  if (oSrc === undefined || oDst === undefined) return new ParseError('missing original tuple', line);
  if (rSrc === undefined || rDst === undefined) return new ParseError('missing reply tuple', line);
  const ports = PORT_PROTOCOLS.has(proto);
  if (ports && (oSport < 0 || oDport < 0 || rSport < 0 || rDport < 0)) return new ParseError('missing ports', line);
  if (id < 0) return new ParseError('missing id', line);
  if (l3 === undefined) l3 = oSrc.indexOf(':') >= 0 ? 'ipv6' : 'ipv4';

  const ev: ConntrackEvent = {
    type,
    id,
    l3,
    proto,
    original: { src: ep(oSrc, oSport), dst: ep(oDst, oDport) },
    reply: { src: ep(rSrc, rSport), dst: ep(rDst, rDport) },
    seenReply: !unreplied,
    assured,
  };
  if (recvNs !== undefined) {
    ev.recvNs = recvNs;
    ev.recvResolutionNs = 1_000;
  }
  if (tcpState !== undefined) ev.tcpState = tcpState;
  if (timeout !== undefined) ev.timeout = timeout;
  if (oPk >= 0 || oBy >= 0) ev.origCounters = counters(oPk, oBy);
  if (rPk >= 0 || rBy >= 0) ev.replyCounters = counters(rPk, rBy);
  if (kernelStartNs !== undefined) ev.kernelStartNs = kernelStartNs;
  if (kernelStopNs !== undefined) ev.kernelStopNs = kernelStopNs;
  if (kernelStartNs !== undefined || kernelStopNs !== undefined) ev.kernelTimeResolutionNs = 1_000_000_000;
  if (mark !== undefined) ev.mark = mark;
  if (zone !== undefined) ev.zone = zone;
  if (userspace) ev.userspace = true;
  if (opts.listing) ev.listed = true;
  return ev;
}

function hasEq(line: string, s: number, e: number): boolean {
  const q = line.indexOf('=', s);
  return q >= 0 && q < e;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function ep(addr: string, port: number): Endpoint {
  return { addr, port: port < 0 ? 0 : port };
}

function counters(packets: number, bytes: number): Counters {
  return { packets: packets < 0 ? 0 : packets, bytes: bytes < 0 ? 0 : bytes };
}
