// Waiting for kube-proxy to go quiet, on recorded kube-proxy v1.34.4 scrapes: the sync
// state one scrape gives (pending changes, sync count), the still-span logic, and the wait
// itself over stand-in sources that serve the recorded texts in order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQuiet, longestSyncBound, quietStep, requiredQuietMs, settleKubeProxies, startTrack, syncState, type SyncState } from '../../../src/kube/kube-proxy-quiet.js';
import { isUnavailable } from '../../../src/kube/metrics-window.js';
import { parseMetrics } from '../../../src/kube/prom-text.js';
import { recordedSource } from '../support/recorded-source.js';

const text = (name: string): string => readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy', name), 'utf8');

async function state(name: string): Promise<SyncState> {
  const s = syncState(await parseMetrics(text(name)));
  if (isUnavailable(s)) throw new Error(s.unavailable);
  return s;
}


describe('syncState (pure)', () => {
  it('a lab kube-proxy right after start-up: its full syncs done, nothing pending', async () => {
    const s = await state('metrics-nftables.txt');
    expect(s.syncs).toBe(2); // IPv4 and IPv6 proxier, one full sync each
    expect(s.syncSeconds).toBeCloseTo(0.028704348 + 0.031127378, 9);
    expect(s.pending).toEqual([]);
  });

  it('after 5 Services were programmed: 2 more syncs, nothing pending', async () => {
    const s = await state('metrics-nftables-after.txt');
    expect(s.syncs).toBe(4);
    expect(s.pending).toEqual([]);
  });

  it('kube-proxy at 2,000 Services while still catching up: the IPv4 proxier has a change queued after its last sync', async () => {
    const s = await state('metrics-nftables-bulk-busy.txt');
    expect(s.pending).toEqual(['IPv4']);
  });

  it('something without the stamps is unavailable, with the reason', async () => {
    expect(syncState(await parseMetrics('# TYPE up gauge\nup 1\n'))).toEqual({ unavailable: expect.stringMatching(/kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds is not exposed/) });
  });
});

describe('quietStep / isQuiet (pure)', () => {
  it('quiet only once the sync count stood still for the quiet span plus the longest sync seen', async () => {
    const before = await state('metrics-nftables.txt');
    const after = await state('metrics-nftables-after.txt');
    let t = startTrack(before, 0);
    expect(isQuiet(t, 2000)).toBe(false); // one scrape: nothing stood still yet
    t = quietStep(t, after, 500); // 2 syncs completed: the still-span starts again
    expect(t.since.atMs).toBe(500);
    // the two syncs took 0.0495 s together: that bounds the longest one
    expect(t.longestSyncSeconds).toBeCloseTo(0.078179356 - 0.028704348, 9);
    expect(requiredQuietMs(t, 2000)).toBe(2050);
    t = quietStep(t, after, 2500);
    expect(isQuiet(t, 2000)).toBe(false); // still 2.0 s < 2.05 s
    t = quietStep(t, after, 2600);
    expect(isQuiet(t, 2000)).toBe(true);
  });

  it('a pending change is never quiet, however long nothing moved', async () => {
    const busy = await state('metrics-nftables-bulk-busy.txt');
    let t = startTrack(busy, 0);
    t = quietStep(t, busy, 60_000);
    expect(isQuiet(t, 2000)).toBe(false);
  });

  it('counters going backwards (a restart) start the track over', async () => {
    const before = await state('metrics-nftables.txt');
    const after = await state('metrics-nftables-after.txt');
    const t = quietStep(quietStep(startTrack(after, 0), after, 5000), before, 6000);
    expect(t.first.atMs).toBe(6000);
    expect(t.since.atMs).toBe(6000);
    expect(isQuiet(t, 2000)).toBe(false);
  });
});

describe('longestSyncBound (pure)', () => {
  it('two syncs between scrapes: their summed seconds bound the longest', async () => {
    expect(longestSyncBound(await state('metrics-nftables.txt'), await state('metrics-nftables-after.txt'))).toBeCloseTo(0.078179356 - 0.028704348, 9);
  });

  it('299 syncs between scrapes: the highest bucket they reach (2.048 s), not their 84 s sum', async () => {
    expect(longestSyncBound(await state('metrics-nftables-bulk-busy.txt'), await state('metrics-nftables-bulk-quiet.txt'))).toBe(2.048);
  });
});

describe('settleKubeProxies', () => {
  it('waits until every node is quiet; counts the syncs it waited through', { timeout: 20_000 }, async () => {
    const n0 = recordedSource('node0', [text('metrics-nftables-bulk-busy.txt'), text('metrics-nftables-bulk-quiet.txt')]);
    const n1 = recordedSource('node1', [text('metrics-nftables-node1.txt'), text('metrics-nftables-node1-after.txt')]);
    const r = await settleKubeProxies([n0, n1], { quietMs: 30, pollMs: 5, timeoutMs: 60_000 });
    expect(r.quiet).toBe(true);
    expect(r.timedOut).toBeUndefined();
    // node0's syncs while waiting reached the 2.048 s bucket: it had to stand still that long too
    expect(r.seconds).toBeGreaterThanOrEqual(2.048 + 0.03);
    expect(n0.reads).toBeGreaterThan(2); // stood still over several scrapes
    expect(r.nodes.map((n) => [n.node, n.quiet])).toEqual([
      ['node0', true],
      ['node1', true],
    ]);
    expect(r.nodes[1]!.syncs).toBe(2);
    expect(r.nodes[0]!.syncs).toBeGreaterThan(0);
  });

  it('leaves out a kube-proxy without the stamps, or unreadable at the first scrape, with the reason', async () => {
    const other = recordedSource('node2', ['# TYPE up gauge\nup 1\n']);
    const down = recordedSource('node3', [new Error('HTTP 503: no endpoints')]);
    const n0 = recordedSource('node0', [text('metrics-nftables-after.txt')]);
    const r = await settleKubeProxies([n0, other, down], { quietMs: 10, pollMs: 5, timeoutMs: 60_000 });
    expect(r.quiet).toBe(true);
    expect(r.nodes[1]).toEqual({ node: 'node2', unavailable: expect.stringMatching(/last_queued_timestamp_seconds is not exposed/) });
    expect(r.nodes[2]).toEqual({ node: 'node3', unavailable: 'kube-proxy node3 (recorded): HTTP 503: no endpoints' });
    expect(down.reads).toBe(1);
  });

  it('returns not quiet at the deadline, naming the pending change, instead of throwing', async () => {
    const n0 = recordedSource('node0', [text('metrics-nftables-bulk-busy.txt')]);
    const r = await settleKubeProxies([n0], { quietMs: 10, pollMs: 5, timeoutMs: 50, what: 'before probe 2' });
    expect(r.quiet).toBe(false);
    expect(r.timedOut).toMatch(/every kube-proxy quiet before probe 2: not done after 0.05 s; last state: node0: change pending \(IPv4\)/);
    expect(r.nodes[0]).toMatchObject({ node: 'node0', quiet: false, syncs: 0 });
  });

  it('a later failed read keeps the node waiting', async () => {
    const n0 = recordedSource('node0', [text('metrics-nftables-after.txt'), new Error('connection reset')]);
    const r = await settleKubeProxies([n0], { quietMs: 10, pollMs: 5, timeoutMs: 50 });
    expect(r.quiet).toBe(false);
    expect(r.timedOut).toMatch(/node0: kube-proxy node0 \(recorded\): connection reset/);
    expect(r.nodes[0]!.quiet).toBe(false);
  });
});
