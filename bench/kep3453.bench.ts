// The gate proven on real history: KEP-3453 "Minimize iptables-restore input size"
// (https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/3453-minimize-iptables-restore).
// With MinimizeIPTablesRestore off, kube-proxy's iptables mode rewrites every rule on every
// sync; with it on (beta, on by default in v1.27) only the chains of Services that changed.
// `kube-sli ab` as a user runs it: kube-proxy v1.27.16, iptables mode, the gate off (A)
// against on (B), the programming-latency suites (one more Service next to `services` Services), both sides at
// --v=2 so that kube-proxy logs what each sync wrote. Then the same rounds the other way
// round (on as base, off as candidate) through the same comparison (compareRounds), which
// must be a regression. Too slow for CI (minutes per round): a benchmark, printed.
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abExitCode } from '../src/cli/ab-command.js';
import { repoRoot } from '../src/lab/binaries.js';
import { readReport } from '../src/report/io.js';
import { compareRounds } from '../src/report/rounds.js';
import type { ComparisonDocument, ComparisonRow, ReportDocument } from '../src/report/types.js';
import { quantileSorted, sortedCopy } from '../src/sli/index.js';

export const KEP3453_VERSION = 'v1.27.16';
export const GATE = 'MinimizeIPTablesRestore';
/** the programming suites: a new Service and many endpoints without fillers, one more Service next to `services` */
export const KEP3453_SUITES = ['suites/programming-latency.slo.test.ts', 'suites/programming-at-scale.slo.test.ts'];

/** One "Reloading service iptables data" line of kube-proxy's iptables proxier (--v=2). */
export interface SyncLine {
  numServices: number;
  numEndpoints: number;
  numNATChains: number;
  numNATRules: number;
}

/** The syncs a kube-proxy log records: what each wrote (v1.27's proxier logs it at --v=2 before iptables-restore). */
export function syncLines(log: string): SyncLine[] {
  const out: SyncLine[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('"Reloading service iptables data"')) continue;
    const num = (k: string) => Number(new RegExp(`\\b${k}=(\\d+)`).exec(line)?.[1] ?? NaN);
    out.push({ numServices: num('numServices'), numEndpoints: num('numEndpoints'), numNATChains: num('numNATChains'), numNATRules: num('numNATRules') });
  }
  return out;
}

/** The syncs of the rounds of one side, from the kube-proxy logs ab kept beside each round's report. */
export async function roundSyncs(outDir: string, side: 'base' | 'candidate'): Promise<SyncLine[]> {
  const rounds = join(outDir, 'rounds');
  const out: SyncLine[] = [];
  for (const r of (await readdir(rounds)).filter((d) => d.endsWith(`-${side}`)).sort()) {
    for (const f of (await readdir(join(rounds, r))).filter((n) => /^kube-proxy-.+\.log$/.test(n))) out.push(...syncLines(await readFile(join(rounds, r, f), 'utf8')));
  }
  return out;
}

/** Round reports of one side, in run order. */
export async function roundReports(outDir: string, side: 'base' | 'candidate'): Promise<ReportDocument[]> {
  const rounds = join(outDir, 'rounds');
  const dirs = (await readdir(rounds)).filter((d) => d.endsWith(`-${side}`)).sort();
  return Promise.all(dirs.map((d) => readReport(join(rounds, d, 'report.json'))));
}

/** The rows the KEP's claim is about: one more Service next to the others, prober and kube-proxy's sync. */
export function keyRows(cmp: ComparisonDocument): ComparisonRow[] {
  return cmp.rows.filter(
    (r) =>
      r.labels.case === 'one-more-service' &&
      ((r.sli === 'network_programming_latency_seconds' && (r.source === 'prober' || r.source === 'kube-proxy-metric')) || r.sli === 'kubeproxy_sync_proxy_rules_duration_seconds'),
  );
}

const ms = (s: number | null) => (s === null ? '—' : `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms`);

export function rowTable(rows: readonly ComparisonRow[]): Record<string, string>[] {
  return rows.map((r) => ({
    series: `${r.sli}{${r.source}}`,
    stat: r.statistic,
    base: ms(r.base),
    candidate: ms(r.candidate),
    change: r.relativeChange === null ? '—' : `${r.relativeChange > 0 ? '+' : ''}${(r.relativeChange * 100).toFixed(0)} %`,
    '95 % CI of the change': r.ci ? `[${ms(r.ci[0])}, ${ms(r.ci[1])}]` : '—',
    verdict: r.verdict,
  }));
}

export function nat(syncs: readonly SyncLine[]): string {
  if (syncs.length === 0) return 'no "Reloading service iptables data" lines (kube-proxy not at --v=2?)';
  const rules = sortedCopy(syncs.map((s) => s.numNATRules));
  return `${syncs.length} syncs, NAT rules written per sync p50 ${quantileSorted(rules, 0.5)}, max ${rules[rules.length - 1]} (at up to ${Math.max(...syncs.map((s) => s.numServices))} Services)`;
}

export interface Kep3453Figures {
  services: number;
  rounds: number;
  seconds: number;
  exitCode: number;
  forward: ComparisonDocument;
  reverse: ComparisonDocument;
  reverseExitCode: number;
  syncs: { off: SyncLine[]; on: SyncLine[] };
  outDir: string;
  tail: string;
}

/**
 * Runs the historical A/B (gate off as base, on as candidate) on a fresh lab and compares
 * its rounds both ways. `outDir` keeps the rounds (else a temporary directory, removed).
 */
export async function benchKep3453(o: { services: number; rounds?: number; outDir?: string; env?: Record<string, string> }): Promise<Kep3453Figures> {
  const rounds = o.rounds ?? 2;
  const tmp = o.outDir ? undefined : await mkdtemp(join(tmpdir(), 'ksli-kep3453-'));
  const outDir = o.outDir ?? tmp!;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLI_') && k !== 'KUBECONFIG' && k !== 'SERVICES') env[k] = v;
  try {
    const t0 = performance.now();
    const r = await execa(
      process.execPath,
      [
        join(repoRoot(), 'bin', 'kube-sli.js'),
        'ab',
        '--proxy-mode', 'iptables',
        '--base', KEP3453_VERSION, `--base-arg=--feature-gates=${GATE}=false`, '--base-arg=--v=2',
        '--candidate', KEP3453_VERSION, `--candidate-arg=--feature-gates=${GATE}=true`, '--candidate-arg=--v=2',
        '--rounds', String(rounds),
        '--out-dir', outDir,
        ...KEP3453_SUITES,
      ],
      {
        cwd: repoRoot(),
        env: { ...env, SLI_PROFILE: 'default', SERVICES: String(o.services), ...(process.env.SLI_TIMEOUT_FACTOR ? { SLI_TIMEOUT_FACTOR: process.env.SLI_TIMEOUT_FACTOR } : {}), ...o.env },
        extendEnv: false,
        reject: false,
        all: true,
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const all = String(r.all ?? '');
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`kube-sli ab exited ${r.exitCode ?? r.signal}:\n${all.split('\n').slice(-60).join('\n')}`);
    const forward = JSON.parse(await readFile(join(outDir, 'compare.json'), 'utf8')) as ComparisonDocument;
    const off = await roundReports(outDir, 'base');
    const on = await roundReports(outDir, 'candidate');
    const reverse = compareRounds(on, off, { baseName: `${GATE}=true`, candidateName: `${GATE}=false` });
    return {
      services: o.services,
      rounds,
      seconds,
      exitCode: r.exitCode,
      forward,
      reverse,
      reverseExitCode: abExitCode(reverse),
      syncs: { off: await roundSyncs(outDir, 'base'), on: await roundSyncs(outDir, 'candidate') },
      outDir,
      tail: all.split('\n').filter((l) => /kube-sli ab:|PASS|FAIL|INCONCLUSIVE|kube-proxy:/.test(l)).slice(-80).join('\n'),
    };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
