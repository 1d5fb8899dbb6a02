// The metrics window's delta math on recorded kube-proxy scrapes (before/after 5 Services
// were programmed), restarts and missing metrics, the window's I/O with fake sources, and
// the sources' request paths against a local stand-in for the API server.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClients } from '../../../src/kube/clients.js';
import {
  agentKubeProxySource,
  isUnavailable,
  kubeProxySources,
  mergeDeltas,
  openMetricsWindow,
  windowDelta,
  withFallback,
  type CpuWindow,
  type HistogramWindow,
  type LastSync,
  type SyncKinds,
} from '../../../src/kube/metrics-window.js';
import { parseMetrics } from '../../../src/kube/prom-text.js';
import { recordedSource } from '../support/recorded-source.js';

const text = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy', name), 'utf8');
const parsed = (name: string) => parseMetrics(text(name));

function ok<T extends object>(x: T | { unavailable: string }): T {
  if (isUnavailable(x)) throw new Error(`unavailable: ${x.unavailable}`);
  return x;
}

describe('windowDelta (pure) on recorded kube-proxy scrapes', () => {
  it('nftables node0: programming latency of the 5 Services, sync durations, CPU, memory, last sync', async () => {
    const d = windowDelta(await parsed('metrics-nftables.txt'), await parsed('metrics-nftables-after.txt'), 10);
    const prog = ok<HistogramWindow>(d.programming);
    // absent at the start (kube-proxy exposes it from the first observation): counts whole
    expect(prog.count).toBe(5);
    expect(prog.sum).toBeCloseTo(5.1468087879999995, 12);
    expect(prog.p50).toBeCloseTo(1.5, 12); // 5 observations in (1, 2]
    expect(prog.p99).toBeCloseTo(1.99, 12);
    expect(prog.reset).toBe(false);
    const sync = ok<HistogramWindow>(d.syncDuration);
    expect(sync.count).toBe(2); // IPv4 1 → 3, IPv6 1 → 1
    expect(sync.sum).toBeCloseTo(0.078179356 - 0.028704348, 12);
    expect(sync.histogram.buckets.at(-1)).toEqual({ le: Infinity, count: 2 });
    // the window's two syncs: one <= 0.016 s, one in (0.032, 0.064]
    expect(sync.histogram.buckets.filter((b) => b.le <= 0.064).map((b) => b.count)).toEqual([0, 0, 0, 0, 1, 1, 2]);
    expect(sync.p50).toBeCloseTo(0.016, 12);
    expect(sync.p99).toBeCloseTo(0.032 + 0.032 * 0.98, 12);
    const cpu = ok<CpuWindow>(d.cpu);
    expect(cpu.seconds).toBeCloseTo(1.07, 12);
    expect(cpu.cores).toBeCloseTo(0.107, 12);
    expect(d.residentMemoryBytes).toBe(115482624);
    expect(ok<LastSync>(d.lastSync)).toEqual({ start: 1795267390.5638962, end: 1795267393.2321746, moved: true });
    // the full-sync histogram stayed at its start-up sync; the partial one appeared with 2
    expect(ok<SyncKinds>(d.syncKinds)).toEqual({ full: 0, partial: 2 });
    expect(d.restarted).toBe(false);
    expect(d.reset).toBe(false);
  });

  it('a kube-proxy from mid bulk-create to quiet: every sync of the window partial, none full', async () => {
    const d = windowDelta(await parsed('metrics-nftables-bulk-busy.txt'), await parsed('metrics-nftables-bulk-quiet.txt'), 457);
    expect(ok<SyncKinds>(d.syncKinds)).toEqual({ full: 0, partial: 327 - 28 });
    expect(ok<HistogramWindow>(d.syncDuration).count).toBe(328 - 29);
    expect(ok<HistogramWindow>(d.programming).count).toBe(4029 - 4);
  });

  it('iptables node0 gives the same shape', async () => {
    const d = windowDelta(await parsed('metrics-iptables.txt'), await parsed('metrics-iptables-after.txt'), 5);
    expect(ok<HistogramWindow>(d.programming).count).toBe(5);
    expect(ok<HistogramWindow>(d.syncDuration).count).toBe(2);
    expect(ok<CpuWindow>(d.cpu).seconds).toBeCloseTo(1.25, 12);
    expect(ok<LastSync>(d.lastSync).moved).toBe(true);
  });

  it('the same scrape twice: nothing happened', async () => {
    const f = await parsed('metrics-nftables-after.txt');
    const d = windowDelta(f, f, 3);
    const prog = ok<HistogramWindow>(d.programming);
    expect(prog.count).toBe(0);
    expect(prog.p50).toBeNaN();
    expect(ok<HistogramWindow>(d.syncDuration).count).toBe(0);
    expect(ok<CpuWindow>(d.cpu)).toEqual({ seconds: 0, cores: 0, reset: false });
    expect(ok<LastSync>(d.lastSync).moved).toBe(false);
  });

  it('no programming histogram at either end of a kube-proxy: zero observations, not unavailable', async () => {
    const f = await parsed('metrics-nftables.txt');
    const prog = ok<HistogramWindow>(windowDelta(f, f, 1).programming);
    expect(prog.count).toBe(0);
    expect(prog.histogram.buckets).toEqual([]);
  });

  it('counters going backwards (scrapes swapped): reset flags, and the vanished histogram is unavailable', async () => {
    const d = windowDelta(await parsed('metrics-nftables-after.txt'), await parsed('metrics-nftables.txt'), 10);
    expect(d.programming).toEqual({ unavailable: expect.stringMatching(/exposed at the start of the window and not at the end/) });
    const sync = ok<HistogramWindow>(d.syncDuration);
    expect(sync.reset).toBe(true);
    // per series, like increase(): IPv4 went 3 → 1 (reset: 1 since), IPv6 stayed at 1 (0)
    expect(sync.count).toBe(1);
    const cpu = ok<CpuWindow>(d.cpu);
    expect(cpu.reset).toBe(true);
    expect(cpu.seconds).toBe(0.12);
    expect(d.reset).toBe(true);
  });

  it('a restart (process_start_time_seconds changed) counts everything at the end since the restart', async () => {
    const before = await parsed('metrics-nftables-after.txt');
    // more observations after the restart than before it: counters did not go backwards
    const after = await parseMetrics(text('metrics-nftables-after.txt').replace(/^process_start_time_seconds .*$/m, 'process_start_time_seconds 1.8e+09'));
    const d = windowDelta(before, after, 10);
    expect(d.restarted).toBe(true);
    expect(d.reset).toBe(true);
    expect(ok<HistogramWindow>(d.programming)).toMatchObject({ count: 5, reset: true });
    expect(ok<HistogramWindow>(d.syncDuration)).toMatchObject({ count: 4, reset: true });
    expect(ok<CpuWindow>(d.cpu)).toMatchObject({ seconds: 1.19, reset: true });
  });

  it('something that is not kube-proxy: every metric unavailable with a reason, nothing thrown', async () => {
    const f = await parseMetrics('# TYPE up gauge\nup 1\n');
    const d = windowDelta(f, f, 10);
    expect(d.programming).toEqual({ unavailable: 'kubeproxy_network_programming_duration_seconds is not exposed' });
    expect(d.syncDuration).toEqual({ unavailable: 'kubeproxy_sync_proxy_rules_duration_seconds is not exposed' });
    expect(d.lastSync).toEqual({ unavailable: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds is not exposed' });
    expect(d.cpu).toEqual({ unavailable: 'process_cpu_seconds_total is not exposed' });
    expect(d.residentMemoryBytes).toEqual({ unavailable: 'process_resident_memory_bytes is not exposed' });
    expect(d.syncKinds).toEqual({ unavailable: expect.stringMatching(/kubeproxy_sync_full_proxy_rules_duration_seconds and kubeproxy_sync_partial_proxy_rules_duration_seconds are not exposed/) });
    expect(d.reset).toBe(false);
  });

  it('a zero-length window has no CPU rate', async () => {
    const f = await parsed('metrics-nftables.txt');
    expect(windowDelta(f, f, 0).cpu).toEqual({ unavailable: 'window of 0 s' });
  });
});

describe('mergeDeltas', () => {
  it('merges both nodes into one distribution', async () => {
    const d0 = windowDelta(await parsed('metrics-nftables.txt'), await parsed('metrics-nftables-after.txt'), 10);
    const d1 = windowDelta(await parsed('metrics-nftables-node1.txt'), await parsed('metrics-nftables-node1-after.txt'), 10);
    const m = mergeDeltas([{ node: 'node0', delta: d0 }, { node: 'node1', delta: d1 }]);
    expect(m.nodes).toEqual(['node0', 'node1']);
    const prog = ok<HistogramWindow>(m.programming);
    expect(prog.count).toBe(10);
    expect(prog.sum).toBeCloseTo(5.1468087879999995 + 5.145890489999999, 12);
    expect(prog.p50).toBeCloseTo(1.5, 12);
    expect(ok<HistogramWindow>(m.syncDuration).count).toBe(4);
  });

  it('leaves out nodes without the histogram; none at all is unavailable', async () => {
    const d0 = windowDelta(await parsed('metrics-nftables.txt'), await parsed('metrics-nftables-after.txt'), 10);
    const none = await parseMetrics('up 1\n');
    const dx = windowDelta(none, none, 10);
    const m = mergeDeltas([{ node: 'node0', delta: d0 }, { node: 'other', delta: dx }]);
    expect(m.nodes).toEqual(['node0']);
    expect(ok<HistogramWindow>(m.programming).count).toBe(5);
    expect(mergeDeltas([{ node: 'other', delta: dx }]).programming).toEqual({ unavailable: expect.stringMatching(/no node has it/) });
  });
});


describe('openMetricsWindow', () => {
  it('scrapes at open and close; per-node results and the merge; failures reported, not thrown', async () => {
    const n0 = recordedSource('node0', [text('metrics-nftables.txt'), text('metrics-nftables-after.txt')]);
    const n1 = recordedSource('node1', [text('metrics-nftables-node1.txt'), text('metrics-nftables-node1-after.txt')]);
    const down = recordedSource('node2', [new Error('HTTP 503: no endpoints')]);
    const later = recordedSource('node3', [text('metrics-nftables.txt'), new Error('connection reset')]);
    const garbage = recordedSource('node4', ['<html>nope</html>']);
    const w = await openMetricsWindow([n0, n1, down, later, garbage]);
    expect(w.failedAtStart.map((f) => f.node)).toEqual(['node2', 'node4']);
    expect(w.failedAtStart[0]!.error).toBe('HTTP 503: no endpoints');
    expect(w.failedAtStart[1]!.error).toMatch(/not Prometheus text format/);
    const r = await w.close();
    expect(await w.close()).toBe(r); // closing twice gives the same result, no new scrape
    expect(n0.reads).toBe(2);
    expect(down.reads).toBe(1); // not scraped again: no baseline
    expect(r.sources.map((s) => [s.node, s.ok])).toEqual([['node0', true], ['node1', true], ['node2', false], ['node3', false], ['node4', false]]);
    const s0 = r.sources[0]!;
    if (!s0.ok) throw new Error('node0 failed');
    expect(s0.seconds).toBeGreaterThanOrEqual(0);
    expect(ok<HistogramWindow>(s0.programming).count).toBe(5);
    expect(r.sources[2]).toMatchObject({ ok: false, when: 'start', error: 'HTTP 503: no endpoints' });
    expect(r.sources[3]).toMatchObject({ ok: false, when: 'end', error: 'connection reset' });
    expect(r.merged.nodes).toEqual(['node0', 'node1']);
    expect(ok<HistogramWindow>(r.merged.programming).count).toBe(10);
    expect(Date.parse(r.endedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    expect(r.startedAt).toBe(w.startedAt);
  });

  it('no sources: an empty result', async () => {
    const r = await (await openMetricsWindow([])).close();
    expect(r.sources).toEqual([]);
    expect(r.merged.nodes).toEqual([]);
    expect(isUnavailable(r.merged.programming)).toBe(true);
  });
});

describe('withFallback', () => {
  it('uses the fallback when the primary fails, and names both when both fail', async () => {
    expect(await withFallback(recordedSource('n', [new Error('refused')]), recordedSource('n', ['up 1'])).read()).toBe('up 1');
    expect(await withFallback(recordedSource('n', ['a 1']), recordedSource('n', [new Error('never')])).read()).toBe('a 1');
    await expect(withFallback(recordedSource('n', [new Error('refused')]), recordedSource('n', [new Error('no agent')])).read()).rejects.toThrow(
      'kube-proxy n (recorded): refused; kube-proxy n (recorded): no agent',
    );
  });
});

describe('sources read through the API server proxy', () => {
  let server: http.Server;
  const paths: string[] = [];
  let clients: KubeClients;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      if (req.url?.includes('node9')) res.writeHead(503).end('no route to node9');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(text('metrics-nftables.txt'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const config = new k8s.KubeConfig();
    const { port } = server.address() as AddressInfo;
    config.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    clients = { config } as KubeClients;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('kubeProxySources: nodes/<node>:<port>/proxy/metrics', async () => {
    const [a, b] = kubeProxySources(clients, ['node0', 'node9'], { port: 10249 });
    expect(a!.name).toBe('kube-proxy node0 (nodes/proxy :10249)');
    expect(await a!.read()).toContain('kubeproxy_sync_proxy_rules_duration_seconds');
    await expect(b!.read()).rejects.toThrow(/HTTP 503: no route to node9/);
    expect(paths).toContain('/api/v1/nodes/node0%3A10249/proxy/metrics');
  });

  it('agentKubeProxySource: pods/<agent>:<port>/proxy/kube-proxy/metrics', async () => {
    const s = agentKubeProxySource(clients, { namespace: 'kube-sli', pod: 'agent-abc', node: 'node0' });
    expect(s.node).toBe('node0');
    expect(s.name).toBe('kube-proxy node0 (agent kube-sli/agent-abc:9464)');
    const w = await openMetricsWindow([s]);
    expect(w.failedAtStart).toEqual([]);
    const r = await w.close();
    expect(r.sources[0]!.ok).toBe(true);
    expect(paths).toContain('/api/v1/namespaces/kube-sli/pods/agent-abc%3A9464/proxy/kube-proxy/metrics');
  });
});
