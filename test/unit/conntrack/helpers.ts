import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import { parseXmlLine } from '../../../src/conntrack/parse-xml.js';
import type { ConntrackEvent } from '../../../src/conntrack/types.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/conntrack/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export function fixtureLines(name: string): string[] {
  const text = fixture(name);
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

/** Parses every line of a fixture; fails on anything malformed. */
export function fixtureEvents(name: string): ConntrackEvent[] {
  const parse = name.endsWith('.xml') ? parseXmlLine : parseTextLine;
  const out: ConntrackEvent[] = [];
  for (const line of fixtureLines(name)) {
    const r = parse(line);
    if (r === null) continue;
    if (r instanceof ParseError) throw new Error(`${name}: ${r.reason}: ${r.line}`);
    out.push(r);
  }
  return out;
}

/** Flow ids in the fixtures (see test/fixtures/conntrack/README.md). */
export const ID = {
  tcp5000: 1128957441,
  tcp100k: 1102670307,
  podDirect: 2766252155,
  refused: 578275398,
  tcp6: 3692063190,
  udp4: 2137277895,
  udp6: 1264501504,
} as const;
