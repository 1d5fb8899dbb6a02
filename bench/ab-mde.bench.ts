// The resolution of `kube-sli ab` (`npm run bench -- ab [runs] [sizes…]`): known slowdowns
// of graded size injected into the lab's dataplane, each measured by ab at its default
// rounds `runs` times, beside `runs` A/A runs; tallied by src/report/mde.ts.
//
// The injection is a kube-proxy wrapper (a bash script named kube-proxy, so the lab's
// multi-call binary dispatches on it and the lab's process records still match), which ab
// takes as a kube-proxy path. Run inside a lab node's network namespace, before it execs
// the real kube-proxy it
//   rules=N: (re)installs the nftables table `inet ksli_slow`: base chains on prerouting and
//     output at priority -150 (mangle: after conntrack at -200, before kube-proxy's earliest
//     base chains, filter at dstnat-10 = -110 and nat at dstnat = -100) that send every packet of a new connection (`ct state new`)
//     through N rules that never match (`ip daddr 198.18.x.y`, RFC 2544's benchmarking
//     range, never routed here). Only the first packet of a connection pays, in every node
//     namespace it crosses: the SYN, inside first-packet latency's SYN→SYN-ACK interval.
//   sync=Dms: puts `nft`, `iptables-restore` and `ip6tables-restore` shims first on
//     kube-proxy's PATH that sleep D ms before running the real tool: every call kube-proxy
//     makes to them takes D ms longer (a v1.34 nftables sync makes several), inside the
//     +1-Service programming interval. A fixed
//     delay rather than a CPU quota: a quota's effect on a sync depends on what else runs
//     on the shared cores, and the lab moves kube-proxy into its node cgroup after start.
//   the base (rules=0): deletes the table, so each swap of ab removes or installs it.
// The table lives in the lab's node namespaces only; lab down deletes them with it.
// `--version` / `--help` / `--write-config-to` pass straight through (ab checks the binary).
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PAIRED_SUITES, suiteEnv } from '../src/cli/ab-command.js';
import { CLIENT_NODE_LABEL, nodeHalves, pairedOrder, splitPairedRound } from '../src/report/paired.js';
import { findBinaries, repoRoot } from '../src/lab/binaries.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { resolveKubeProxy, type KubeProxyChoice } from '../src/lab/kube-proxy-choice.js';
import { swapKubeProxy } from '../src/lab/kube-proxy-swap.js';
import { labDown, labUp } from '../src/lab/lab.js';
import { readReport } from '../src/report/io.js';
import { positionEffects, predictMde, roundSpread } from '../src/report/round-power.js';
import { statValue } from '../src/report/compare.js';
import {
  calibrationRows,
  formatSize,
  gateFalseAlarms,
  median,
  MDE_SLIS,
  ofSuite,
  rowKey,
  sliRows,
  tallyMde,
  type CalibrationPoint,
  type CalibrationRow,
  type InjectionSize,
  type MdeRun,
  type MdeSli,
  type RowTally,
} from '../src/report/mde.js';
import { compareRounds } from '../src/report/rounds.js';
import type { ComparisonDocument, ReportDocument } from '../src/report/types.js';

/** The nftables script of rules=N (N = 0: only removes the table). */
export function slowRules(n: number): string {
  const lines = ['table inet ksli_slow', 'delete table inet ksli_slow'];
  if (n === 0) return `${lines.join('\n')}\n`;
  lines.push(
    'table inet ksli_slow {',
    '  chain pre {',
    '    type filter hook prerouting priority -150; policy accept;',
    '    ct state new jump slow',
    '  }',
    '  chain out {',
    '    type filter hook output priority -150; policy accept;',
    '    ct state new jump slow',
    '  }',
    '  chain slow {',
  );
  // 198.18.0.0/15: 131,072 distinct addresses
  for (let i = 0; i < n; i++) lines.push(`    ip daddr 198.18.${i >> 8}.${i & 255} counter`);
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The wrapper script: install (or remove) the injection in its own netns, then exec the real kube-proxy under the wrapper's name. */
export function wrapperScript(o: { realKubeProxy: string; nft: string; rulesFile: string; shimDir?: string }): string {
  return `#!/bin/bash
# kube-sli bench ab: the lab's kube-proxy with a known slowdown (see bench/ab-mde.bench.ts)
for a in "$@"; do
  case "$a" in --version|--help|-h|--write-config-to=*) exec -a "$0" ${sh(o.realKubeProxy)} "$@";; esac
done
# only inside a lab node's namespace (ip netns exec ksli-lab-<id>-node<i>), never the host, the fabric or a pod
ns=$(ip netns identify 2>/dev/null)
case "$ns" in
  ksli-lab-*-node[0-9]*) ;;
  *) echo "kube-proxy wrapper $0: refusing to install nftables rules outside a lab node namespace (in: '$ns')" >&2; exit 1;;
esac
${sh(o.nft)} -f ${sh(o.rulesFile)} || { echo "kube-proxy wrapper $0: nft -f ${o.rulesFile} failed" >&2; exit 1; }
${o.shimDir ? `export PATH=${sh(o.shimDir)}:"$PATH"\n` : ''}exec -a "$0" ${sh(o.realKubeProxy)} "$@"
`;
}

export function shimScript(realTool: string, delayMs: number): string {
  return `#!/bin/bash\nsleep ${(delayMs / 1000).toFixed(3)}\nexec ${sh(realTool)} "$@"\n`;
}

async function which(tool: string): Promise<string> {
  const r = await execa('bash', ['-c', `command -v ${tool}`], { reject: false });
  if (r.exitCode !== 0 || !r.stdout) throw new Error(`${tool} not found on PATH (the injection needs it)`);
  return r.stdout.trim();
}

/** Writes the wrapper of one size (undefined: the base, no injection) under dir; returns its path. */
export async function writeWrapper(dir: string, size: InjectionSize | undefined, realKubeProxy: string): Promise<string> {
  const sub = join(dir, size ? formatSize(size).replace('=', '-') : 'base');
  await mkdir(sub, { recursive: true });
  const rulesFile = join(sub, 'slow.nft');
  await writeFile(rulesFile, slowRules(size?.kind === 'rules' ? size.amount : 0));
  let shimDir: string | undefined;
  if (size?.kind === 'sync') {
    shimDir = join(sub, 'shims');
    await mkdir(shimDir, { recursive: true });
    for (const tool of ['nft', 'iptables-restore', 'ip6tables-restore']) {
      const real = await which(tool).catch(() => undefined);
      if (!real) continue;
      await writeFile(join(shimDir, tool), shimScript(real, size.amount));
      await chmod(join(shimDir, tool), 0o755);
    }
  }
  const path = join(sub, 'kube-proxy');
  await writeFile(path, wrapperScript({ realKubeProxy, nft: await which('nft'), rulesFile, ...(shimDir ? { shimDir } : {}) }));
  await chmod(path, 0o755);
  return path;
}

export interface AbMdeFigures {
  runs: MdeRun[];
  rows: RowTally[];
  outDir: string;
  /** runs that ended without a verdict (exit 3: the environment failed), by label and run number */
  failed: { label: string; run: number; exitCode: number | null }[];
}

/** What the bench records beside each run's compare.json (run.json), and readMdeRuns reads back. */
interface RunMeta {
  size: InjectionSize | null;
  suite: string;
  exitCode: number | null;
  minutes: number;
}

const writeRunMeta = (dir: string, meta: RunMeta): Promise<void> => writeFile(join(dir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);

/** A run's name in the bench's lines and directories: its size, or aa-<suite> for an A/A run. */
const runLabel = (size: InjectionSize | undefined, suite: string): string => (size ? formatSize(size) : `aa-${suite.replace(/^suites\/|\.slo\.test\.ts$/g, '')}`);

/**
 * For r in 1..runs: an A/A run of each suite involved, then one A/B per size (interleaved,
 * so drift of the machine falls on every size); `only` keeps one of the two (two benches
 * side by side, or a size added later). Each run is `kube-sli ab` as a user runs
 * it, default rounds; its compare.json is kept under outDir/<r>-<size>/.
 */
export async function benchAbMde(o: {
  runs: number;
  sizes: InjectionSize[];
  outDir: string;
  onRun?: (line: string) => void;
  /** which runs: A/A and sizes (default), A/A only, or sizes only */
  only?: 'aa' | 'sizes';
  /** ab --paired for the suites that can split by node (both sides at once) */
  paired?: boolean;
}): Promise<AbMdeFigures> {
  const real = (await findBinaries()).argv['kube-proxy'];
  if (!real?.[0]) throw new Error('the lab has no kube-proxy binary');
  const dir = await mkdtemp(join(tmpdir(), 'ksli-mde-'));
  const runs: MdeRun[] = [];
  const failed: AbMdeFigures['failed'] = [];
  let inARow = 0;
  try {
    const base = await writeWrapper(dir, undefined, real[0]);
    const wrappers = new Map<string, string>();
    for (const s of o.sizes) wrappers.set(formatSize(s), await writeWrapper(dir, s, real[0]));
    const suites = [...new Set(o.sizes.map((s) => MDE_SLIS.find((x) => x.kind === s.kind)!.suite))];
    for (let r = 1; r <= o.runs; r++) {
      const plan: { size?: InjectionSize; suite: string }[] = [
        ...(o.only === 'sizes' ? [] : suites.map((suite) => ({ suite }))),
        ...(o.only === 'aa' ? [] : o.sizes.map((size) => ({ size, suite: MDE_SLIS.find((x) => x.kind === size.kind)!.suite }))),
      ];
      for (const p of plan) {
        const paired = o.paired === true && PAIRED_SUITES.includes(p.suite);
        const label = `${runLabel(p.size, p.suite)}${paired ? '-paired' : ''}`;
        const out = join(o.outDir, `${String(r).padStart(2, '0')}-${label.replace('=', '-')}`);
        const t0 = performance.now();
        const test = MDE_SLIS.find((x) => x.suite === p.suite)?.test;
        const res = await execa(process.execPath, [join(repoRoot(), 'bin', 'kube-sli.js'), 'ab', '--base', base, '--candidate', p.size ? wrappers.get(formatSize(p.size))! : base, '--out-dir', out, ...(paired ? ['--paired'] : []), ...(test ? ['--test', test] : []), p.suite], {
          cwd: repoRoot(),
          reject: false,
          all: true,
        });
        const minutes = (performance.now() - t0) / 60_000;
        await writeFile(join(out, 'ab.log'), String(res.all ?? '')).catch(() => undefined);
        if (res.exitCode !== 0 && res.exitCode !== 1) {
          // an environment failure (exit 3) is no verdict: kept and counted, not tallied; three in a row end the bench
          await writeRunMeta(out, { size: p.size ?? null, suite: p.suite, exitCode: res.exitCode ?? null, minutes }).catch(() => undefined);
          failed.push({ label, run: r, exitCode: res.exitCode ?? null });
          o.onRun?.(`ab: run ${r}/${o.runs} ${label}: exit ${res.exitCode ?? res.signal} after ${minutes.toFixed(1)} min, not tallied (${out}/ab.log):\n${String(res.all ?? '').split('\n').slice(-15).join('\n')}`);
          if (++inARow >= 3) throw new Error(`kube-sli ab failed ${inARow} times in a row (last: ${label}, run ${r}, exit ${res.exitCode ?? res.signal}); the runs so far are in ${o.outDir} (npm run bench -- ab-tally ${o.outDir})`);
          continue;
        }
        inARow = 0;
        const cmp = JSON.parse(await readFile(join(out, 'compare.json'), 'utf8')) as ComparisonDocument;
        const run: MdeRun = { ...(p.size ? { size: p.size } : {}), suite: p.suite, exitCode: res.exitCode, minutes, cmp, dir: out };
        await writeRunMeta(out, { size: p.size ?? null, suite: p.suite, exitCode: res.exitCode, minutes });
        runs.push(run);
        o.onRun?.(`ab: run ${r}/${o.runs} ${label}: exit ${res.exitCode}, ${minutes.toFixed(1)} min (${out})`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { runs, rows: tallyMde(runs), outDir: o.outDir, failed };
}

/**
 * The runs a bench left in outDir (one sub-directory per run, with run.json and compare.json),
 * so a bench stopped early, or one whose figures are re-read later, tallies the same way.
 * Runs without a compare.json (exit 3) come back in failed.
 */
export async function readMdeRuns(outDir: string): Promise<Pick<AbMdeFigures, 'runs' | 'failed'>> {
  const runs: MdeRun[] = [];
  const failed: AbMdeFigures['failed'] = [];
  const subs = (await readdir(outDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const sub of subs) {
    const meta = await readFile(join(outDir, sub, 'run.json'), 'utf8').then((t) => JSON.parse(t) as RunMeta, () => undefined);
    if (!meta) continue; // a run still under way, or not a run's directory
    if (meta.exitCode !== 0 && meta.exitCode !== 1) {
      failed.push({ label: runLabel(meta.size ?? undefined, meta.suite), run: Number(sub.slice(0, 2)), exitCode: meta.exitCode });
      continue;
    }
    const cmp = JSON.parse(await readFile(join(outDir, sub, 'compare.json'), 'utf8')) as ComparisonDocument;
    runs.push({ ...(meta.size ? { size: meta.size } : {}), suite: meta.suite, exitCode: meta.exitCode, minutes: meta.minutes, cmp, dir: join(outDir, sub) });
  }
  return { runs, failed };
}

const pct = (x: number | null) => (x === null ? '—' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} %`);

/** The printed tables: per SLI row and size, detections, the injected effect as measured, false alarms and the MDE. */
export function mdeLines(runs: readonly MdeRun[], rows: readonly RowTally[]): { lines: string[]; table: Record<string, string>[] } {
  const table: Record<string, string>[] = [];
  for (const t of rows) {
    table.push({ SLI: t.sli.name, row: t.key, size: 'A/A', 'flagged (k of n)': `${t.aa.k} of ${t.aa.n}`, 'measured change (median)': pct(median(t.aa.changes)) });
    for (const s of t.sizes) table.push({ SLI: t.sli.name, row: t.key, size: formatSize(s.size), 'flagged (k of n)': `${s.k} of ${s.n}${s.missing ? ` (${s.missing} without the row)` : ''}`, 'measured change (median)': pct(median(s.changes)) });
  }
  const lines: string[] = [];
  for (const t of rows) {
    const m = t.mde.reached ? `${formatSize(t.mde.size)} (flagged ${t.mde.k} of ${t.mde.n}; measured change ${pct(t.mde.effect)})` : t.mde.why;
    lines.push(`ab: ${t.sli.name} [${t.key}]: MDE ${m}   [target: ≤ ${(t.sli.target * 100).toFixed(0)} %]; A/A false alarms ${t.aa.k} of ${t.aa.n}   [target ≤ 1 in 10]`);
  }
  for (const g of gateFalseAlarms(runs)) lines.push(`ab: A/A runs of ${g.suite} that failed the gate (exit 1): ${g.k} of ${g.n}`);
  const mins = runs.map((r) => r.minutes);
  if (mins.length > 0) lines.push(`ab: minutes per A/B (lab up, the default rounds, lab down): median ${median(mins)!.toFixed(1)}, max ${Math.max(...mins).toFixed(1)} over ${mins.length} runs   [target ≤ 15]`);
  return { lines, table };
}

/** Each row's statistic in every round of a kept run (rounds/NN-base|candidate/report.json), in the order the rounds ran, by row key. */
async function runRoundValues(run: MdeRun, s: MdeSli): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (!run.dir) return out;
  const roundsDir = join(run.dir, 'rounds');
  const names = (await readdir(roundsDir).catch(() => [] as string[])).filter((n) => /^\d+-(base|candidate)$/.test(n)).sort();
  const rounds = await Promise.all(names.map(async (n) => ({ base: n.endsWith('-base'), doc: await readReport(join(roundsDir, n, 'report.json')).catch(() => undefined) })));
  for (const row of sliRows(s, run.cmp)) {
    const values = rounds.map((r) => {
      const series = r.doc?.series.find((x) => x.id === (r.base ? row.seriesId : row.candidateId));
      return series ? statValue(series, row.statistic) : null;
    });
    if (values.length >= 2 && values.every((x): x is number => x !== null && Number.isFinite(x))) out.set(rowKey(row), values);
  }
  return out;
}

/**
 * The round-to-round spread of each row over the A/A runs kept (every round of one run
 * measures one kube-proxy), and the MDE the round checks would reach at 2-5 rounds per side
 * from it (src/report/round-power.ts): a prediction, printed as one.
 */
export async function predictedMdeLines(runs: readonly MdeRun[]): Promise<string[]> {
  const lines: string[] = [];
  for (const s of MDE_SLIS) {
    const byKey = new Map<string, number[][]>();
    for (const r of runs.filter((x) => x.size === undefined && ofSuite(s, x.suite))) {
      for (const [k, v] of await runRoundValues(r, s)) byKey.set(k, [...(byKey.get(k) ?? []), v]);
    }
    // a change inside the comparison's tolerance is never flagged, however tight the rounds
    const tolerance = runs.find((r) => ofSuite(s, r.suite))?.cmp.tolerance;
    for (const [key, perRun] of byKey) {
      const spread = roundSpread(perRun);
      if (!spread) continue;
      const pred = predictMde(spread).map((p) => `${p.roundsPerSide}: ${p.sds.toFixed(1)} sd = ${(p.relative * 100).toFixed(p.relative < 0.1 ? 1 : 0)} %`).join('; ');
      const pos = positionEffects(perRun)
        .map((p) => `${p.position}: ${p.relative >= 0 ? '+' : ''}${(p.relative * 100).toFixed(1)} %`)
        .join(', ');
      lines.push(`ab: ${s.name} [${key}]: each round position against its A/A run's mean (order A B B A), averaged over ${perRun.length} runs: ${pos}`);
      lines.push(
        `ab: ${s.name} [${key}]: round-to-round spread over ${spread.runs} A/A runs (${perRun.reduce((a, r) => a + r.length, 0)} rounds): sd ${(spread.relative * 100).toFixed(1)} % of the mean ${Number(spread.mean.toPrecision(4))}; predicted MDE (ordering + round t test at 9 in 10), rounds per side ${pred}${tolerance !== undefined ? `; never below the comparison's tolerance, ${(tolerance * 100).toFixed(0)} %` : ''}   [a prediction from the spread, not a measured detection rate]`,
      );
    }
  }
  return lines;
}

/** A paired run's rounds split into the two sides, as ab split them (base on the half pairedOrder names). */
export async function pairedSides(runDir: string): Promise<{ base: ReportDocument[]; candidate: ReportDocument[] } | undefined> {
  const roundsDir = join(runDir, 'rounds');
  const names = (await readdir(roundsDir).catch(() => [] as string[])).filter((n) => /^\d+-paired$/.test(n)).sort();
  if (names.length === 0) return undefined;
  const order = pairedOrder(names.length);
  const out = { base: [] as ReportDocument[], candidate: [] as ReportDocument[] };
  for (const [i, name] of names.entries()) {
    const doc = await readReport(join(roundsDir, name, 'report.json'));
    const halves = nodeHalves([...new Set(doc.series.map((x) => x.labels[CLIENT_NODE_LABEL]).filter((n): n is string => n !== undefined))], order[i]!);
    const split = splitPairedRound(doc, halves.base, halves.candidate);
    out.base.push(split.base);
    out.candidate.push(split.candidate);
  }
  return out;
}

/**
 * Judges a kept paired run again with this code (its rounds hold every sample), keeping
 * what ab wrote then as compare.recorded.json: for runs made before a change to the
 * paired test, so the figures are those of the gate as it now ships. Returns false when
 * the run has no paired rounds.
 */
export async function rejudgePairedRun(runDir: string): Promise<boolean> {
  const sides = await pairedSides(runDir);
  if (!sides) return false;
  const recordedPath = join(runDir, 'compare.recorded.json');
  const recorded = JSON.parse(await readFile(await stat(recordedPath).then(() => recordedPath, () => join(runDir, 'compare.json')), 'utf8')) as ComparisonDocument;
  const cmp = compareRounds(sides.base, sides.candidate, { tolerance: recorded.tolerance, baseName: recorded.base.name, candidateName: recorded.candidate.name }, 'paired');
  cmp.warnings.push(...recorded.warnings.filter((w) => w.startsWith('NOTE:')), `NOTE: judged again from the kept rounds by the paired test of ${new Date().toISOString().slice(0, 10)} (node effect removed); ab's own verdict is in compare.recorded.json`);
  await writeFile(recordedPath, `${JSON.stringify(recorded, null, 2)}\n`);
  await writeFile(join(runDir, 'compare.json'), `${JSON.stringify(cmp, null, 2)}\n`);
  return true;
}

/** Per paired run: each round's value of the row on each side. */
async function pairedRoundValues(run: MdeRun, s: MdeSli): Promise<Map<string, { base: number; candidate: number }[]>> {
  const out = new Map<string, { base: number; candidate: number }[]>();
  const sides = run.dir ? await pairedSides(run.dir).catch(() => undefined) : undefined;
  if (!sides) return out;
  for (const row of sliRows(s, run.cmp)) {
    const values = sides.base.map((b, i) => {
      const bs = b.series.find((x) => x.id === row.seriesId);
      const cs = sides.candidate[i]!.series.find((x) => x.id === row.candidateId);
      return { base: bs ? statValue(bs, row.statistic) : null, candidate: cs ? statValue(cs, row.statistic) : null };
    });
    const ok = (v: { base: number | null; candidate: number | null }): v is { base: number; candidate: number } => v.base !== null && v.candidate !== null && Number.isFinite(v.base) && Number.isFinite(v.candidate);
    if (values.every(ok)) out.set(rowKey(row), values);
  }
  return out;
}

const sd = (xs: readonly number[]): number => {
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/**
 * What pairing buys, from the paired A/A runs kept: the spread of a round's value from
 * round to round (the drift a sequential A B B A must beat), beside the spread of the
 * difference between the two sides measured in the same round (what the paired test sees).
 */
export async function pairedSpreadLines(runs: readonly MdeRun[]): Promise<string[]> {
  const lines: string[] = [];
  for (const s of MDE_SLIS) {
    const byKey = new Map<string, { base: number; candidate: number }[][]>();
    for (const r of runs.filter((x) => x.size === undefined && ofSuite(s, x.suite))) {
      for (const [k, v] of await pairedRoundValues(r, s)) byKey.set(k, [...(byKey.get(k) ?? []), v]);
    }
    for (const [key, perRun] of byKey) {
      // relative to each run's mean, so runs on different days compare
      const level: number[] = [];
      const diff: number[] = [];
      for (const rounds of perRun) {
        const m = rounds.reduce((a, r) => a + r.base + r.candidate, 0) / (2 * rounds.length);
        for (const r of rounds) {
          level.push((r.base + r.candidate) / 2 / m - 1);
          diff.push((r.candidate - r.base) / m);
        }
      }
      if (diff.length < 3) continue;
      lines.push(
        `ab: ${s.name} [${key}] paired A/A, ${perRun.length} runs (${diff.length} rounds): a round's level moves by sd ${(sd(level) * 100).toFixed(1)} % from round to round; the difference of its two sides, measured at once, by sd ${(sd(diff) * 100).toFixed(1)} % (largest ${(Math.max(...diff.map(Math.abs)) * 100).toFixed(1)} %)`,
      );
    }
  }
  return lines;
}

/**
 * The injected effect measured directly on one lab, without ab: the suite of each kind runs
 * with the base, then each size of that kind in ascending order, then the base again (so
 * drift of the machine shows as the two base runs' difference); only kube-proxy is swapped
 * between runs, as ab does. Each run's report is kept under outDir.
 */
export async function benchAbCalibrate(o: { sizes: InjectionSize[]; outDir: string; onProgress?: (m: string) => void }): Promise<CalibrationRow[]> {
  const log = o.onProgress ?? (() => undefined);
  const labArgv = async () => (await findBinaries()).argv['kube-proxy'];
  const real = (await labArgv())[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'ksli-mde-'));
  const stateDir = join(await mkdtemp(join(tmpdir(), 'ksli-cal-')), 'lab');
  const points: CalibrationPoint[] = [];
  const choice = async (size: InjectionSize | undefined): Promise<KubeProxyChoice> => resolveKubeProxy(await writeWrapper(dir, size, real), [], { mode: 'nftables', labArgv });
  try {
    const base = await choice(undefined);
    log(`calibration: lab up (nftables, 2 nodes) in ${stateDir}`);
    await labUp({ stateDir, proxyMode: 'nftables', nodes: 2, ports: await freeControlPlanePorts(), kubeProxy: base, onProgress: (m) => log(m) });
    let current: string | undefined = 'base';
    let i = 0;
    for (const kind of ['rules', 'sync'] as const) {
      const sizes = o.sizes.filter((s) => s.kind === kind).sort((a, b) => a.amount - b.amount);
      if (sizes.length === 0) continue;
      const { suite, test } = MDE_SLIS.find((s) => s.kind === kind)!;
      for (const size of [undefined, ...sizes, undefined]) {
        const label = size ? formatSize(size) : 'base';
        if (label !== current) {
          const s = await swapKubeProxy(stateDir, size ? await choice(size) : base, { onProgress: log });
          log(`calibration: swapped to ${label} in ${(s.ms / 1000).toFixed(1)} s`);
          current = label;
        }
        const reportDir = join(o.outDir, `${String(++i).padStart(2, '0')}-${label.replace('=', '-')}`);
        const r = await execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'slo', ...(test ? ['-t', test] : []), join(repoRoot(), suite)], {
          cwd: repoRoot(),
          env: suiteEnv(stateDir, reportDir),
          extendEnv: false,
          reject: false,
          all: true,
        });
        if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`calibration run ${label} (${suite}) exited ${r.exitCode ?? r.signal}:\n${String(r.all ?? '').split('\n').slice(-40).join('\n')}`);
        points.push({ ...(size ? { size } : {}), suite, report: await readReport(join(reportDir, 'report.json')) });
        log(`calibration: ${label} done (${suite}, exit ${r.exitCode})`);
      }
    }
  } finally {
    await labDown(stateDir).catch((e: unknown) => log(`lab down failed: ${(e as Error).message}; run kube-sli lab down --state-dir ${stateDir}`));
    await rm(join(stateDir, '..'), { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
  return calibrationRows(points);
}

const us = (v: number | null) => (v === null ? '—' : v < 0.01 ? `${(v * 1e6).toFixed(0)} µs` : `${(v * 1000).toFixed(1)} ms`);

export function calibrationTable(rows: readonly CalibrationRow[]): Record<string, string>[] {
  return rows.map((r) => ({ SLI: r.sli.name, series: r.seriesId, size: r.size ? formatSize(r.size) : 'base', [r.sli.statistic]: us(r.value), samples: String(r.samples), 'vs base (mean of the base runs)': pct(r.change) }));
}
