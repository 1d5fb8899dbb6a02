// Prometheus text parsing on recorded kube-proxy /metrics (test/fixtures/kube-proxy):
// labelled histograms stay per label set, accessors sum over label sets, odd values and
// malformed input are handled as documented.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  counterValue,
  gaugeValue,
  histogram,
  histogramSeries,
  labelsKey,
  mergeHistograms,
  parseMetrics,
  PromParseError,
  samples,
} from '../../../src/kube/prom-text.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy', name), 'utf8');

describe('parseMetrics on real kube-proxy output', () => {
  it('reads every family with its type (nftables, after a change)', async () => {
    const f = await parseMetrics(fixture('metrics-nftables-after.txt'));
    expect(f.size).toBe(193);
    expect(f.get('kubeproxy_sync_proxy_rules_duration_seconds')?.type).toBe('histogram');
    expect(f.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(f.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(f.get('go_gc_duration_seconds')?.type).toBe('summary');
    expect(f.get('kubeproxy_sync_proxy_rules_duration_seconds')?.help).toMatch(/SyncProxyRules latency/);
  });

  it('keeps a labelled histogram per label set (ip_family IPv4 and IPv6)', async () => {
    const f = await parseMetrics(fixture('metrics-nftables-after.txt'));
    const series = histogramSeries(f, 'kubeproxy_sync_proxy_rules_duration_seconds');
    expect(series.map((s) => s.labels)).toEqual([{ ip_family: 'IPv4' }, { ip_family: 'IPv6' }]);
    const v4 = series[0]!.histogram;
    expect(v4.count).toBe(3);
    expect(v4.sum).toBeCloseTo(0.078179356, 12);
    expect(v4.buckets).toHaveLength(16);
    expect(v4.buckets[0]).toEqual({ le: 0.001, count: 0 });
    expect(v4.buckets[4]).toEqual({ le: 0.016, count: 1 });
    expect(v4.buckets[15]).toEqual({ le: Infinity, count: 3 });
    expect(series[1]!.histogram.count).toBe(1);
  });

  it('histogram() sums over label sets, or takes the ones asked for', async () => {
    const f = await parseMetrics(fixture('metrics-nftables-after.txt'));
    const all = histogram(f, 'kubeproxy_sync_proxy_rules_duration_seconds')!;
    expect(all.count).toBe(4);
    expect(all.sum).toBeCloseTo(0.078179356 + 0.031127378, 12);
    expect(all.buckets.find((b) => b.le === 0.032)?.count).toBe(3); // 2 (IPv4) + 1 (IPv6)
    expect(all.buckets.at(-1)).toEqual({ le: Infinity, count: 4 });
    expect(histogram(f, 'kubeproxy_sync_proxy_rules_duration_seconds', { ip_family: 'IPv6' })?.count).toBe(1);
    expect(histogram(f, 'kubeproxy_sync_proxy_rules_duration_seconds', { ip_family: 'IPv5' })).toBeUndefined();
    const prog = histogram(f, 'kubeproxy_network_programming_duration_seconds')!;
    expect(prog.count).toBe(5);
    expect(prog.buckets.slice(0, 5)).toEqual([
      { le: 0, count: 0 },
      { le: 0.25, count: 0 },
      { le: 0.5, count: 0 },
      { le: 1, count: 0 },
      { le: 2, count: 5 },
    ]);
  });

  it('a histogram kube-proxy has not observed yet is absent (before the change)', async () => {
    const f = await parseMetrics(fixture('metrics-nftables.txt'));
    expect(f.has('kubeproxy_network_programming_duration_seconds')).toBe(false);
    expect(histogram(f, 'kubeproxy_network_programming_duration_seconds')).toBeUndefined();
    expect(histogram(f, 'kubeproxy_sync_proxy_rules_duration_seconds')?.count).toBe(2);
  });

  it('counters and gauges: values, label filters, sums, absent → undefined', async () => {
    const f = await parseMetrics(fixture('metrics-nftables-after.txt'));
    expect(counterValue(f, 'process_cpu_seconds_total')).toBe(1.19);
    expect(gaugeValue(f, 'process_resident_memory_bytes')).toBe(115482624);
    expect(gaugeValue(f, 'process_start_time_seconds')).toBe(1795267389.48);
    expect(counterValue(f, 'rest_client_requests_total')).toBe(9);
    expect(counterValue(f, 'rest_client_requests_total', { method: 'POST' })).toBe(1);
    expect(counterValue(f, 'rest_client_requests_total', { method: 'GET', code: '200', host: '127.0.0.1:37723' })).toBe(8);
    expect(counterValue(f, 'rest_client_requests_total', { method: 'PATCH' })).toBeUndefined();
    expect(counterValue(f, 'no_such_metric_total')).toBeUndefined();
    expect(samples(f, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toEqual([
      { labels: { ip_family: 'IPv4' }, value: 1795267393.2321746 },
      { labels: { ip_family: 'IPv6' }, value: 1795267390.5638962 },
    ]);
    // label values with odd characters survive
    expect(samples(f, 'kubernetes_build_info')[0]?.labels.git_commit).toBe('$Format:%H$');
  });

  it('parses the iptables-mode fixture the same way', async () => {
    const f = await parseMetrics(fixture('metrics-iptables-after.txt'));
    expect(histogram(f, 'kubeproxy_network_programming_duration_seconds')?.count).toBe(5);
    expect(histogram(f, 'kubeproxy_sync_proxy_rules_duration_seconds')?.count).toBe(4);
    expect(counterValue(f, 'process_cpu_seconds_total')).toBe(1.38);
  });
});

describe('parseMetrics edge cases', () => {
  it('+Inf values parse; NaN and -Inf samples are left out instead of failing the scrape', async () => {
    const f = await parseMetrics(
      ['# TYPE a gauge', 'a{x="1"} +Inf', 'a{x="2"} NaN', 'a{x="3"} -Inf', 'a{x="4"} 2 1700000000000', '# TYPE b gauge', 'b 1e+06', 'c 3'].join('\n'),
    );
    expect(samples(f, 'a')).toEqual([
      { labels: { x: '1' }, value: Infinity },
      { labels: { x: '4' }, value: 2, timestampMs: 1700000000000 },
    ]);
    expect(gaugeValue(f, 'b')).toBe(1e6);
    expect(f.get('c')?.type).toBe('unknown');
    expect(gaugeValue(f, 'c')).toBe(3);
  });

  it('escaped label values and CRLF line ends', async () => {
    const f = await parseMetrics('# TYPE m counter\r\nm{path="C:\\\\DIR",msg="say \\"hi\\"\\n"} 4\r\n');
    expect(samples(f, 'm')[0]?.labels).toEqual({ path: 'C:\\DIR', msg: 'say "hi"\n' });
  });

  it('a histogram whose +Inf bucket disagrees with _count is refused, naming it', async () => {
    const text = ['# TYPE h histogram', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 2', 'h_sum 1', 'h_count 3'].join('\n');
    await expect(parseMetrics(text)).rejects.toThrow(PromParseError);
    await expect(parseMetrics(text)).rejects.toThrow(/Malformed histogram/);
  });

  it('text that is not the exposition format is refused', async () => {
    await expect(parseMetrics('<html>502 Bad Gateway</html>')).rejects.toThrow(/not Prometheus text format/);
  });

  it('empty text has no families', async () => {
    expect((await parseMetrics('')).size).toBe(0);
  });
});

describe('mergeHistograms and labelsKey', () => {
  const h = (counts: number[], les = [1, 2, Infinity]) => ({ buckets: les.map((le, i) => ({ le, count: counts[i]! })), sum: counts.at(-1)!, count: counts.at(-1)! });

  it('adds bucket counts, sums and counts; histograms without buckets add nothing', () => {
    expect(mergeHistograms([h([1, 2, 3]), h([0, 4, 4]), { buckets: [], sum: 0, count: 0 }])).toEqual({
      buckets: [{ le: 1, count: 1 }, { le: 2, count: 6 }, { le: Infinity, count: 7 }],
      sum: 7,
      count: 7,
    });
    expect(mergeHistograms([])).toEqual({ buckets: [], sum: 0, count: 0 });
  });

  it('refuses different bucket bounds', () => {
    expect(() => mergeHistograms([h([1, 2, 3]), h([1, 2, 3], [1, 5, Infinity])])).toThrow(/bucket bounds differ/);
  });

  it('labelsKey ignores label order', () => {
    expect(labelsKey({ a: '1', b: '2' })).toBe(labelsKey({ b: '2', a: '1' }));
    expect(labelsKey({ a: '1' })).not.toBe(labelsKey({ a: '2' }));
  });
});
