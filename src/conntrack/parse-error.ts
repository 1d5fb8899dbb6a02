// The result of a line that could not be used. Parsers return it instead of throwing, so the
// caller can count malformed input (LossReport.malformed) and keep going.

export class ParseError {
  /** at most this many characters of the offending line are kept */
  static readonly MAX_LINE = 300;
  readonly line: string;
  constructor(
    readonly reason: string,
    line: string,
  ) {
    this.line = line.length > ParseError.MAX_LINE ? `${line.slice(0, ParseError.MAX_LINE)}…` : line;
  }
}

export function isParseError(v: unknown): v is ParseError {
  return v instanceof ParseError;
}

/** Protocols whose conntrack tuples carry sport=/dport= (text) or <sport>/<dport> (XML). */
export const PORT_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp']);

/**
 * Epoch nanoseconds from a broken-down calendar time (conntrack's `<when>` and the text
 * `[start=Sat Nov 21 11:19:38 2026]` are printed in the conntrack process's local time zone;
 * the collector runs conntrack with TZ=UTC).
 */
export function calendarToNs(
  zone: 'utc' | 'local',
  year: number,
  month0: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
): bigint | undefined {
  const ms =
    zone === 'utc'
      ? Date.UTC(year, month0, day, hour, min, sec)
      : new Date(year, month0, day, hour, min, sec).getTime();
  return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : undefined;
}

/** Non-negative decimal integer, or NaN. Faster than Number() and rejects '', '1e3', '0x1', '-1'. */
export function parseUint(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return n > 15 && /^\d+$/.test(s) ? Number(s) : NaN;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}
