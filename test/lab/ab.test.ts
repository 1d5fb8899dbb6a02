// kube-sli ab as a user runs it, A/A: the lab's own kube-proxy on both sides, one small
// suite at a reduced workload, A B B A on one lab (and --paired: both at once, one per
// node, first-packet latency). Nothing may be flagged; the round
// reports record kube-proxy as it reports itself; the lab is gone afterwards. Needs Linux + root.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { listNetns } from '../../src/netns/netns.js';
import { defaultLabId } from '../../src/lab/lab.js';
import { readReport, type ComparisonDocument } from '../../src/report/index.js';
import { labSkipReason } from './support/ports.js';
import { childEnv, KUBE_SLI } from './support/slo-run.js';
import { readFile } from 'node:fs/promises';

if (labSkipReason) console.warn(`kube-sli ab test skipped: ${labSkipReason}`);

const SUITE = 'suites/connection-total-latency.slo.test.ts';
const WORKLOAD = { SERVICES: '100', CLIENTS: '4', CONN_PER_CLIENT: '300', SLI_PROFILE: 'default' };

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** kube-sli ab A/A (the lab's kube-proxy on both sides) as a user runs it; it must exit 0. */
async function runAb(args: string[]): Promise<{ out: string; before: Set<string>; all: string }> {
  const out = await mkdtemp(join(tmpdir(), 'ksli-ab-out-'));
  dirs.push(out);
  const before = new Set(await listNetns());
  const r = await execa(process.execPath, [KUBE_SLI, 'ab', '--base', 'lab', '--candidate', 'lab', '--out-dir', out, ...args], {
    // the parent's deadline scaling (a loaded machine) applies to the lab ab brings up
    env: childEnv({ ...WORKLOAD, ...(process.env.SLI_TIMEOUT_FACTOR ? { SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR } : {}) }),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 40 * 60_000,
  });
  const all = String(r.all ?? '');
  expect(r.exitCode, all.slice(-4000)).toBe(0);
  return { out, before, all };
}

describe.skipIf(!!labSkipReason)('kube-sli ab', () => {
  it('A/A (the same kube-proxy on both sides, A B B A) flags nothing', async () => {
    const { out, before, all } = await runAb(['--rounds', '2', '--proxy-mode', 'nftables', SUITE]);
    const cmp = JSON.parse(await readFile(join(out, 'compare.json'), 'utf8')) as ComparisonDocument;
    expect(cmp.rows.length).toBeGreaterThan(0);
    expect(cmp.regressions, JSON.stringify(cmp.rows.filter((x) => x.verdict === 'regression'), null, 1)).toBe(0);
    expect(cmp.outcome).toBe('no-regression');
    expect(all).toMatch(/swapped to candidate in [\d.]+ s \(synced, probe Service reachable\)/);
    const rounds = (await readdir(join(out, 'rounds'))).sort();
    expect(rounds).toEqual(['01-base', '02-candidate', '03-candidate', '04-base']);
    const doc = await readReport(join(out, 'rounds', '01-base', 'report.json'));
    expect(doc.environment.extra?.['kubeProxy.version']).toMatch(/^v1\.\d+\.\d+/);
    for (const f of ['compare.md', 'compare.html']) expect((await readFile(join(out, f), 'utf8')).length).toBeGreaterThan(100);
    // nothing of the run's lab is left (its own namespaces: other labs may come and go meanwhile)
    const stateDir = /lab up \([^)]*\) in (\S+) with/.exec(all)?.[1];
    expect(stateDir, 'ab names the lab it brought up').toBeDefined();
    expect((await listNetns()).filter((n) => !before.has(n) && n.startsWith(`ksli-lab-${defaultLabId(stateDir!)}-`))).toEqual([]);
    console.log(`A/A: ${cmp.rows.length} rows, ${cmp.rows.filter((x) => x.note?.includes('not counted')).length} pooled-only differences not counted (rounds overlap, or within their spread by the round t test); ${cmp.warnings.join(' | ')}`);
  }, 45 * 60_000);

  it('A/A --paired (both kube-proxies at once, one per node, swapped) flags nothing and compares each node\'s same-node connections', async () => {
    const { out, before, all } = await runAb(['--paired', '--rounds', '4', 'suites/first-packet-latency.slo.test.ts']);
    // 4 runs (the default is 6; 4 keeps CI short): base on node0, node1, node1, node0
    expect((await readdir(join(out, 'rounds'))).sort()).toEqual(['01-paired', '02-paired', '03-paired', '04-paired']);
    expect(all).toMatch(/swapped to base on node0, candidate on node1 in [\d.]+ s/);
    expect(all).toMatch(/swapped to base on node1, candidate on node0 in [\d.]+ s/);
    // each round measured both nodes' same-node connections, as their own series
    const doc = await readReport(join(out, 'rounds', '01-paired', 'report.json'));
    const byNode = doc.series.filter((s) => s.labels.clientNode !== undefined).map((s) => `${s.labels.clientNode} ${s.labels.path}`);
    expect(byNode.sort()).toEqual(['node0 same-node', 'node1 same-node']);
    expect(doc.series.filter((s) => s.labels.clientNode !== undefined).every((s) => s.summary.count > 50)).toBe(true);
    expect(doc.environment.extra?.['kubeProxy.flags']).toMatch(/node0: .*kube-proxy/);
    const cmp = JSON.parse(await readFile(join(out, 'compare.json'), 'utf8')) as ComparisonDocument;
    // only the series one node's dataplane owns are compared
    expect(cmp.rows.map((x) => x.seriesId)).toContain('first_packet_latency_seconds{source="capture",path="same-node",services="100"}');
    expect(cmp.rows.every((x) => x.seriesId.includes('path="same-node"'))).toBe(true);
    expect(cmp.regressions, JSON.stringify(cmp.rows.filter((x) => x.verdict === 'regression'), null, 1)).toBe(0);
    expect(cmp.warnings.join('\n')).toMatch(/4 paired runs \(both sides at once; base on node half 0 1 1 0\)/);
    const stateDir = /lab up \([^)]*\) in (\S+) with/.exec(all)?.[1];
    expect(stateDir, 'ab names the lab it brought up').toBeDefined();
    expect((await listNetns()).filter((n) => !before.has(n) && n.startsWith(`ksli-lab-${defaultLabId(stateDir!)}-`))).toEqual([]);
    console.log(`A/A paired: ${cmp.rows.map((x) => `${x.statistic} ${x.relativeChange === null ? '-' : (x.relativeChange * 100).toFixed(1)} % (${x.verdict})`).join(', ')}`);
  }, 45 * 60_000);
});
