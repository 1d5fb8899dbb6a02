// kube-proxy's sync durations as a series of the programming measurement: from recorded
// kube-proxy scrapes (iptables mode, before and after 5 Services were programmed) through
// the metrics window's delta, recorded with the real Recorder into a test's meta.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadRunConfig } from '../../../src/config/knobs.js';
import { mergeDeltas, SYNC_DURATION, windowDelta, type WindowResult } from '../../../src/kube/metrics-window.js';
import { parseMetrics } from '../../../src/kube/prom-text.js';
import type { KubeSliMeta } from '../../../src/report/index.js';
import { Recorder } from '../../../fixtures/results.js';
import { unitTarget } from '../support/target.js';
import { recordSyncDuration } from '../../../measurements/network-programming-latency.js';

vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

const parsed = (name: string) => parseMetrics(readFileSync(join(import.meta.dirname, '../../fixtures/kube-proxy', name), 'utf8'));
const target = unitTarget('iptables');

async function windowOf(start: string, end: string): Promise<WindowResult> {
  const delta = windowDelta(await parsed(start), await parsed(end), 10);
  return {
    startedAt: '2026-11-29T10:00:00.000Z',
    endedAt: '2026-11-29T10:00:10.000Z',
    seconds: 10,
    sources: [{ source: 'kube-proxy node0', node: 'node0', ok: true, seconds: 10, ...delta }],
    merged: mergeDeltas([{ node: 'node0', delta }]),
  };
}

describe('recordSyncDuration', () => {
  it("records the window's syncs as kubeproxy_sync_proxy_rules_duration_seconds: source, window instants, sync count", async () => {
    const task = { meta: {} as Record<string, unknown> };
    const labels = { case: 'one-more-service', services: '3000' };
    recordSyncDuration(new Recorder(task, target, loadRunConfig({})), await windowOf('metrics-iptables.txt', 'metrics-iptables-after.txt'), labels);
    const series = (task.meta.kubeSli as KubeSliMeta).series;
    expect(series).toHaveLength(1);
    const s = series[0]!;
    expect(s).toMatchObject({ sli: SYNC_DURATION, source: 'kube-proxy-metric', labels, direction: 'lower-is-better' });
    // IPv4: 1 → 3 syncs, IPv6: 1 → 1 in the recorded scrapes
    expect(s.summary.count).toBe(2);
    const def = (s.notes ?? []).find((n) => n.kind === 'definition')!.text;
    expect(def).toContain('from 2026-11-29T10:00:00.000Z to 2026-11-29T10:00:10.000Z: 2 syncs');
    expect(def).toContain('over node0');
    expect((s.notes ?? []).some((n) => n.kind === 'warning')).toBe(false);
  });

  it('records nothing for a window without syncs (no series of zero samples)', async () => {
    const task = { meta: {} as Record<string, unknown> };
    recordSyncDuration(new Recorder(task, target, loadRunConfig({})), await windowOf('metrics-iptables-after.txt', 'metrics-iptables-after.txt'), { case: 'new-service' });
    expect(task.meta.kubeSli).toBeUndefined();
  });

  it('warns when a kube-proxy restarted inside the window', async () => {
    const task = { meta: {} as Record<string, unknown> };
    const w = await windowOf('metrics-iptables.txt', 'metrics-iptables-after.txt');
    const merged = w.merged.syncDuration as Exclude<typeof w.merged.syncDuration, { unavailable: string }>;
    recordSyncDuration(new Recorder(task, target, loadRunConfig({})), { ...w, merged: { ...w.merged, syncDuration: { ...merged, reset: true } } }, { case: 'new-service' });
    const s = (task.meta.kubeSli as KubeSliMeta).series[0]!;
    expect((s.notes ?? []).find((n) => n.kind === 'warning')?.text).toMatch(/restarted/);
  });

  it('says so when syncs took longer than the highest finite bucket (their samples are that bound)', async () => {
    const task = { meta: {} as Record<string, unknown> };
    const w = await windowOf('metrics-iptables.txt', 'metrics-iptables-after.txt');
    const merged = w.merged.syncDuration as Exclude<typeof w.merged.syncDuration, { unavailable: string }>;
    // 3 more observations, all beyond the last finite bound: only the +Inf bucket and the count grow
    const buckets = merged.histogram.buckets.map((b) => (Number.isFinite(b.le) ? b : { le: b.le, count: b.count + 3 }));
    const over = { ...merged, count: merged.count + 3, histogram: { ...merged.histogram, buckets, count: merged.count + 3 } };
    recordSyncDuration(new Recorder(task, target, loadRunConfig({})), { ...w, merged: { ...w.merged, syncDuration: over } }, { case: 'new-service' });
    const s = (task.meta.kubeSli as KubeSliMeta).series[0]!;
    expect((s.notes ?? []).find((n) => n.kind === 'warning')?.text).toMatch(/^3 of 5 syncs took longer than the highest finite bucket/);
  });
});
