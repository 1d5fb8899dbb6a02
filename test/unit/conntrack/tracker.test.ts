import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import {
  FlowTracker,
  conntrackFirstPacketSeconds,
  conntrackTotalSeconds,
  throughputBytesPerSecond,
  type FlowTrackerOptions,
} from '../../../src/conntrack/tracker.js';
import type { ConntrackEvent, FlowRecord } from '../../../src/conntrack/types.js';
import { fixtureEvents, fixtureLines, ID } from './helpers.js';

function track(events: ConntrackEvent[], opts: FlowTrackerOptions = {}) {
  const records: FlowRecord[] = [];
  const t = new FlowTracker({ ...opts, onRecord: (r) => records.push(r) });
  for (const e of events) t.push(e);
  return { t, records, byId: (id: number) => records.find((r) => r.id === id)! };
}

const text = fixtureEvents('events.txt');
const xml = fixtureEvents('events.xml');

describe('FlowTracker on the recorded text events', () => {
  const { t, records, byId } = track(text);

  it('builds one finished record per flow, nothing lost', () => {
    expect(records).toHaveLength(7);
    expect(records.every((r) => r.end === 'destroy')).toBe(true);
    expect(t.loss()).toEqual({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });
    expect(t.stats()).toMatchObject({ events: 37, live: 0, records: 7, filteredEvents: 0 });
  });

  it('joins the DNAT-ed TCP flow exactly', () => {
    expect(byId(ID.tcp5000)).toEqual({
      id: ID.tcp5000,
      l3: 'ipv4',
      proto: 'tcp',
      original: { src: { addr: '10.0.1.2', port: 39044 }, dst: { addr: '10.96.0.10', port: 80 } },
      reply: { src: { addr: '10.244.1.2', port: 8080 }, dst: { addr: '10.0.1.2', port: 39044 } },
      dnat: true,
      newNs: 1795259978712876000n,
      seenReplyNs: 1795259978712926000n, // SYN_RECV
      firstFinNs: 1795259978719333000n, // FIN_WAIT
      destroyNs: 1795259980716102000n,
      orig: { packets: 5, bytes: 368 },
      replyDir: { packets: 5, bytes: 5268 },
      end: 'destroy',
      deletedByUserspace: true,
      assured: true,
      lastTcpState: 'TIME_WAIT',
      recvResolutionNs: 1000,
      events: 7,
    });
  });

  it('marks DNAT per flow and carries what was sent', () => {
    expect(records.filter((r) => r.dnat).map((r) => r.id).sort()).toEqual(
      [ID.tcp5000, ID.tcp100k, ID.refused, ID.tcp6, ID.udp4, ID.udp6].sort(),
    );
    expect(byId(ID.podDirect).dnat).toBe(false);
    // server sent 100,000 payload bytes in 10 packets: 100,000 + 10 × 52 header bytes
    expect(byId(ID.tcp100k).replyDir).toEqual({ packets: 10, bytes: 100528 });
    expect(byId(ID.tcp100k).orig).toEqual({ packets: 10, bytes: 2528 });
    expect(byId(ID.tcp6).replyDir).toEqual({ packets: 5, bytes: 7368 });
    // UDP: 40 payload + 8 UDP + 20 IPv4; 60 + 8 + 40 IPv6
    expect(byId(ID.udp4).orig).toEqual({ packets: 1, bytes: 68 });
    expect(byId(ID.udp6).replyDir).toEqual({ packets: 1, bytes: 108 });
    expect(byId(ID.udp4).zone).toBe(7);
    expect(byId(ID.refused).mark).toBe(42);
  });

  it('treats the refused flow: no reply seen, closed by the RST', () => {
    const r = byId(ID.refused);
    expect(r.seenReplyNs).toBeUndefined();
    expect(r.firstFinNs).toBe(1795259978999491000n);
    expect(r.deletedByUserspace).toBeUndefined();
    expect(conntrackFirstPacketSeconds(r)).toBeUndefined();
    expect(conntrackTotalSeconds(r)).toBeCloseTo(15e-6, 12);
  });

  it('derives the SLI figures', () => {
    const r = byId(ID.tcp5000);
    expect(conntrackFirstPacketSeconds(r)).toBeCloseTo(50e-6, 12);
    expect(conntrackTotalSeconds(r)).toBeCloseTo(6457e-6, 12);
    // text mode: no ns kernel times, so 'auto' uses NEW → first FIN
    expect(throughputBytesPerSecond(r)).toBeCloseTo(5636 / 0.006457, 3);
    expect(throughputBytesPerSecond(r, { span: 'kernel' })).toBeUndefined();
    // the IPv6 SYN was retransmitted: conntrack sees it as 1.002 s to the reply
    expect(conntrackFirstPacketSeconds(byId(ID.tcp6))).toBeCloseTo(1.002096, 9);
    // UDP: reply seen, no close
    expect(conntrackFirstPacketSeconds(byId(ID.udp4))).toBeCloseTo(0.009354, 9);
    expect(conntrackTotalSeconds(byId(ID.udp4))).toBeUndefined();
    expect(throughputBytesPerSecond(byId(ID.udp4))).toBeUndefined();
  });
});

describe('FlowTracker on the recorded XML events', () => {
  const { t, byId } = track(xml);
  it('gets ns kernel times and refuses 1-second user-space times', () => {
    expect(t.loss().gaps + t.loss().orphanEvents).toBe(0);
    const r = byId(ID.tcp5000);
    expect(r.kernelStartNs).toBe(1795259978712736079n);
    expect(r.kernelStopNs).toBe(1795259980714307677n);
    // kernel span ends at the deletion (after TIME_WAIT began): diluted, as documented
    expect(throughputBytesPerSecond(r)).toBeCloseTo(5636 / 2.001571598, 6);
    expect(conntrackFirstPacketSeconds(r)).toBeUndefined();
    expect(conntrackTotalSeconds(r)).toBeUndefined();
    expect(conntrackFirstPacketSeconds(r, { maxResolutionNs: 1e9 })).toBe(0);
  });
});

describe('service CIDR filter', () => {
  it('keeps only flows to the Service ranges and does not count the others as orphans', () => {
    const { t, records } = track(text, { serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'] });
    expect(records.map((r) => r.id).sort()).toEqual(
      [ID.tcp5000, ID.tcp100k, ID.refused, ID.tcp6, ID.udp4, ID.udp6].sort(),
    );
    expect(t.stats().filteredEvents).toBe(7); // the pod-direct flow's NEW, 5 UPDATEs, DESTROY
    expect(t.loss().orphanEvents).toBe(0);
  });

  it('IPv4 range only', () => {
    const { records } = track(text, { serviceCidrs: ['10.96.0.0/12'] });
    expect(records.map((r) => r.id).sort()).toEqual([ID.tcp5000, ID.tcp100k, ID.refused, ID.udp4].sort());
  });

  it('drops later events of a filtered flow whose NEW we never saw, without counting orphans', () => {
    const later = text.filter((e) => e.id === ID.podDirect && e.type !== 'NEW');
    const { t, records } = track(later, { serviceCidrs: ['10.96.0.0/12'] });
    expect(records).toHaveLength(0);
    expect(t.loss().orphanEvents).toBe(0);
    expect(t.stats().filteredEvents).toBe(6);
  });
});

describe('losses', () => {
  it('counts orphans, and not those before startedAtNs', () => {
    const noNew = text.filter((e) => !(e.type === 'NEW' && (e.id === ID.tcp5000 || e.id === ID.udp4)));
    const a = track(noNew);
    expect(a.t.loss().orphanEvents).toBe(6 + 2); // tcp5000: 5 UPDATE + DESTROY; udp4: UPDATE + DESTROY
    expect(a.records).toHaveLength(5);

    // watching began after tcp5000's first UPDATE arrived: that one is pre-start; the
    // rest of that flow arrived later and still counts (we cannot tell from text mode)
    const b = track(noNew, { startedAtNs: 1795259978712926000n });
    expect(b.t.loss().orphanEvents).toBe(7);
    expect(b.t.stats().preStartEvents).toBe(1);
    const c = track(noNew, { startedAtNs: 1795259978712926000n, startGraceNs: 10_000_000n });
    // 10 ms grace covers tcp5000's five UPDATEs (…712926 to …721060), not its DESTROY or udp4
    expect(c.t.loss().orphanEvents).toBe(1 + 2);
    expect(c.t.stats().preStartEvents).toBe(5);
  });

  it('uses the ns kernel start to call a DESTROY pre-start', () => {
    const destroy = xml.find((e) => e.id === ID.tcp5000 && e.type === 'DESTROY')!;
    const before = track([destroy], { startedAtNs: 1795259978712736080n });
    expect(before.t.loss().orphanEvents).toBe(0);
    expect(before.t.stats().preStartEvents).toBe(1);
    const after = track([destroy], { startedAtNs: 1795259978712736079n });
    expect(after.t.loss().orphanEvents).toBe(1);
  });

  it('keepOrphans builds partial records', () => {
    const noNew = text.filter((e) => !(e.type === 'NEW' && e.id === ID.tcp5000));
    const { t, byId } = track(noNew, { keepOrphans: true });
    const r = byId(ID.tcp5000);
    expect(r).toMatchObject({ orphan: true, end: 'destroy', events: 6, orig: { bytes: 368 } });
    expect(r.newNs).toBeUndefined();
    expect(conntrackFirstPacketSeconds(r)).toBeUndefined();
    expect(t.loss().orphanEvents).toBe(6);
    expect(t.loss().gaps).toBe(0);
  });

  it('detects lost UPDATEs from what the DESTROY shows (one gap per flow)', () => {
    const onlyNewDestroy = text.filter((e) => !(e.type === 'UPDATE' && e.id === ID.tcp5000));
    const { t, byId } = track(onlyNewDestroy);
    expect(t.loss().gaps).toBe(1);
    expect(byId(ID.tcp5000).seenReplyNs).toBeUndefined(); // not the DESTROY time
    expect(byId(ID.tcp5000).firstFinNs).toBeUndefined();
    // lost FIN updates only
    const noFin = text.filter((e) => !(e.type === 'UPDATE' && e.id === ID.tcp5000 && e.tcpState !== 'SYN_RECV'));
    expect(track(noFin).t.loss().gaps).toBe(1);
  });

  it('counts malformed lines and overruns handed to it', () => {
    const t = new FlowTracker();
    for (const line of ['garbage', fixtureLines('events.txt')[0]!.replace(/ id=\d+$/, ''), '[NEW] tcp 6']) {
      const r = parseTextLine(line);
      expect(r).toBeInstanceOf(ParseError);
      t.pushParseError(r as ParseError);
    }
    t.countOverrun(13);
    expect(t.loss()).toMatchObject({ malformed: 3, overruns: 13 });
    expect(t.recentParseErrors().map((e) => e.reason)).toEqual([
      'unknown event type "garbage"',
      'missing id',
      'missing original tuple',
    ]);
  });
});

describe('id reuse and memory bounds', () => {
  const flow = text.filter((e) => e.id === ID.tcp5000);

  it('reuse after DESTROY (what the kernel does) is two clean records', () => {
    const { t, records } = track([...flow, ...flow]);
    expect(records).toHaveLength(2);
    expect(records.map((r) => r.end)).toEqual(['destroy', 'destroy']);
    expect(t.loss().gaps).toBe(0);
  });

  it('a NEW on a live id finalizes the old flow as replaced and counts a gap', () => {
    const other = text.filter((e) => e.id === ID.tcp100k).map((e) => ({ ...e, id: ID.tcp5000 }));
    const firstHalf = flow.filter((e) => e.type !== 'DESTROY');
    const { t, records } = track([...firstHalf, ...other]);
    expect(records.map((r) => [r.end, r.original.src.port])).toEqual([
      ['replaced', 39044],
      ['destroy', 39056],
    ]);
    expect(records[0]!.destroyNs).toBeUndefined();
    expect(t.loss().gaps).toBe(1);
  });

  it('an UPDATE whose tuple does not match the live id is a gap and an orphan', () => {
    const upd = text.find((e) => e.id === ID.tcp100k && e.type === 'UPDATE')!;
    const { t, records } = track([flow[0]!, { ...upd, id: ID.tcp5000 }]);
    expect(records.map((r) => r.end)).toEqual(['replaced']);
    expect(t.loss()).toMatchObject({ gaps: 1, orphanEvents: 1 });
  });

  it('evicts the oldest live flow beyond maxLiveFlows', () => {
    const news = text.filter((e) => e.type === 'NEW');
    const { t, records } = track(news, { maxLiveFlows: 5 });
    expect(records.map((r) => [r.id, r.end])).toEqual([
      [ID.tcp5000, 'evicted'],
      [ID.tcp100k, 'evicted'],
    ]);
    expect(t.loss().evicted).toBe(2);
    expect(t.stats().live).toBe(5);
    const rest = t.flush();
    expect(rest).toHaveLength(5);
    expect(rest.every((r) => r.end === 'flushed')).toBe(true);
    expect(t.stats().live).toBe(0);
  });

  it('queues records for completed() without a callback', () => {
    const t = new FlowTracker();
    for (const e of text) t.push(e);
    expect([...t.completed()].map((r) => r.id)).toHaveLength(7);
    expect(t.takeCompleted()).toEqual([]);
  });
});
