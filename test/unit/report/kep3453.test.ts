// The gate on real history: the recorded rounds of `kube-sli ab` with kube-proxy v1.27.16
// in iptables mode, MinimizeIPTablesRestore off (base) against on (candidate), the
// programming-latency suite (test/fixtures/ab/kep3453/README.md). KEP-3453 "Minimize
// iptables-restore input size"
// (https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/3453-minimize-iptables-restore):
// the gate on must improve the one-more-Service programming latency and kube-proxy's sync
// duration; the other way round it is a regression (exit 1). The comparison is ab's own
// (compareRounds, abExitCode) and compare's CLI on single rounds.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nat, syncLines } from '../../../bench/kep3453.bench.js';
import { abExitCode } from '../../../src/cli/ab-command.js';
import { compareCommand } from '../../../src/cli/compare.js';
import { readReport } from '../../../src/report/io.js';
import { compareRounds } from '../../../src/report/rounds.js';
import type { ComparisonDocument, ComparisonRow, ReportDocument } from '../../../src/report/types.js';

const DIR = fileURLToPath(new URL('../../fixtures/ab/kep3453/forward/', import.meta.url));

async function rounds(side: 'base' | 'candidate'): Promise<ReportDocument[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith(`-${side}.report.json`)).sort();
  return Promise.all(files.map((f) => readReport(join(DIR, f))));
}

const off = await rounds('base');
const on = await rounds('candidate');
const services = String(off[0]!.workload.services);

function row(cmp: ComparisonDocument, sli: string, source: string, statistic: ComparisonRow['statistic']): ComparisonRow {
  const r = cmp.rows.find((x) => x.sli === sli && x.source === source && x.statistic === statistic && x.labels.case === 'one-more-service');
  if (!r) throw new Error(`no row ${sli}{${source},case=one-more-service} ${statistic} in ${cmp.rows.map((x) => `${x.sli}{${x.source},${JSON.stringify(x.labels)}} ${x.statistic}`).join('; ')}`);
  return r;
}
const prober = (cmp: ComparisonDocument) => row(cmp, 'network_programming_latency_seconds', 'prober', 'p50');
const sync = (cmp: ComparisonDocument) => row(cmp, 'kubeproxy_sync_proxy_rules_duration_seconds', 'kube-proxy-metric', 'p50');

describe(`KEP-3453 MinimizeIPTablesRestore, recorded on the lab (kube-proxy v1.27.16, iptables, ${services} Services)`, () => {
  it('the recordings are what they claim: v1.27.16, iptables, the gate off in every base round and on in every candidate round', () => {
    // the run's first three rounds (A B B): its fourth failed before it ran (fixtures README)
    expect(off.length).toBeGreaterThanOrEqual(1);
    expect(on.length).toBeGreaterThanOrEqual(2);
    for (const [docs, gate] of [[off, 'false'], [on, 'true']] as const) {
      for (const d of docs) {
        expect(d.environment.proxyMode).toBe('iptables');
        expect(d.environment.extra?.['kubeProxy.version']).toBe('v1.27.16');
        expect(String(d.environment.extra?.['kubeProxy.featureGates'])).toContain(`MinimizeIPTablesRestore=${gate}`);
      }
    }
  });

  it('gate on (candidate) improves the one-more-Service programming latency and the sync duration: every round agrees', () => {
    const cmp = compareRounds(off, on);
    for (const r of [prober(cmp), sync(cmp)]) {
      expect(r.verdict, `${r.sli}{${r.source}} ${r.statistic}: ${r.base} -> ${r.candidate} ci ${JSON.stringify(r.ci)} ${r.note ?? ''}`).toBe('improvement');
      expect(r.ci![1]).toBeLessThan(0);
      expect(r.note).toMatch(/every round agrees/);
    }
    // no series of kube-proxy's programming or syncs got worse
    const worse = cmp.rows.filter((r) => r.verdict === 'regression');
    expect(worse.filter((r) => r.sli !== 'api_write_seconds')).toEqual([]);
    // As recorded, ab's verdict is still exit 1: the API server's own write time for the big
    // Service (api_write_seconds, many-endpoints, p99 0.17 s → 0.43 s) got worse while
    // another lab's 500 hollow nodes loaded the machine during the candidate rounds (load
    // average above 1,000), and with a single base round the round check cannot tell drift
    // from change. Kept as measured; the README says so.
    expect(worse.map((r) => `${r.sli} ${r.labels.case} ${r.statistic}`)).toEqual(['api_write_seconds many-endpoints p99']);
    expect(abExitCode(cmp)).toBe(1);
  });

  it('the other way round (gate on as base, off as candidate) is a regression on the same rows: exit 1', () => {
    const cmp = compareRounds(on, off);
    for (const r of [prober(cmp), sync(cmp)]) {
      expect(r.verdict, `${r.sli}{${r.source}} ${r.statistic}: ${r.base} -> ${r.candidate}`).toBe('regression');
      expect(r.ci![0]).toBeGreaterThan(0);
    }
    expect(cmp.outcome).toBe('regression');
    expect(abExitCode(cmp)).toBe(1);
  });

  it('kube-sli compare on one round of each side: the same verdicts both ways; the other way round exits 1', async () => {
    const a = join(DIR, (await readdir(DIR)).filter((f) => f.endsWith('-base.report.json')).sort()[0]!);
    const b = join(DIR, (await readdir(DIR)).filter((f) => f.endsWith('-candidate.report.json')).sort()[0]!);
    const io = () => {
      const out: string[] = [];
      return { out, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) } };
    };
    const fwd = io();
    const fcode = await compareCommand([a, b, '--out-dir', '-', '--format', 'json'], fwd.io);
    const fcmp = JSON.parse(fwd.out[0]!) as ComparisonDocument;
    expect(prober(fcmp).verdict).toBe('improvement');
    expect(sync(fcmp).verdict).toBe('improvement');
    // exit 1 as recorded, from the API server's write time alone (see above), nothing of kube-proxy
    expect(fcmp.rows.filter((r) => r.verdict === 'regression').map((r) => r.sli)).toEqual(['api_write_seconds', 'api_write_seconds']);
    expect(fcode).toBe(1);
    const rev = io();
    expect(await compareCommand([b, a, '--out-dir', '-', '--format', 'json'], rev.io)).toBe(1);
    const rcmp = JSON.parse(rev.out[0]!) as ComparisonDocument;
    expect(prober(rcmp).verdict).toBe('regression');
    expect(sync(rcmp).verdict).toBe('regression');
  });

  it("kube-proxy's own logs: gate off rewrites every Service's rules on each sync, gate on only the changed ones", async () => {
    const offSyncs = syncLines(await readFile(join(DIR, 'kube-proxy-gate-off.log'), 'utf8'));
    const onSyncs = syncLines(await readFile(join(DIR, 'kube-proxy-gate-on.log'), 'utf8'));
    expect(offSyncs.length).toBeGreaterThan(0);
    expect(onSyncs.length).toBeGreaterThan(0);
    // with every filler Service and its 2 endpoints in place, gate off wrote far more NAT rules per sync than gate on
    const n = Number(services);
    const at = (xs: typeof offSyncs) => xs.filter((s) => s.numServices >= n && s.numEndpoints >= 2 * n);
    expect(at(offSyncs).length, nat(offSyncs)).toBeGreaterThan(0);
    expect(at(onSyncs).length, nat(onSyncs)).toBeGreaterThan(0);
    expect(Math.min(...at(offSyncs).map((s) => s.numNATRules))).toBeGreaterThan(n);
    expect(Math.max(...at(onSyncs).map((s) => s.numNATRules))).toBeLessThan(Math.min(...at(offSyncs).map((s) => s.numNATRules)) / 2);
  });
});

// A second run the other way round, as its own `kube-sli ab` (gate on as base, off as
// candidate, --rounds 1: A B), on a quieter machine: ab itself exited 1.
const REV = fileURLToPath(new URL('../../fixtures/ab/kep3453/reverse/', import.meta.url));
const revOn = [await readReport(join(REV, '01-base.report.json'))];
const revOff = [await readReport(join(REV, '02-candidate.report.json'))];

describe('KEP-3453, the reverse run (gate on as base, off as candidate)', () => {
  it('the recordings: gate on in the base round, off in the candidate round', () => {
    expect(revOn[0]!.environment.extra?.['kubeProxy.featureGates']).toBe('MinimizeIPTablesRestore=true');
    expect(revOff[0]!.environment.extra?.['kubeProxy.featureGates']).toBe('MinimizeIPTablesRestore=false');
  });

  it('is a regression on the one-more-Service programming latency and the sync duration: exit 1, as ab said', () => {
    const cmp = compareRounds(revOn, revOff);
    for (const r of [prober(cmp), sync(cmp)]) {
      expect(r.verdict, `${r.sli}{${r.source}} ${r.statistic}: ${r.base} -> ${r.candidate}`).toBe('regression');
      expect(r.ci![0]).toBeGreaterThan(0);
    }
    expect(abExitCode(cmp)).toBe(1);
  });

  it('its rounds taken the forward way (gate off as base) are improvements only: exit 0', () => {
    const cmp = compareRounds(revOff, revOn);
    expect(prober(cmp).verdict).toBe('improvement');
    expect(sync(cmp).verdict).toBe('improvement');
    expect(cmp.regressions).toBe(0);
    expect(abExitCode(cmp)).toBe(0);
  });
});

describe('syncLines', () => {
  it('reads what each sync wrote from kube-proxy v1.27 log lines, and nothing else', () => {
    const log = [
      'I1129 16:20:01.000000  123 proxier.go:852] "Syncing iptables rules"',
      'I1129 16:20:01.100000  123 proxier.go:1568] "Reloading service iptables data" numServices=3004 numEndpoints=6010 numFilterChains=5 numFilterRules=4 numNATChains=6012 numNATRules=15030',
      'I1129 16:20:03.000000  123 proxier.go:822] "SyncProxyRules complete" elapsed="1.9s"',
    ].join('\n');
    expect(syncLines(log)).toEqual([{ numServices: 3004, numEndpoints: 6010, numNATChains: 6012, numNATRules: 15030 }]);
    expect(syncLines('')).toEqual([]);
  });
});

// The complete run: A B B A, 2 rounds a side (the fixtures README), so the round-level
// t test applies; ab itself exited 0 with improvements only.
const ABBA = fileURLToPath(new URL('../../fixtures/ab/kep3453/abba/', import.meta.url));
const abbaOff = await Promise.all(['01-base', '04-base'].map((r) => readReport(join(ABBA, `${r}.report.json`))));
const abbaOn = await Promise.all(['02-candidate', '03-candidate'].map((r) => readReport(join(ABBA, `${r}.report.json`))));

describe('KEP-3453, the complete A B B A run (2 rounds a side)', () => {
  it('the recordings: v1.27.16, iptables, gate off in rounds 1 and 4, on in rounds 2 and 3, in that order', () => {
    for (const [docs, gate] of [[abbaOff, 'false'], [abbaOn, 'true']] as const) {
      for (const d of docs) {
        expect(d.environment.proxyMode).toBe('iptables');
        expect(d.environment.extra?.['kubeProxy.version']).toBe('v1.27.16');
        expect(String(d.environment.extra?.['kubeProxy.featureGates'])).toContain(`MinimizeIPTablesRestore=${gate}`);
      }
    }
    const starts = [abbaOff[0]!, abbaOn[0]!, abbaOn[1]!, abbaOff[1]!].map((d) => d.startedAt);
    expect([...starts].sort()).toEqual(starts);
  });

  it('gate on improves the one-more-Service prober latency and the sync duration by the round t test too; nothing regresses: exit 0', () => {
    const cmp = compareRounds(abbaOff, abbaOn);
    for (const r of [prober(cmp), sync(cmp)]) {
      expect(r.verdict, `${r.sli}{${r.source}} ${r.statistic}: ${r.note ?? ''}`).toBe('improvement');
      const t = /t = (-?[\d.]+), df 2, critical ([\d.]+)/.exec(r.note ?? '');
      expect(t, r.note).not.toBeNull();
      expect(Math.abs(Number(t![1]))).toBeGreaterThan(Number(t![2]));
    }
    expect(cmp.regressions).toBe(0);
    expect(abExitCode(cmp)).toBe(0);
  });

  it('the other way round is a regression on the same rows: exit 1', () => {
    const cmp = compareRounds(abbaOn, abbaOff);
    for (const r of [prober(cmp), sync(cmp)]) expect(r.verdict, r.note).toBe('regression');
    expect(abExitCode(cmp)).toBe(1);
  });

  it('a row the pooled samples call improved but whose base rounds spread wide is not counted, with its t', () => {
    // kube-proxy's own programming histogram for one more Service: base rounds 3.7 s and
    // 7.2 s (its window took in syncs of the bulk-created Services)
    const cmp = compareRounds(abbaOff, abbaOn);
    const r = row(cmp, 'network_programming_latency_seconds', 'kube-proxy-metric', 'p50');
    expect(r.verdict).toBe('no-significant-change');
    expect(r.note).toMatch(/differ by less than their own spread .*t = -\d+\.\d\d, df 2, critical 4\.30/);
  });

  it("kube-proxy's own logs: gate off wrote the whole NAT table on syncs with every Service in place, gate on a fraction", async () => {
    const n = Number(abbaOff[0]!.workload.services);
    const at = (xs: ReturnType<typeof syncLines>) => xs.filter((s) => s.numServices >= n && s.numEndpoints >= 2 * n);
    const off = at(syncLines(await readFile(join(ABBA, 'kube-proxy-gate-off.log'), 'utf8')));
    const on = at(syncLines(await readFile(join(ABBA, 'kube-proxy-gate-on.log'), 'utf8')));
    expect(off.length).toBeGreaterThan(0);
    expect(on.length).toBeGreaterThan(0);
    expect(Math.min(...off.map((s) => s.numNATRules))).toBeGreaterThan(n);
    expect(Math.max(...on.map((s) => s.numNATRules))).toBeLessThan(Math.min(...off.map((s) => s.numNATRules)) / 2);
  });
});
