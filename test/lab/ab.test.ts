// kube-sli ab as a user runs it, A/A: the lab's own kube-proxy on both sides, one small
// suite at a reduced workload, A B B A on one lab. Nothing may be flagged; the round
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

describe.skipIf(!!labSkipReason)('kube-sli ab', () => {
  it('A/A (the same kube-proxy on both sides, A B B A) flags nothing', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ksli-ab-out-'));
    dirs.push(out);
    const before = new Set(await listNetns());
    const r = await execa(process.execPath, [KUBE_SLI, 'ab', '--base', 'lab', '--candidate', 'lab', '--rounds', '2', '--proxy-mode', 'nftables', '--out-dir', out, SUITE], {
      // the parent's deadline scaling (a loaded machine) applies to the lab ab brings up
      env: childEnv({ ...WORKLOAD, ...(process.env.SLI_TIMEOUT_FACTOR ? { SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR } : {}) }),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 40 * 60_000,
    });
    const all = String(r.all ?? '');
    expect(r.exitCode, all.slice(-4000)).toBe(0);
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
});
