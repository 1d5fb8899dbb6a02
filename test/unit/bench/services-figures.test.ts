import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bulkCreateGoMod, bulkCreateKey } from '../../../bench/bulk-create-go.js';
import { apiserverWindow, compareClients, cpuGroup, cpuMsPerObject, runRows, cpuSeconds, DEFAULT_ORDER, filterFamilies, machineBusyTicks, parseServicesArgs, procStatTicks, type CpuSnapshot, type RunFigures } from '../../../bench/services-figures.js';
import { parseMetrics } from '../../../src/kube/prom-text.js';

describe('parseServicesArgs', () => {
  it('defaults: 2,000 Services, kit go go kit, the kit concurrency, delete between runs', () => {
    expect(parseServicesArgs([], {}, 32)).toEqual({ services: 2000, order: DEFAULT_ORDER, concurrency: 32, keep: false, ports: {} });
    expect(DEFAULT_ORDER.map((r) => r.client)).toEqual(['kit', 'client-go', 'client-go', 'kit']);
  });
  it('reads N, an order with go as client-go and +ip, keep, the concurrency and the ports', () => {
    const a = parseServicesArgs(['10000', 'go,kit+ip', 'keep'], { BENCH_SERVICES_CONCURRENCY: '64', BENCH_LAB_PORTS: 'apiserver=17443,etcdClient=17379' }, 32);
    expect(a).toEqual({
      services: 10000,
      order: [
        { client: 'client-go', chosenIps: false },
        { client: 'kit', chosenIps: true },
      ],
      concurrency: 64,
      keep: true,
      ports: { apiserver: 17443, etcdClient: 17379 },
    });
  });
  it('names bad input and the fix', () => {
    expect(() => parseServicesArgs(['kit,gp'], {}, 32)).toThrow(/"gp" is not a client; use kit and go/);
    expect(() => parseServicesArgs(['0'], {}, 32)).toThrow(/give 1 to 50000/);
    expect(() => parseServicesArgs(['2k'], {}, 32)).toThrow(/argument "2k"/);
    expect(() => parseServicesArgs([], { BENCH_SERVICES_CONCURRENCY: 'many' }, 32)).toThrow(/BENCH_SERVICES_CONCURRENCY="many"/);
    expect(() => parseServicesArgs([], { BENCH_LAB_PORTS: 'apiserver=17443,etcd=1' }, 32)).toThrow(/item "etcd=1".*one of apiserver, etcdClient/);
    expect(() => parseServicesArgs([], { BENCH_LAB_PORTS: 'apiserver=70000' }, 32)).toThrow(/1-65535/);
  });
});

describe('/proc parsing', () => {
  // recorded on the bench machine: /proc/self/stat of `cat`, and the first line of /proc/stat
  const catStat =
    '22709 (cat) R 22705 22705 13208 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 3595253 3133440 408 18446744073709551615 94720439078912 94720439098793 140732968274256 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94720439114800 94720439116416 94721202774016 140732968282819 140732968282839 140732968282839 140732968284139 0';
  it('sums utime, stime, cutime and cstime and reads the start time', () => {
    expect(procStatTicks(catStat)).toEqual({ ticks: 0, startTicks: 3595253 });
    // a command name with spaces and parentheses; utime 120, stime 30, cutime 7, cstime 3
    const odd = '42 (kube proxy) (x)) S 1 42 42 0 -1 4194560 500 0 0 0 120 30 7 3 20 0 12 0 777 1000 10';
    expect(procStatTicks(odd)).toEqual({ ticks: 160, startTicks: 777 });
    expect(() => procStatTicks('42 (short) S 1 2')).toThrow(/no field 14/);
  });
  it('counts the busy states of the cpu line, not idle and iowait', () => {
    const stat = 'cpu  3802835 97459 1397514 1695579 28423 0 98299 4241 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n';
    expect(machineBusyTicks(stat)).toBe(3802835 + 97459 + 1397514 + 0 + 98299 + 4241);
    expect(() => machineBusyTicks('intr 1 2\n')).toThrow(/no "cpu" line/);
  });
});

describe('cpuSeconds', () => {
  const snap = (p: Record<string, [number, number]>, client: number, busy: number): CpuSnapshot => ({
    processes: Object.fromEntries(Object.entries(p).map(([k, [ticks, startTicks]]) => [k, { ticks, startTicks }])),
    clientSeconds: client,
    machineBusyTicks: busy,
  });
  it('groups lab processes, leaves out restarted ones, and gives the rest of the machine', () => {
    const b = snap({ 'kube-apiserver': [1000, 5], etcd: [200, 6], 'kube-proxy/node-1': [50, 7], 'kube-proxy/node-2': [60, 8], 'kubelet/node-1': [10, 9], 'containerd/node-1': [5, 10] }, 1.5, 10_000);
    const a = snap({ 'kube-apiserver': [1500, 5], etcd: [300, 6], 'kube-proxy/node-1': [150, 7], 'kube-proxy/node-2': [20, 99], 'kubelet/node-1': [20, 9], 'containerd/node-1': [6, 10] }, 3.5, 11_500);
    const c = cpuSeconds(b, a, 100);
    expect(c['kube-apiserver']).toBe(5);
    expect(c.etcd).toBe(1);
    // node-2's kube-proxy restarted (another start time): not counted
    expect(c['kube-proxy']).toBe(1);
    expect(c['kubelet+containerd']).toBeCloseTo(0.11, 10);
    expect(c.client).toBe(2);
    // 15 s busy in all, 7.11 s named, 2 s the client
    expect(c['rest of the machine']).toBeCloseTo(15 - 7.11 - 2, 10);
  });
  it('knows the lab process names', () => {
    expect(cpuGroup('kube-proxy/node-2')).toBe('kube-proxy');
    expect(cpuGroup('containerd/node-1')).toBe('kubelet+containerd');
    expect(cpuGroup('hollow/h-1')).toBeUndefined();
  });
});

describe('filterFamilies', () => {
  it('keeps HELP, TYPE and samples of the named families, histogram suffixes included', () => {
    const text = [
      '# HELP etcd_request_duration_seconds [ALPHA] Etcd request latency',
      '# TYPE etcd_request_duration_seconds histogram',
      'etcd_request_duration_seconds_bucket{group="",operation="create",resource="services",le="0.005"} 3',
      'etcd_request_duration_seconds_sum{group="",operation="create",resource="services"} 0.01',
      'etcd_request_duration_seconds_count{group="",operation="create",resource="services"} 3',
      '# HELP etcd_requests_total [ALPHA] Etcd request counts',
      'etcd_requests_total{operation="create"} 3',
      'go_goroutines 100',
    ].join('\n');
    const kept = filterFamilies(text, ['etcd_request_duration_seconds']).trim().split('\n');
    expect(kept).toHaveLength(5);
    expect(kept.some((l) => l.startsWith('etcd_requests_total') || l.startsWith('go_'))).toBe(false);
  });
});

describe('compareClients', () => {
  const run = (client: RunFigures['client'], rate: number, clientCpu: number, chosenIps = false): RunFigures => ({
    client,
    chosenIps,
    objects: 4000,
    seconds: 4000 / rate,
    objectsPerSecond: rate,
    phases: { servicesPerSecond: rate / 2, slicesPerSecond: rate / 2 },
    idleCores: {},
    servicesBefore: 0,
    cpu: { 'kube-apiserver': 0, etcd: 0, 'kube-proxy': 0, 'kube-controller-manager': 0, 'kube-scheduler': 0, 'kubelet+containerd': 0, client: clientCpu, 'rest of the machine': 0 },
    apiserver: { etcdCreates: {}, postCodes: {}, apfWaitSeconds: 0, watchEvents: { services: 0, endpointslices: 0 } },
  });
  it('takes each side’s mean rate (a linear drift cancels in kit go go kit) and their ratio', () => {
    // the machine slows by 10 objects/s a run; both clients equal underneath
    const c = compareClients([run('kit', 300, 4), run('client-go', 290, 2), run('client-go', 280, 2), run('kit', 270, 4)]);
    expect(c.kitMean).toBe(285);
    expect(c.goMean).toBe(285);
    expect(c.ratio).toBe(1);
    expect(c.kitCpuPerObject).toBeCloseTo(0.001, 10);
    expect(c.goCpuPerObject).toBeCloseTo(0.0005, 10);
  });
  it('has no ratio without runs of both clients', () => {
    expect(compareClients([run('kit', 300, 4)]).ratio).toBeUndefined();
  });
  it('compares runs with chosen ClusterIPs among themselves', () => {
    const runs = [run('kit', 100, 4), run('client-go', 100, 2), run('client-go', 400, 2, true), run('kit', 380, 4, true)];
    expect(compareClients(runs).ratio).toBe(1);
    expect(compareClients(runs, true).ratio).toBe(0.95);
  });
});

describe('bulk-create build', () => {
  const labGoMod = '// Code generated by lab/k8s/gen-gomod.sh; DO NOT EDIT.\n\nmodule kube-sli/lab/k8s\n\ngo 1.24.0\n\nrequire (\n\tk8s.io/client-go v0.34.4\n)\n\ntool k8s.io/kubernetes/test/images/agnhost\n\nreplace (\n\tk8s.io/client-go => k8s.io/client-go v0.34.4\n)\n';
  it('takes the lab module graph under another name, without its tools', () => {
    const m = bulkCreateGoMod(labGoMod);
    expect(m).toMatch(/^module kube-sli\/bench\/bulk-create$/m);
    expect(m).toMatch(/^\tk8s\.io\/client-go v0\.34\.4$/m);
    expect(m).toMatch(/k8s\.io\/client-go => k8s\.io\/client-go v0\.34\.4/);
    expect(m).not.toMatch(/^tool /m);
    expect(m).not.toMatch(/DO NOT EDIT/);
    expect(() => bulkCreateGoMod('module x\n\nrequire k8s.io/api v0.34.4\n')).toThrow(/does not require k8s.io\/client-go/);
  });
  it('keys the cache on the program, the module graph and the version', () => {
    const base = { mainGo: 'package main', labGoMod, labGoSum: 'sums', k8sVersion: 'v1.34.4\n' };
    const k = bulkCreateKey(base);
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(bulkCreateKey({ ...base, k8sVersion: 'v1.34.4' })).toBe(k);
    for (const change of [{ mainGo: 'package main // 2' }, { labGoSum: 'other' }, { k8sVersion: 'v1.34.5' }]) expect(bulkCreateKey({ ...base, ...change })).not.toBe(k);
  });
});

describe('apiserverWindow on recorded scrapes', () => {
  // the API server's /metrics before and after the kit created 2,000 Services + 2,000
  // EndpointSlices on the lab (2026-11-29, 32 in flight), trimmed to the families and
  // resources the bench reads
  const read = (f: string): string => readFileSync(new URL(`../../fixtures/bench-services/${f}`, import.meta.url), 'utf8');
  it('gives the POST latencies, the allocator’s IPAddress creates, etcd creates and the answer codes', async () => {
    const w = apiserverWindow(await parseMetrics(read('kit-metrics-before.txt')), await parseMetrics(read('kit-metrics-after.txt')));
    expect(w.postServices?.count).toBe(2000);
    expect(w.postServices?.meanSeconds).toBeCloseTo(0.6227, 4);
    expect(w.postSlices?.count).toBe(2000);
    expect(w.postSlices?.meanSeconds).toBeCloseTo(0.2548, 4);
    // one IPAddress per Service, made by the API server's ClusterIP allocator; 6 raced and got 409
    expect(w.postCodes).toEqual({ 'services 201': 2000, 'endpointslices 201': 2000, 'ipaddresses 201': 2000, 'ipaddresses 409': 6 });
    expect(w.postIpAddresses?.count).toBe(2006);
    expect(w.etcdCreates.services?.count).toBe(2000);
    expect(w.etcdCreates.endpointslices?.count).toBe(2000);
    expect(w.etcdCreates.ipaddresses?.count).toBe(2006);
    expect(w.postServices!.p50Seconds).toBeLessThan(w.postServices!.p99Seconds);
    // every Service went to 7 watchers, every slice to 4
    expect(w.watchEvents).toEqual({ services: 14007, endpointslices: 8002 });
    expect(w.apfWaitSeconds).toBeGreaterThan(0);
    expect(w.apfWaitSeconds).toBeLessThan(0.1);
  });
  it('is empty between two equal scrapes', async () => {
    const after = await parseMetrics(read('kit-metrics-after.txt'));
    const w = apiserverWindow(after, after);
    expect(w.postServices).toBeUndefined();
    expect(w.postCodes).toEqual({});
    expect(w.etcdCreates).toEqual({});
    expect(w.watchEvents).toEqual({ services: 0, endpointslices: 0 });
  });
});

describe('runRows', () => {
  it('gives CPU ms per object net of the quiet lab’s background use', () => {
    const r: RunFigures = {
      client: 'kit',
      chosenIps: true,
      objects: 4000,
      seconds: 50,
      objectsPerSecond: 80,
      phases: { servicesPerSecond: 50, slicesPerSecond: 133.3 },
      servicesBefore: 0,
      // the apiserver used 0.1 core when quiet: 5 of its 19 s over 50 s are background
      cpu: { 'kube-apiserver': 19, etcd: 4, 'kube-proxy': 8, 'kube-controller-manager': 1, 'kube-scheduler': 0.2, 'kubelet+containerd': 1, client: 4, 'rest of the machine': 75 },
      idleCores: { 'kube-apiserver': 0.1 },
      apiserver: { etcdCreates: { services: { count: 2000, meanSeconds: 0.01, p50Seconds: 0.005, p99Seconds: 0.1 }, endpointslices: { count: 2000, meanSeconds: 0.03, p50Seconds: 0.02, p99Seconds: 0.2 } }, postCodes: {}, apfWaitSeconds: 0.01, watchEvents: { services: 0, endpointslices: 0 } },
    };
    expect(cpuMsPerObject(r, 'kube-apiserver')).toBeCloseTo(3.5, 10);
    const [row] = runRows([r]);
    expect(row).toMatchObject({ run: '1 kit+ip', 'objects/s': '80', 'svc/s | slice/s': '50 | 133', 'etcd create ms (n)': '20.0 (4000)', 'CPU ms/object: apiserver': '3.50', etcd: '1.00', client: '1.00', 'rest of machine (cores)': '1.50' });
    expect(row!['POST ms mean svc|ipaddr|slice']).toBe('— | — | —');
  });
});
