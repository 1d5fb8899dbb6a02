import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rowsFromReport, table, udpRows } from '../../../bench/overhead.bench.js';
import type { ReportDocument } from '../../../src/report/index.js';

// series summaries of a real run of the suite on a lab brought up with --ip-family ipv6
const recorded = JSON.parse(readFileSync(new URL('../../fixtures/overhead/report-ipv6-series.json', import.meta.url), 'utf8')) as Pick<ReportDocument, 'series'>;

describe('rowsFromReport', () => {
  it('reads the four paths of the family from its labelled series', () => {
    const rows = rowsFromReport(recorded, 'ipv6');
    expect(rows.map((r) => r.path)).toEqual(['host-network', 'pod-ip', 'cluster-ip', 'node-port']);
    expect(rows.every((r) => r.family === 'TCP/IPv6')).toBe(true);
    const host = rows[0]!;
    // the mean of the per-interval rates (the ratios' statistic), not the open-loop series of the same path
    expect(host.keepAliveRps).toBe(9145);
    expect(host.closeRps).toBeCloseTo(1585.56, 2);
    // the open loop's p99, as the run logged it (72.448 ms)
    expect(host.p99! * 1000).toBeCloseTo(72.448, 1);
    expect(host.p50!).toBeLessThan(host.p99!);
  });
  it('finds nothing of a family the run did not measure, rather than another family', () => {
    const rows = rowsFromReport(recorded, 'ipv4');
    expect(rows.every((r) => r.keepAliveRps === undefined && r.p99 === undefined)).toBe(true);
    expect(table(rows)[0]!['req/s keep-alive']).toBe('—');
  });
  it('takes unlabelled series (a default IPv4 run) as IPv4', () => {
    const unlabelled = { series: recorded.series.map((s) => ({ ...s, labels: Object.fromEntries(Object.entries(s.labels ?? {}).filter(([k]) => k !== 'family')) })) };
    expect(rowsFromReport(unlabelled, 'ipv4')[1]!.keepAliveRps).toBe(8415);
    expect(rowsFromReport(unlabelled, 'ipv6')[1]!.keepAliveRps).toBeUndefined();
  });
});

describe('udpRows', () => {
  const figures = (path: string, lateP99Seconds: number) => ({ path, sent: 400, answered: 398, lossRatio: 0.005, p50Seconds: 0.0004, p99Seconds: 0.002, p999Seconds: 0.004, lateP99Seconds });
  it('names the family and says the loss and the rate', () => {
    const [r] = udpRows([{ family: 'ipv6', rate: 200, figures: figures('node-port', 0.001) }]);
    expect(r).toMatchObject({ family: 'UDP/IPv6', path: 'node-port', p99: 0.002 });
    expect(r!.keepAliveRps).toBeUndefined();
    expect(r!.note).toBe('round trip at 200 exchanges/s: 398 of 400 answered (loss 0.50 %)');
  });
  it('says when the client, not the path, was late', () => {
    expect(udpRows([{ family: 'ipv4', rate: 200, figures: figures('pod-ip', 0.08) }])[0]!.note).toMatch(/client sent late \(p99 80 ms\)/);
  });
});
