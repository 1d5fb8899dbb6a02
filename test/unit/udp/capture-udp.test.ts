// The boundary capture's UDP exchanges on a real capture (test/fixtures/udp/README.md):
// five IPv4 exchanges through 10.96.0.20:53, one IPv6 exchange answered after 1 s, and one
// request sent twice toward 10.96.0.21:53 that the node dropped (no reply).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzePcap } from '../../../src/capture/pipeline.js';
import { buildBpfFilter } from '../../../src/capture/collector.js';
import { udpFirstPacketSeconds, type CaptureUdpExchange } from '../../../src/capture/udp-tracker.js';
import { captureUdpFlowJson } from '../../../src/agent/records.js';

const pcap = readFileSync(new URL('../../fixtures/udp/udp-any-sll2.pcap', import.meta.url));
const CIDRS = ['10.96.0.0/12', 'fd00:10:96::/112'];

async function exchanges(opts: { udpIdleTimeoutMs?: number } = {}): Promise<{ out: CaptureUdpExchange[]; r: Awaited<ReturnType<typeof analyzePcap>> }> {
  const out: CaptureUdpExchange[] = [];
  const r = await analyzePcap(pcap, CIDRS, { onUdpExchange: (e) => out.push(e), ...opts });
  return { out, r };
}

describe('UDP exchanges from boundary capture (real capture)', () => {
  it('times each request toward the VIP to the first reply from it, in ns', async () => {
    const { out, r } = await exchanges();
    expect(r.error).toBeUndefined();
    expect(r.connections).toEqual([]);
    const answered = out.filter((e) => e.replyNs !== undefined);
    expect(answered.map((e) => `${e.clientAddr}:${e.clientPort}>${e.vipAddr}:${e.vipPort}`)).toEqual([
      '10.0.1.2:39287>10.96.0.20:53',
      '10.0.1.2:52230>10.96.0.20:53',
      '10.0.1.2:60451>10.96.0.20:53',
      '10.0.1.2:52618>10.96.0.20:53',
      '10.0.1.2:35828>10.96.0.20:53',
      'fd00:1::2:52995>fd00:10:96::20:53',
    ]);
    // tcpdump -tt: 1795954669.247749750 In, 1795954669.248636100 Out
    expect(answered[0]!.requestNs).toBe(1795954669247749750n);
    expect(answered[0]!.replyNs).toBe(1795954669248636100n);
    expect(udpFirstPacketSeconds(answered[0]!)).toBeCloseTo(0.00088635, 9);
    // the IPv6 reply waited for neighbour discovery on the fresh topology: 1.003 s
    expect(udpFirstPacketSeconds(answered[5]!)).toBeCloseTo(1.003225949, 9);
    expect(answered.every((e) => e.requests === 1 && e.incomplete === undefined)).toBe(true);
  });

  it('keeps the dropped exchange open with both requests, and emits it unanswered at the end', async () => {
    const { out } = await exchanges();
    const lost = out.filter((e) => e.replyNs === undefined);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ clientAddr: '10.0.1.2', clientPort: 46787, vipAddr: '10.96.0.21', vipPort: 53, requests: 2, incomplete: 'end-of-capture' });
    expect(lost[0]!.requestNs).toBe(1795954669556065257n);
    expect(udpFirstPacketSeconds(lost[0]!)).toBeUndefined();
    const json = captureUdpFlowJson(lost[0]!);
    expect(json).toMatchObject({ source: 'capture-udp', requests: 2, incomplete: 'end-of-capture' });
    expect(json.firstPacketSeconds).toBeUndefined();
  });

  it('emits an unanswered exchange after the idle timeout, on capture time', async () => {
    // the IPv6 reply 0.7 s after the dropped request moves capture time past 100 ms
    const { out } = await exchanges({ udpIdleTimeoutMs: 100 });
    expect(out.find((e) => e.vipAddr === '10.96.0.21')?.incomplete).toBe('idle-timeout');
  });

  it('counts requests, replies and retries', async () => {
    const out: CaptureUdpExchange[] = [];
    const { CapturePipeline } = await import('../../../src/capture/pipeline.js');
    const p = new CapturePipeline(CIDRS, { onUdpExchange: (e) => out.push(e) });
    p.push(pcap);
    p.end();
    expect(p.tracker.udp!.stats).toEqual({ requestsOnWire: 8, replies: 6, exchangesStarted: 7, exchangesEmitted: 7, unanswered: 1, retries: 1, unmatched: 0, reordered: 0, open: 0 });
    expect(p.stats.packets).toBe(14);
  });

  it('ignores UDP without onUdpExchange (the TCP-only tracker of before)', async () => {
    const r = await analyzePcap(pcap, CIDRS);
    expect(r.connections).toEqual([]);
    expect(r.stats.ignored).toBe(14);
  });

  it('the capture filter passes UDP to or from the Service CIDRs when asked', () => {
    expect(buildBpfFilter(CIDRS, { udp: true })).toBe(
      '(ip and (net 10.96.0.0/12) and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0) or ' +
        '(ip6 and (net fd00:10:96::/112) and tcp and (ip6[6] != 6 or ip6[53] & 0x07 != 0)) or ' +
        '(ip and (net 10.96.0.0/12) and udp) or (ip6 and (net fd00:10:96::/112) and udp)',
    );
    expect(buildBpfFilter(CIDRS)).not.toMatch(/udp/);
  });
});
