import { describe, expect, test } from 'vitest';
import type { TaskMeta } from 'vitest';
import {
  attachSliResults,
  buildReport,
  buildSeries,
  kubeSliMeta,
  QUANTILE_GRID,
  seriesId,
  SliResultError,
  sliDirection,
  validateReport,
} from '../../../src/report/index.js';
import { evaluateSlo, LatencyHistogram, quantile, summarize } from '../../../src/sli/index.js';
import { lognormalSamples, syntheticReport } from '../../fixtures/report/synthetic.js';

const env = { kubernetesVersion: 'v1.34.1', proxyMode: 'iptables', kernel: '6.18.0', nodes: [{ name: 'n1' }] };

describe('buildSeries', () => {
  test('exact summary from all samples, curve and distribution', () => {
    const xs = lognormalSamples(5000, 176e-6, 0.2, 7);
    const s = buildSeries({ sli: 'first_packet_latency_seconds', source: 'capture', labels: { services: '10000' }, samples: xs });
    const exact = summarize(xs);
    expect(s.summary).toEqual(exact);
    expect(s.exact).toBe(true);
    expect(s.dimension).toBe('time');
    expect(s.direction).toBe('lower-is-better');
    expect(s.id).toBe('first_packet_latency_seconds{source="capture",services="10000"}');
    expect(s.quantiles.map((p) => p.q)).toEqual(QUANTILE_GRID);
    expect(s.quantiles.find((p) => p.q === 0.5)?.value).toBeCloseTo(exact.p50, 9);
    expect(s.distribution?.counts.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(s.distribution?.bounds.length).toBe((s.distribution?.counts.length ?? 0) + 1);
    // The histogram of all samples decodes to the same count and ~ the same median.
    const h = LatencyHistogram.decode(s.histogram as string);
    expect(h.count).toBe(5000);
    expect(h.quantile(0.5) / exact.p50).toBeCloseTo(1, 2);
  });

  test('reservoir: all samples when they fit, a systematic order-statistics sample otherwise', () => {
    const small = buildSeries({ sli: 'x_seconds', source: 'client', samples: [3, 1, 2] });
    expect(small.reservoir).toEqual({ method: 'all', cap: 10_000, values: [1, 2, 3] });

    const xs = lognormalSamples(50_000, 1e-4, 0.3, 3);
    const big = buildSeries({ sli: 'x_seconds', source: 'client', samples: xs }, 1000);
    expect(big.reservoir.method).toBe('order-statistics');
    expect(big.reservoir.values).toHaveLength(1000);
    // Sorted, and quantiles of the reservoir track quantiles of all samples.
    expect([...big.reservoir.values].sort((a, b) => a - b)).toEqual(big.reservoir.values);
    for (const q of [0.1, 0.5, 0.9]) expect(quantile(big.reservoir.values, q) / quantile(xs, q)).toBeCloseTo(1, 2);
    expect(quantile(big.reservoir.values, 0.99) / quantile(xs, 0.99)).toBeCloseTo(1, 1);
    // Deterministic and independent of sample order.
    const again = buildSeries({ sli: 'x_seconds', source: 'client', samples: [...xs].reverse() }, 1000);
    expect(again.reservoir).toEqual(big.reservoir);
  });

  test('histogram input: approximate summary, reservoir from its quantiles', () => {
    const xs = lognormalSamples(20_000, 5e-3, 0.4, 11);
    const h = new LatencyHistogram();
    for (const x of xs) h.record(x);
    for (const samples of [h, { encodedHistogram: h.encode() }]) {
      const s = buildSeries({ sli: 'network_programming_latency_seconds', source: 'kube-proxy-metric', samples });
      expect(s.exact).toBe(false);
      expect(s.summary.count).toBe(20_000);
      expect((s.summary.p99 as number) / quantile(xs, 0.99)).toBeCloseTo(1, 2);
      expect(s.reservoir.method).toBe('histogram-quantiles');
      expect(s.reservoir.values).toHaveLength(10_000);
      expect(s.distribution?.counts.reduce((a, b) => a + b, 0)).toBeCloseTo(20_000, -2);
    }
  });

  test('throughput: fairness over all flows, higher is better, no time histogram', () => {
    const s = buildSeries({ sli: 'connection_throughput_bytes_per_second', source: 'conntrack', samples: [0.2, 2, 2, 2, 2] });
    expect(s.direction).toBe('higher-is-better');
    expect(s.dimension).toBe('throughput');
    expect(s.histogram).toBeUndefined();
    expect(s.fairness?.flows).toBe(5);
    expect(s.fairness?.jain).toBeCloseTo(0.8384, 3);
    expect(s.fairness?.p10p50).toBeCloseTo(0.46, 2);
  });

  test('no samples: count 0, nulls, valid in a report', () => {
    const s = buildSeries({ sli: 'x_seconds', source: 'capture', samples: [] });
    expect(s.summary).toEqual({ count: 0, min: null, max: null, mean: null, p50: null, p90: null, p99: null, p999: null });
    expect(s.quantiles).toEqual([]);
    expect(s.reservoir.values).toEqual([]);
  });

  test('verdict numbers that are NaN become null', () => {
    const slo = { sli: 'x_seconds', thresholds: ['p(99)<1ms'], minSamples: 10 };
    const verdict = evaluateSlo(slo, { samples: [] });
    const s = buildSeries({ sli: 'x_seconds', source: 'capture', samples: [], slo, verdict });
    expect(s.verdict?.status).toBe('inconclusive');
    expect(s.verdict?.thresholds[0]?.observed).toBeNull();
    const doc = buildReport({ kitVersion: '0.1.0', environment: env, startedAt: new Date(0), endedAt: new Date(1000), results: [{ sli: 'x_seconds', source: 'capture', samples: [], slo, verdict }] });
    expect(validateReport(JSON.parse(JSON.stringify(doc)))).toEqual([]);
  });

  test.each([
    [{ sli: 'bad name', source: 'capture', samples: [1] }, /Prometheus-style name/],
    [{ sli: 'x_seconds', source: '', samples: [1] }, /source must be/],
    [{ sli: 'x_seconds', source: 'capture', labels: { source: 'a' }, samples: [1] }, /label name "source"/],
    [{ sli: 'x_seconds', source: 'capture', samples: [1, Number.NaN] }, /sample 1 is NaN/],
    [{ sli: 'x_seconds', source: 'capture', samples: [Infinity] }, /sample 0 is Infinity/],
    [{ sli: 'x_seconds', source: 'capture', samples: { encodedHistogram: 'nope' } }, /not an encoded LatencyHistogram/],
  ])('rejects a bad result %#', (r, msg) => {
    expect(() => buildSeries(r as never)).toThrow(SliResultError);
    expect(() => buildSeries(r as never)).toThrow(msg);
  });

  test('series ids escape label values; direction from the name', () => {
    expect(seriesId('a_seconds', 'capture', { z: '1', a: 'x"y' })).toBe('a_seconds{source="capture",a="x\\"y",z="1"}');
    expect(sliDirection('first_packet_latency_seconds')).toBe('lower-is-better');
    expect(sliDirection('connection_throughput_bytes_per_second')).toBe('higher-is-better');
    expect(sliDirection('throughput_fairness_ratio')).toBe('higher-is-better');
    expect(sliDirection('clusterip_overhead_ratio')).toBe('lower-is-better');
  });
});

describe('buildReport', () => {
  test('a synthetic run is a valid schemaVersion 1 document, sorted, JSON-stable', () => {
    const doc = syntheticReport({ mode: 'iptables' });
    expect(doc.schemaVersion).toBe(1);
    expect(doc.kind).toBe('kube-sli-report');
    expect(doc.series).toHaveLength(20);
    expect(doc.series.map((s) => s.id)).toEqual([...doc.series.map((s) => s.id)]);
    expect(validateReport(doc)).toEqual([]);
    const roundTrip = JSON.parse(JSON.stringify(doc));
    expect(roundTrip).toEqual(doc);
    expect(doc.profile).toEqual({ name: 'strict', description: 'synthetic profile for tests', version: '1' });
    // Numeric-aware order: services=100 before services=1000 before services=20000.
    const fp = doc.series.filter((s) => s.sli === 'first_packet_latency_seconds').map((s) => s.labels.services);
    expect(fp).toEqual(['100', '1000', '5000', '10000', '20000']);
  });

  test('duplicate series and bad dates are rejected', () => {
    const r = { sli: 'x_seconds', source: 'capture', samples: [1] };
    expect(() => buildReport({ kitVersion: '1', environment: env, startedAt: new Date(), endedAt: new Date(), results: [r, r] })).toThrow(/two results for the same series/);
    expect(() => buildReport({ kitVersion: '1', environment: env, startedAt: 'yesterday', endedAt: new Date(), results: [] })).toThrow(/startedAt: not a valid date/);
  });

  test('unknown environment fields are null; profile string is normalised', () => {
    const doc = buildReport({
      kitVersion: '0.1.0',
      environment: { kubernetesVersion: null, proxyMode: null, kernel: null, nodes: [] },
      startedAt: '2025-01-01T00:00:00Z',
      endedAt: '2025-01-01T00:10:00Z',
      profile: 'strict',
      results: [],
    });
    expect(doc.environment).toEqual({ kubernetesVersion: null, proxyMode: null, kernel: null, nodes: [] });
    expect(doc.profile).toEqual({ name: 'strict' });
    expect(validateReport(doc)).toEqual([]);
  });
});

describe('task meta', () => {
  test('attachSliResults builds series into vitest task meta and appends', () => {
    const meta: TaskMeta = {};
    const task = { meta };
    attachSliResults(task, { results: [{ sli: 'a_seconds', source: 'capture', samples: [1, 2] }], environment: { proxyMode: 'nftables' } });
    attachSliResults(task, { results: [{ sli: 'b_seconds', source: 'capture', samples: [3] }], environment: { proxyMode: 'iptables' }, workload: { connections: 2 } });
    expect(meta.kubeSli?.series.map((s) => s.sli)).toEqual(['a_seconds', 'b_seconds']);
    expect(meta.kubeSli?.environment?.proxyMode).toBe('nftables'); // first value wins
    expect(meta.kubeSli?.workload).toEqual({ connections: 2 });
    expect(() => attachSliResults(task, { results: [{ sli: 'a_seconds', source: 'capture', samples: [1] }] })).toThrow(/same series/);
  });

  test('kubeSliMeta survives structured cloning (how vitest ships meta)', () => {
    const m = kubeSliMeta({ results: [{ sli: 'a_seconds', source: 'capture', samples: [1e-5, 2e-5] }], profile: 'strict' });
    expect(structuredClone(m)).toEqual(m);
    expect(m.profile).toEqual({ name: 'strict' });
  });
});
