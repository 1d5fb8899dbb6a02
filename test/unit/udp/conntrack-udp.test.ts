// conntrack's UDP entries on real event output (test/fixtures/udp/udp-events.txt, recorded
// with the capture of the same exchanges): NEW [UNREPLIED] when the first request is
// confirmed, UPDATE without [UNREPLIED] at the first reply. The dropped request never got
// an entry (dropped in FORWARD, before confirmation).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import { conntrackFirstPacketSeconds, FlowTracker } from '../../../src/conntrack/tracker.js';
import type { ConntrackEvent, FlowRecord } from '../../../src/conntrack/types.js';
import { conntrackFlowJson } from '../../../src/agent/records.js';

const events = (url: URL): ConntrackEvent[] =>
  readFileSync(url, 'utf8')
    .split('\n')
    .map((l) => parseTextLine(l))
    .filter((e): e is ConntrackEvent => e !== null && !(e instanceof ParseError));
const udp = events(new URL('../../fixtures/udp/udp-events.txt', import.meta.url));

describe('conntrack UDP entries (real events)', () => {
  it('the kernel emits NEW, then UPDATE at the first reply', () => {
    expect(udp.map((e) => `${e.type} ${e.proto} ${e.seenReply}`)).toEqual([
      ...Array.from({ length: 6 }, () => ['NEW udp false', 'UPDATE udp true']).flat(),
    ]);
    expect(udp.some((e) => e.original.dst.addr === '10.96.0.21')).toBe(false);
  });

  it('finishes each flow at its first reply with finishUdpOnReply, NEW → reply in µs', () => {
    const records: FlowRecord[] = [];
    const t = new FlowTracker({ serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'], finishUdpOnReply: true, onRecord: (r) => records.push(r) });
    for (const e of udp) t.push(e);
    expect(records.map((r) => [r.original.src.port, r.end, r.dnat])).toEqual([
      [39287, 'replied', true],
      [52230, 'replied', true],
      [60451, 'replied', true],
      [52618, 'replied', true],
      [35828, 'replied', true],
      [52995, 'replied', true],
    ]);
    // [1795954669.248058] NEW → [1795954669.248665] UPDATE
    expect(conntrackFirstPacketSeconds(records[0]!)).toBeCloseTo(0.000607, 9);
    expect(conntrackFirstPacketSeconds(records[5]!)).toBeCloseTo(1.003284, 9);
    expect(conntrackFlowJson(records[0]!)).toMatchObject({ proto: 'udp', vipAddr: '10.96.0.20', vipPort: 53, backendAddr: '10.244.1.2', backendPort: 5353, end: 'replied' });
    expect(t.stats().live).toBe(0);
    expect(t.loss()).toEqual({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });
  });

  it('without it, UDP flows stay live until their DESTROY (30 s after the last datagram)', () => {
    const records: FlowRecord[] = [];
    const t = new FlowTracker({ onRecord: (r) => records.push(r) });
    for (const e of udp) t.push(e);
    expect(records).toEqual([]);
    expect(t.stats().live).toBe(6);
  });

  it('a DESTROY after the early finish is expected, not an orphan (recorded TCP + UDP events)', () => {
    const all = events(new URL('../../fixtures/conntrack/events.txt', import.meta.url));
    const records: FlowRecord[] = [];
    const t = new FlowTracker({ serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'], finishUdpOnReply: true, onRecord: (r) => records.push(r) });
    for (const e of all) t.push(e);
    const udpRecs = records.filter((r) => r.proto === 'udp');
    expect(udpRecs.map((r) => r.end)).toEqual(['replied', 'replied']);
    expect(records.filter((r) => r.proto === 'tcp').every((r) => r.end === 'destroy')).toBe(true);
    expect(t.loss().orphanEvents).toBe(0);
  });
});
