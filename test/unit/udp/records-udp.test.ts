// The agent's UDP records, built from the recorded capture and conntrack output: the
// records a measurement picks by VIP, and the TCP histograms they stay out of.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzePcap } from '../../../src/capture/pipeline.js';
import type { CaptureUdpExchange } from '../../../src/capture/udp-tracker.js';
import { ParseError } from '../../../src/conntrack/parse-error.js';
import { parseTextLine } from '../../../src/conntrack/parse-text.js';
import { FlowTracker } from '../../../src/conntrack/tracker.js';
import type { FlowRecord } from '../../../src/conntrack/types.js';
import { AgentMetrics } from '../../../src/agent/metrics.js';
import { FlowSink } from '../../../src/agent/sink.js';
import { pickUdp } from '../../../fixtures/measure-udp.js';
import { pick } from '../../../fixtures/measure.js';

async function sinkOfFixtures(): Promise<FlowSink> {
  const sink = new FlowSink(new AgentMetrics(), 'records');
  const exchanges: CaptureUdpExchange[] = [];
  await analyzePcap(readFileSync(new URL('../../fixtures/udp/udp-any-sll2.pcap', import.meta.url)), ['10.96.0.0/12', 'fd00:10:96::/112'], { onUdpExchange: (e) => exchanges.push(e) });
  for (const e of exchanges) sink.captureUdp(e);
  const records: FlowRecord[] = [];
  const t = new FlowTracker({ serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'], finishUdpOnReply: true, onRecord: (r) => records.push(r) });
  for (const l of readFileSync(new URL('../../fixtures/udp/udp-events.txt', import.meta.url), 'utf8').split('\n')) {
    const ev = parseTextLine(l);
    if (ev !== null && !(ev instanceof ParseError)) t.push(ev);
  }
  for (const r of records) sink.conntrack(r);
  return sink;
}

describe('agent UDP records', () => {
  it('a measurement picks the capture and conntrack records of its own VIP', async () => {
    const sink = await sinkOfFixtures();
    const flows = sink.buffer.read(0, 100).records;
    expect(sink.counts).toEqual({ capture: 0, conntrack: 6, captureUdp: 7 });
    const v4 = pickUdp(flows, [{ host: '10.96.0.20', port: 53 }]);
    expect(v4.capture.map((f) => f.clientPort)).toEqual([39287, 52230, 60451, 52618, 35828]);
    expect(v4.conntrack.map((f) => f.clientPort)).toEqual([39287, 52230, 60451, 52618, 35828]);
    expect(v4.capture[0]!.firstPacketSeconds).toBeCloseTo(0.00088635, 9);
    expect(v4.conntrack[0]!.firstPacketSeconds).toBeCloseTo(0.000607, 9);
    const lost = pickUdp(flows, [{ host: '10.96.0.21', port: 53 }]);
    expect(lost.capture).toHaveLength(1);
    expect(lost.capture[0]).toMatchObject({ requests: 2, incomplete: 'end-of-capture' });
    expect(lost.conntrack).toEqual([]);
    // the TCP measurements' pick never sees them
    expect(pick(flows, [{ host: '10.96.0.20', port: 53 }]).capture).toEqual([]);
  });

  it('UDP flows stay out of the TCP first-packet histograms', async () => {
    const sink = await sinkOfFixtures();
    expect(sink.histograms.conntrack_first_packet_latency_seconds.count).toBe(0);
    expect(sink.histograms.capture_first_packet_latency_seconds.count).toBe(0);
  });
});

describe('lost exchanges the boundary saw answered', () => {
  it('joins the client\'s lost exchanges to capture replies on client address and port', async () => {
    const { lostButReplied } = await import('../../../fixtures/measure-udp.js');
    const sink = await sinkOfFixtures();
    const capture = pickUdp(sink.buffer.read(0, 100).records, [{ host: '10.96.0.20', port: 53 }, { host: 'fd00:10:96::20', port: 53 }, { host: '10.96.0.21', port: 53 }]).capture;
    // as client.txt recorded: the IPv6 reply came after the 300 ms timeout, 10.96.0.21 never answered
    const v4 = { podIp: '10.0.1.2', results: [
      { seq: 0, target: 0, lateSeconds: 0, sentNs: '1', localPort: 39287, rttSeconds: 0.001 },
      { seq: 1, target: 0, lateSeconds: 0, sentNs: '2', localPort: 46787, error: 'timeout' },
    ] };
    const v6 = { podIp: 'fd00:1::2', results: [{ seq: 0, target: 0, lateSeconds: 0, sentNs: '3', localPort: 52995, error: 'timeout' }] };
    expect(lostButReplied([v4, v6], capture)).toBe(1);
    expect(lostButReplied([v4], capture)).toBe(0);
  });
});
