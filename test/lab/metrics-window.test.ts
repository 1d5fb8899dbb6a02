// The metrics window against a real lab (nftables, 2 nodes): both kube-proxies scraped
// through the API server's node proxy when the window opens, 5 Services + EndpointSlices
// created, and once both kube-proxies have caught up (a sync after the change, no changes
// pending) the window closes with the programming latency of those changes, sync
// durations, CPU and memory per node. Temp state dir and free ports, so it never meets
// another lab. Needs Linux + root.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeProxyAgent, proxyText } from '../../src/kube/proxy.js';
import { kubeClients, type KubeClients } from '../../src/kube/clients.js';
import {
  isUnavailable,
  kubeProxySources,
  LAST_SYNC_TIMESTAMP,
  openMetricsWindow,
  type CpuWindow,
  type HistogramWindow,
  type LastSync,
} from '../../src/kube/metrics-window.js';
import { gaugeValue, parseMetrics, samples } from '../../src/kube/prom-text.js';
import { createServiceSet } from '../../src/kube/services.js';
import { newSessionId } from '../../src/kube/session.js';
import { labDown, labUp, type LabUpResult } from '../../src/lab/lab.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`lab test skipped: ${labSkipReason}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ok<T extends object>(what: string, x: T | { unavailable: string }): T {
  if (isUnavailable(x)) throw new Error(`${what} unavailable: ${x.unavailable}`);
  return x;
}

/** kube-proxy on `node` has synced after `sinceSeconds` and has no Service/endpoint change pending. */
async function caughtUp(clients: KubeClients, node: string, sinceSeconds: number): Promise<boolean> {
  const f = await parseMetrics(await proxyText(clients, { kind: 'node', name: node, port: 10249 }, '/metrics'));
  const last = Math.max(...samples(f, LAST_SYNC_TIMESTAMP).map((s) => s.value));
  return (
    last > sinceSeconds &&
    gaugeValue(f, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending') === 0 &&
    gaugeValue(f, 'kubeproxy_sync_proxy_rules_service_changes_pending') === 0
  );
}

describe.skipIf(labSkipReason !== undefined)('metrics window on a lab (root, real kube-proxy)', () => {
  let stateDir: string | undefined;
  let lab: LabUpResult;
  let clients: KubeClients | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ksli-mwin-'));
    await rm(stateDir, { recursive: true }); // lab up makes it
    lab = await labUp({ nodes: 2, proxyMode: 'nftables', stateDir, ports: await freeControlPlanePorts() });
    clients = kubeClients(lab.kubeconfigPath);
  });

  afterAll(async () => {
    if (clients) closeProxyAgent(clients);
    if (stateDir) {
      // even when the test (or lab up) failed half way
      await labDown(stateDir).catch((e: unknown) => console.error(`labDown: ${(e as Error).message}`));
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('5 Services + EndpointSlices → per-node programming latency, sync durations, CPU, memory; merged over both nodes', async () => {
    const c = clients!;
    expect(lab.nodes).toEqual(['node0', 'node1']);
    const window = await openMetricsWindow(kubeProxySources(c, lab.nodes));
    expect(window.failedAtStart).toEqual([]);

    await createServiceSet(c, {
      namespace: 'default',
      session: newSessionId(),
      prefix: 'mwin',
      count: 5,
      endpointsPerService: 2,
      endpointIps: (i) => [`10.244.0.${100 + i}`, `10.244.1.${100 + i}`],
    });
    const changedAt = Date.now() / 1000;

    // no sleeps: poll both kube-proxies until each has synced after the change, with a deadline
    const deadline = Date.now() + 60_000;
    const pending = new Set(lab.nodes);
    let lastError = '';
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`kube-proxy on ${[...pending].join(', ')} did not sync within 60 s of the change ${lastError}`);
      for (const node of [...pending]) {
        try {
          if (await caughtUp(c, node, changedAt)) pending.delete(node);
        } catch (e) {
          lastError = `(last error: ${(e as Error).message})`;
        }
      }
      if (pending.size > 0) await sleep(200);
    }

    const r = await window.close();
    expect(r.seconds).toBeGreaterThan(0);
    expect(r.sources.map((s) => [s.node, s.ok])).toEqual([['node0', true], ['node1', true]]);
    for (const s of r.sources) {
      if (!s.ok) throw new Error(`${s.source}: ${s.error}`);
      const prog = ok<HistogramWindow>(`${s.node} programming`, s.programming);
      expect(prog.count, s.node).toBeGreaterThanOrEqual(1);
      for (const v of [prog.sum, prog.p50, prog.p99]) expect(Number.isFinite(v), `${s.node} programming ${v}`).toBe(true);
      expect(prog.p50).toBeGreaterThanOrEqual(0);
      expect(prog.p99).toBeGreaterThanOrEqual(prog.p50);
      expect(prog.reset).toBe(false);
      const sync = ok<HistogramWindow>(`${s.node} sync`, s.syncDuration);
      expect(sync.count).toBeGreaterThanOrEqual(1);
      for (const v of [sync.sum, sync.p50, sync.p99]) expect(Number.isFinite(v), `${s.node} sync ${v}`).toBe(true);
      const cpu = ok<CpuWindow>(`${s.node} cpu`, s.cpu);
      expect(cpu.seconds).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(cpu.cores)).toBe(true);
      expect(cpu.cores).toBeGreaterThanOrEqual(0);
      expect(s.residentMemoryBytes).toBeGreaterThan(0);
      const last = ok<LastSync>(`${s.node} last sync`, s.lastSync);
      expect(last.moved).toBe(true);
      expect(last.end).toBeGreaterThan(changedAt);
      expect(s.restarted).toBe(false);
    }
    expect(r.merged.nodes).toEqual(['node0', 'node1']);
    const merged = ok<HistogramWindow>('merged programming', r.merged.programming);
    expect(merged.count).toBeGreaterThanOrEqual(2);
    expect(Number.isFinite(merged.p99)).toBe(true);
    expect(ok<HistogramWindow>('merged sync', r.merged.syncDuration).count).toBeGreaterThanOrEqual(2);
  });
});
