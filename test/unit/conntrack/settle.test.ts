import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import { FlowTracker } from '../../../src/conntrack/tracker.js';
import type { ConntrackEvent, FlowRecord } from '../../../src/conntrack/types.js';

const dir = new URL('../../fixtures/conntrack/', import.meta.url);
const lines = (name: string): string[] => readFileSync(new URL(name, dir), 'utf8').split('\n');
const parseAll = (name: string, listing: boolean): ConntrackEvent[] =>
  lines(name)
    .map((l) => parseTextLine(l, { timeZone: 'utc', listing }))
    .filter((e): e is ConntrackEvent => e !== null && !(e instanceof ParseError));

describe('settling closed flows from a table listing', () => {
  it('parses listing lines only when asked to', () => {
    const line = lines('settle-listing.txt')[0]!;
    expect(parseTextLine(line)).toBeInstanceOf(ParseError);
    const ev = parseTextLine(line, { timeZone: 'utc', listing: true }) as ConntrackEvent;
    expect(ev).toMatchObject({ type: 'UPDATE', listed: true, id: 1842125795, tcpState: 'TIME_WAIT' });
    expect(ev.origCounters).toEqual({ packets: 6, bytes: 339 });
    expect(ev.replyCounters).toEqual({ packets: 6, bytes: 1312 });
  });

  it('finishes closed flows with the listed counters and ignores their later DESTROY', () => {
    const records: FlowRecord[] = [];
    const t = new FlowTracker({ serviceCidrs: ['10.96.0.0/12'], onRecord: (r) => records.push(r) });
    for (const ev of parseAll('settle-events.txt', false)) t.push(ev);
    expect(records).toHaveLength(0);

    const listed = parseAll('settle-listing.txt', true);
    expect(t.settle(listed)).toEqual({ settled: 3, open: 0, unseen: 0 });
    expect(records.map((r) => [r.id, r.end, r.orig?.bytes, r.replyDir?.bytes]).sort()).toEqual([
      [1218959662, 'settled', 339, 1312],
      [1842125795, 'settled', 339, 1312],
      [3595281959, 'settled', 339, 1312],
    ]);
    expect(records.every((r) => r.newNs! < r.seenReplyNs! && r.seenReplyNs! < r.firstFinNs!)).toBe(true);

    // a second listing finds nothing new; the DESTROY after TIME_WAIT is expected, not an orphan
    expect(t.settle(listed)).toEqual({ settled: 0, open: 0, unseen: 0 });
    for (const ev of listed) t.push({ ...ev, type: 'DESTROY', listed: false });
    expect(t.loss()).toMatchObject({ orphanEvents: 0, gaps: 0 });
    expect(records).toHaveLength(3);
  });

  it('leaves open flows live and counts listed flows it never saw begin', () => {
    const records: FlowRecord[] = [];
    const t = new FlowTracker({ onRecord: (r) => records.push(r) });
    const events = parseAll('settle-events.txt', false);
    // only the first flow's NEW..ESTABLISHED: still open when listed
    for (const ev of events.slice(0, 3)) t.push(ev);
    const listed = parseAll('settle-listing.txt', true).map((e) =>
      e.id === 1218959662 ? { ...e, tcpState: 'ESTABLISHED' } : e,
    );
    expect(t.settle(listed)).toEqual({ settled: 0, open: 1, unseen: 2 });
    expect(records).toHaveLength(0);
  });
});
