// kube-sli ab --base <kube-proxy> --candidate <kube-proxy> [suite files…] — a kube-proxy
// change gated on one machine: one lab, the suites run against base and candidate in
// interleaved rounds (A B B A A B …), only kube-proxy swapped between runs (and waited on
// until it has synced and a probe Service answers), then all rounds of A against all
// rounds of B with compare's statistics plus a round-level check (src/report/rounds.ts).
// Exit 0 nothing regressed, 1 a significant regression, 2 bad input (before any lab
// exists), 3 the environment failed. The lab goes down at the end and on Ctrl-C.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import { renderComparisonHtml, renderComparisonMarkdown, renderComparisonText } from '../../reporters/render/index.js';
import { DEFAULT_TOLERANCE, parseTolerance } from '../report/compare.js';
import { readReport, writeTextFile } from '../report/io.js';
import { nodeHalves, pairedOrder, splitPairedRound } from '../report/paired.js';
import { compareRounds } from '../report/rounds.js';
import type { ComparisonDocument, ReportDocument } from '../report/types.js';
import { findBinaries, repoRoot } from '../lab/binaries.js';
import { freeControlPlanePorts } from '../lab/control-plane/index.js';
import { KubeProxyBuildError } from '../lab/kube-proxy-build.js';
import { KubeProxyChoiceError, resolveKubeProxy, type KubeProxyChoice } from '../lab/kube-proxy-choice.js';
import { swapKubeProxy, type NodeChoice } from '../lab/kube-proxy-swap.js';
import { isProxyMode, PROXY_MODES, type ProxyMode } from '../lab/kube-proxy.js';
import { isFlagArg } from '../lab/kube-proxy-version.js';
import { labDown, labUp } from '../lab/lab.js';
import { readLabState, stateLayout } from '../lab/state.js';
import { MAX_NODES } from '../lab/network/plan.js';
import { EXIT, UsageError } from './exit-codes.js';

/** Suites whose series name the node whose dataplane measured them (SLI_BY_CLIENT_NODE=1): the only ones a paired run can split. */
export const PAIRED_SUITES = ['suites/first-packet-latency.slo.test.ts'];
/** --paired runs by default: 6 gives the node-adjusted t test 4 degrees of freedom (4 runs left it 2, critical value 4.30, and missed +9 % in 3 of 8 A/Bs) */
export const PAIRED_DEFAULT_RUNS = 6;

export const AB_USAGE = `usage: kube-sli ab --base <kube-proxy> --candidate <kube-proxy> [suite files…] [options]

A/B of two kube-proxies on one embedded lab: the suites run against base (A) and candidate
(B) in interleaved rounds A B B A (A B B A A B … for more), only kube-proxy swapped between
runs; then all rounds of A are compared with all rounds of B (compare's bootstrap on the
pooled samples, and a regression counts only when every round of B is worse than every
round of A). Writes compare.md, compare.html, compare.json (and each round's report and
what each kube-proxy logged during it).

<kube-proxy>: a kube-proxy binary you built (a path), or a release version (v1.27.16:
built from the Go module proxy, cached in ~/.cache/kube-sli/bin), or "lab" (the lab's own).

options:
  --base <kube-proxy>        A (required)
  --candidate <kube-proxy>   B (required)
  --base-arg <flag>          a kube-proxy flag for A only (repeatable), e.g.
                             --base-arg=--feature-gates=MinimizeIPTablesRestore=false
  --candidate-arg <flag>     a kube-proxy flag for B only (repeatable)
  --rounds <n>               runs per side, whole number >= 1 (default 2: A B B A;
                             --paired: runs, each both sides, even, default 6)
  --paired                   base and candidate at once, each on half the nodes (swapped
                             from run to run): the machine's drift hits both alike and each
                             run is a pair. First-packet latency only (same-node
                             connections of each node); needs an even number of nodes
  --test <pattern>           only the tests whose full name (describe + test) matches this
                             regular expression (vitest's -t), e.g. --test "one more Service"
  --proxy-mode <mode>        ${PROXY_MODES.join(' or ')} (default nftables)
  --nodes <n>                lab nodes, 1-${MAX_NODES} (default 2)
  --tolerance <p>            relative worsening tolerated (default ${DEFAULT_TOLERANCE * 100}%)
  --out-dir <dir>            where the results go (default sli-report/ab)
  -h, --help                 this text
suite files: default every suites/*.slo.test.ts (--paired: ${PAIRED_SUITES.join(', ')}). Workload knobs (SERVICES, CLIENTS, …) and
SLI_PROFILE come from the environment, as for the suites.

exit codes: 0 no regression, 1 significant regression, 2 invalid input (nothing started),
3 the environment failed`;

export interface AbArgs {
  base: string;
  candidate: string;
  baseArgs: string[];
  candidateArgs: string[];
  rounds: number;
  /** both sides at once on alternate nodes, each run a pair (--paired) */
  paired: boolean;
  proxyMode: ProxyMode;
  nodes: number;
  tolerance: number;
  outDir: string;
  suites: string[];
  /** vitest's -t: only tests whose full name matches (a regular expression) */
  test?: string;
  help: boolean;
}

/** Parses and validates the arguments (no I/O); throws UsageError. */
export function parseAbArgs(argv: string[]): AbArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        base: { type: 'string' },
        candidate: { type: 'string' },
        'base-arg': { type: 'string', multiple: true },
        'candidate-arg': { type: 'string', multiple: true },
        rounds: { type: 'string' },
        paired: { type: 'boolean' },
        'proxy-mode': { type: 'string' },
        nodes: { type: 'string' },
        tolerance: { type: 'string' },
        'out-dir': { type: 'string' },
        test: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${AB_USAGE}`);
  }
  const v = parsed.values;
  const help = v.help === true;
  if (help) return { base: '', candidate: '', baseArgs: [], candidateArgs: [], rounds: 2, paired: false, proxyMode: 'nftables', nodes: 2, tolerance: DEFAULT_TOLERANCE, outDir: '', suites: [], help };
  for (const side of ['base', 'candidate'] as const) {
    if (!v[side]) throw new UsageError(`--${side} is required: a kube-proxy binary (path), a release version like v1.27.16, or "lab"\n\n${AB_USAGE}`);
  }
  const baseArgs = v['base-arg'] ?? [];
  const candidateArgs = v['candidate-arg'] ?? [];
  for (const [opt, list] of [['--base-arg', baseArgs], ['--candidate-arg', candidateArgs]] as const) {
    for (const a of list) if (!isFlagArg(a)) throw new UsageError(`${opt} "${a}" must be one kube-proxy flag, e.g. ${opt}=--feature-gates=MinimizeIPTablesRestore=false`);
  }
  const paired = v.paired === true;
  const roundsText = v.rounds ?? (paired ? String(PAIRED_DEFAULT_RUNS) : '2');
  const rounds = /^\d+$/.test(roundsText) ? Number(roundsText) : NaN;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new UsageError(`--rounds "${roundsText}" must be a whole number from 1 to 50 (runs per side; 2 means A B B A)`);
  // each node runs each side equally often, so a difference between the nodes cancels
  if (paired && rounds % 2 !== 0) throw new UsageError(`--rounds ${rounds} with --paired must be even: every node runs base and candidate equally often (default ${PAIRED_DEFAULT_RUNS})`);
  const mode = v['proxy-mode'] ?? 'nftables';
  if (!isProxyMode(mode)) throw new UsageError(`--proxy-mode "${mode}" is not a kube-proxy mode the lab runs; choose ${PROXY_MODES.join(' or ')}`);
  const nodesText = v.nodes ?? '2';
  const nodes = /^\d+$/.test(nodesText) ? Number(nodesText) : NaN;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes "${nodesText}" must be a whole number from 1 to ${MAX_NODES}`);
  if (paired && nodes % 2 !== 0) throw new UsageError(`--nodes ${nodes} with --paired must be even: half the nodes run base, half candidate (default 2)`);
  let tolerance = DEFAULT_TOLERANCE;
  try {
    if (v.tolerance !== undefined) tolerance = parseTolerance(v.tolerance);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v['out-dir'] === '') throw new UsageError('--out-dir must not be empty');
  if (v.test !== undefined) {
    if (v.test.trim() === '') throw new UsageError('--test must not be empty: give a part of a test name, e.g. --test "one more Service"');
    try {
      new RegExp(v.test);
    } catch (e) {
      throw new UsageError(`--test "${v.test}" is not a regular expression (${(e as Error).message}); vitest matches it against each test's full name`);
    }
  }
  return {
    base: v.base!,
    candidate: v.candidate!,
    baseArgs,
    candidateArgs,
    rounds,
    paired,
    proxyMode: mode,
    nodes,
    tolerance,
    outDir: v['out-dir'] ?? join('sli-report', 'ab'),
    suites: parsed.positionals,
    ...(v.test !== undefined ? { test: v.test } : {}),
    help,
  };
}

/** The order of runs: A B B A A B B A … (rounds runs per side). */
export function runOrder(rounds: number): ('base' | 'candidate')[] {
  const out: ('base' | 'candidate')[] = [];
  for (let i = 0; i < rounds; i++) out.push(...(i % 2 === 0 ? (['base', 'candidate'] as const) : (['candidate', 'base'] as const)));
  return out;
}

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** Suite files: the given ones (must exist), else every suites/*.slo.test.ts (paired: the suites that can split). */
async function suiteFiles(given: string[], paired: boolean): Promise<string[]> {
  if (given.length === 0) return paired ? PAIRED_SUITES.map((f) => join(repoRoot(), f)) : [join(repoRoot(), 'suites')];
  const out: string[] = [];
  for (const f of given) {
    const p = resolve(f);
    if (!(await exists(p))) throw new UsageError(`suite file ${f} does not exist (resolved: ${p}). Fix: give suite files such as suites/connection-total-latency.slo.test.ts, or none for all`);
    if (!/\.slo\.test\.ts$/.test(p)) throw new UsageError(`${f} is not a suite file (suites are *.slo.test.ts)`);
    if (paired && !PAIRED_SUITES.some((x) => p === join(repoRoot(), x))) {
      throw new UsageError(`${f}: --paired measures only ${PAIRED_SUITES.join(', ')} (series of one node's dataplane); run this suite without --paired`);
    }
    out.push(p);
  }
  return out;
}

/**
 * The full names (describe + test, as vitest's -t sees them) of the tests written in suite
 * files, read from their source: the title strings of test.describe(...) and test(...).
 */
export function testNames(source: string): string[] {
  const out: string[] = [];
  const stack: { title: string; depth: number }[] = [];
  let depth = 0;
  const re = /\b(?:test|it)(\.describe|\.skip|\.only|\.concurrent|\.sequential)?\(\s*(['"`])((?:\\.|(?!\2).)*)\2|[{}]/g;
  for (const m of source.matchAll(re)) {
    if (m[0] === '{') depth++;
    else if (m[0] === '}') {
      depth--;
      while (stack.length > 0 && stack[stack.length - 1]!.depth > depth) stack.pop();
    } else if (m[1] === '.describe') stack.push({ title: m[3]!, depth: depth + 1 });
    else out.push([...stack.map((d) => d.title), m[3]!].join(' '));
  }
  return out;
}

/**
 * --test must select at least one test of the chosen suites, or every round would measure
 * nothing. A name built at run time (a template with ${…}) may match in ways its source does
 * not show: with such names present, no match is a warning, not a refusal.
 */
async function checkTestPattern(pattern: string, files: string[], warn: (m: string) => void): Promise<void> {
  const paths: string[] = [];
  for (const f of files) {
    if (f.endsWith('.slo.test.ts')) paths.push(f);
    else paths.push(...(await readdir(f)).filter((n) => n.endsWith('.slo.test.ts')).map((n) => join(f, n)));
  }
  const names = (await Promise.all(paths.map(async (p) => testNames(await readFile(p, 'utf8'))))).flat();
  const re = new RegExp(pattern);
  if (names.some((n) => re.test(n))) return;
  const what = `--test "${pattern}" matches no test name written in ${paths.map((p) => p.replace(`${repoRoot()}/`, '')).join(', ')}; their tests are:\n${names.map((n) => `  ${n}`).join('\n')}`;
  if (names.some((n) => n.includes('${'))) warn(`${what}\n(names with \${…} are completed at run time; if no test matches, the rounds measure nothing and ab exits 3)`);
  else throw new UsageError(what);
}

/** Sizes of the lab's kube-proxy logs now (file name → bytes). */
async function kubeProxyLogSizes(stateDir: string): Promise<Map<string, number>> {
  const dir = stateLayout(stateDir).logs;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^kube-proxy-.+\.log$/.test(n));
  return new Map(await Promise.all(names.map(async (n) => [n, (await stat(join(dir, n))).size] as [string, number])));
}

/**
 * What each kube-proxy logged during one run (its log grew from `from`), kept beside the
 * run's report: the evidence of which syncs ran (e.g. "Reloading service iptables data" at
 * --v=2), which lab down would otherwise delete with the state dir.
 */
async function keepKubeProxyLogs(stateDir: string, reportDir: string, from: Map<string, number>): Promise<void> {
  const dir = stateLayout(stateDir).logs;
  await mkdir(reportDir, { recursive: true });
  for (const n of (await kubeProxyLogSizes(stateDir)).keys()) {
    await pipeline(createReadStream(join(dir, n), { start: from.get(n) ?? 0 }), createWriteStream(join(reportDir, n)));
  }
}

/** The child vitest sees the lab through the lab provider and its own report dir; workload knobs pass. */
export function suiteEnv(stateDir: string, reportDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, val] of Object.entries(process.env)) {
    if (k.startsWith('VITEST') || k === 'SLI_PROVIDER' || k === 'SLI_CONTEXT' || k === 'KUBECONFIG' || k === 'KUBE_SLI_LAB_DIR' || k === 'SLI_PROXY_MODE' || k === 'SLI_REPORT_DIR' || k === 'NODE_ENV') continue;
    env[k] = val;
  }
  return { ...env, SLI_PROVIDER: 'lab', KUBE_SLI_LAB_DIR: stateDir, SLI_REPORT_DIR: reportDir };
}

export async function abCommand(argv: string[]): Promise<number> {
  const a = parseAbArgs(argv);
  const log = (m: string) => void process.stderr.write(`kube-sli ab: ${m}\n`);
  if (a.help) {
    console.log(AB_USAGE);
    return EXIT.ok;
  }
  // everything checked (and built) before the lab exists
  const files = await suiteFiles(a.suites, a.paired);
  if (a.test !== undefined) await checkTestPattern(a.test, files, log);
  if (!a.paired && files.some((f) => f === join(repoRoot(), 'suites') || PAIRED_SUITES.some((p) => f === join(repoRoot(), p)))) {
    log(`first-packet latency: rounds in turn measure A and B at different moments, and the machine's drift between them hides changes of tens of percent; run it alone with --paired to measure both at once (README: "Measured: first-packet p50 with --paired")`);
  }
  const labArgv = async () => (await findBinaries({ onProgress: log })).argv['kube-proxy'];
  const sides: Record<'base' | 'candidate', KubeProxyChoice> = {} as Record<'base' | 'candidate', KubeProxyChoice>;
  try {
    for (const side of ['base', 'candidate'] as const) {
      const spec = a[side] === 'lab' ? undefined : a[side];
      sides[side] = await resolveKubeProxy(spec, side === 'base' ? a.baseArgs : a.candidateArgs, { mode: a.proxyMode, labArgv, onProgress: log });
      log(`${side}: kube-proxy ${sides[side].version} (${sides[side].argv.join(' ')})${sides[side].args.length ? ` ${sides[side].args.join(' ')}` : ''}`);
    }
  } catch (e) {
    if (e instanceof KubeProxyChoiceError || e instanceof KubeProxyBuildError) throw new UsageError(e.message);
    throw e;
  }

  const stateDir = join(await mkdtemp(join(tmpdir(), 'ksli-ab-')), 'lab');
  let child: ResultPromise | undefined;
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    log(`${sig}: stopping the suites and taking the lab down`);
    child?.kill('SIGTERM');
  };
  // on, not once: execa's signal-exit re-raises a signal that no other listener is left to
  // handle, and a once-listener is gone by then (SIGTERM during lab up killed ab, lab left up)
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const reports: Record<'base' | 'candidate', ReportDocument[]> = { base: [], candidate: [] };
  const t0 = Date.now();
  try {
    log(`lab up (${a.proxyMode}, ${a.nodes} nodes) in ${stateDir} with the base kube-proxy`);
    await labUp({ stateDir, proxyMode: a.proxyMode, nodes: a.nodes, ports: await freeControlPlanePorts(), kubeProxy: sides.base, onProgress: (m) => log(m) });
    let current = 'base';
    const order = a.paired ? pairedPlan(a.rounds, ((await readLabState(stateDir))?.nodes ?? []).map((n) => n.name), sides) : runOrder(a.rounds).map((side) => ({ side, what: side, choice: sides[side] }));
    for (const [i, run] of order.entries()) {
      if (interrupted) throw new Error('interrupted');
      if (run.what !== current) {
        const s = await swapKubeProxy(stateDir, run.choice, { onProgress: log });
        log(`swapped to ${run.what} in ${(s.ms / 1000).toFixed(1)} s (synced, probe Service reachable)`);
        current = run.what;
      }
      const reportDir = resolve(a.outDir, 'rounds', `${String(i + 1).padStart(2, '0')}-${run.side}`);
      log(`run ${i + 1}/${order.length}: ${run.what} (${files.map((f) => f.replace(`${repoRoot()}/`, '')).join(', ')}${a.test !== undefined ? `, tests matching /${a.test}/` : ''})`);
      const logsFrom = await kubeProxyLogSizes(stateDir);
      child = execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'slo', ...(a.test !== undefined ? ['-t', a.test] : []), ...files], {
        cwd: repoRoot(),
        env: { ...suiteEnv(stateDir, reportDir), ...(a.paired ? { SLI_BY_CLIENT_NODE: '1' } : {}) },
        extendEnv: false,
        reject: false,
        all: true,
      });
      const r = await child;
      child = undefined;
      if (interrupted) throw new Error('interrupted');
      await keepKubeProxyLogs(stateDir, reportDir, logsFrom);
      const path = join(reportDir, 'report.json');
      if (!(r.exitCode === 0 || r.exitCode === 1) || !(await exists(path))) {
        log(String(r.all ?? '').split('\n').slice(-40).join('\n'));
        log(`run ${i + 1} (${run.what}) failed: the suites exited ${r.exitCode ?? r.signal} ${(await exists(path)) ? '' : 'and wrote no report'}`);
        return EXIT.infrastructure;
      }
      const doc = await readReport(path);
      if (run.side !== 'paired') {
        reports[run.side].push(doc);
        continue;
      }
      const split = splitPairedRound(doc, run.baseNodes, run.candidateNodes);
      if (split.strangers.length > 0) throw new Error(`run ${i + 1}: series measured on ${split.strangers.join(', ')}, which is neither side's node`);
      if (split.base.series.length === 0 || split.candidate.series.length === 0) {
        log(`run ${i + 1} (${run.what}): no series named its client node (SLI_BY_CLIENT_NODE=1 needs the packet capture; see the run's report in ${reportDir})`);
        return EXIT.infrastructure;
      }
      if (i === 0 && split.unattributed.length > 0) log(`paired: ${split.unattributed.length} series saw both kube-proxies at once and are not compared (e.g. ${split.unattributed[0]})`);
      for (const side of ['base', 'candidate'] as const) reports[side].push(sideDoc(split[side], sides[side], side === 'base' ? run.baseNodes : run.candidateNodes));
    }
  } catch (e) {
    if (interrupted) {
      log('interrupted');
      return 130;
    }
    log(`failed: ${(e as Error).message}`);
    return EXIT.infrastructure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log('lab down');
    await labDown(stateDir).catch((e: unknown) => log(`lab down failed: ${(e as Error).message}; run kube-sli lab down --state-dir ${stateDir}`));
    await import('node:fs/promises').then((fs) => fs.rm(join(stateDir, '..'), { recursive: true, force: true }));
  }

  const label = (side: 'base' | 'candidate') => `${side}: kube-proxy ${sides[side].version}${sides[side].args.length ? ` ${sides[side].args.join(' ')}` : ''} (${a.rounds} round${a.rounds > 1 ? 's' : ''})`;
  const cmp = compareRounds(reports.base, reports.candidate, { tolerance: a.tolerance, baseName: label('base'), candidateName: label('candidate') }, a.paired ? 'paired' : 'sequential');
  const design = a.paired
    ? `${a.rounds} paired runs (both sides at once; base on node half ${pairedOrder(a.rounds).join(' ')}), ${((Date.now() - t0) / 60_000).toFixed(1)} min; a change counts only when every swap (two runs, each node once on each side) moves the same way`
    : `${a.rounds} round(s) per side, order ${runOrder(a.rounds).map((s) => (s === 'base' ? 'A' : 'B')).join(' ')}, ${((Date.now() - t0) / 60_000).toFixed(1)} min; a change counts only when every round agrees`;
  cmp.warnings.push(`NOTE: ${design}`);
  await writeTextFile(join(a.outDir, 'compare.md'), renderComparisonMarkdown(cmp));
  await writeTextFile(join(a.outDir, 'compare.html'), renderComparisonHtml(cmp));
  await writeTextFile(join(a.outDir, 'compare.json'), `${JSON.stringify(cmp, null, 2)}\n`);
  process.stdout.write(renderComparisonText(cmp));
  for (const w of cmp.warnings) process.stderr.write(`${w}\n`);
  process.stdout.write(`wrote ${join(a.outDir, 'compare.md')}, ${join(a.outDir, 'compare.html')}, ${join(a.outDir, 'compare.json')}\n`);
  if (cmp.rows.length === 0) log('the rounds have no SLI series in common; nothing was compared');
  return abExitCode(cmp);
}

/** One run of ab: one side on every node, or (paired) each side on its half of the nodes. */
type RunPlan =
  | { side: 'base' | 'candidate'; what: string; choice: KubeProxyChoice }
  | { side: 'paired'; what: string; choice: NodeChoice; baseNodes: Set<string>; candidateNodes: Set<string> };

/** The paired runs over the lab's nodes (sorted by name): base on the even or odd half, as pairedOrder says. */
export function pairedPlan(rounds: number, nodeNames: readonly string[], sides: Record<'base' | 'candidate', KubeProxyChoice>): RunPlan[] {
  if (nodeNames.length < 2 || nodeNames.length % 2 !== 0) throw new Error(`a paired run needs an even number of nodes; the lab has ${nodeNames.length}`);
  return pairedOrder(rounds).map((half) => {
    const { base: baseNodes, candidate: candidateNodes } = nodeHalves(nodeNames, half);
    return {
      side: 'paired',
      what: `base on ${[...baseNodes].join(',')}, candidate on ${[...candidateNodes].join(',')}`,
      choice: (n: string) => (baseNodes.has(n) ? sides.base : sides.candidate),
      baseNodes,
      candidateNodes,
    };
  });
}

/** One side's half of a paired round, its environment naming that side's kube-proxy and nodes. */
function sideDoc(doc: ReportDocument, c: KubeProxyChoice, nodes: ReadonlySet<string>): ReportDocument {
  const extra: Record<string, string> = { ...doc.environment.extra, 'kubeProxy.version': c.version, 'kubeProxy.flags': c.args.join(' '), 'ab.pairedNodes': [...nodes].join(',') };
  // the round's own record names the gates of the lab's first node; this side's are its choice's
  const gates = Object.entries(c.featureGates);
  if (gates.length > 0) extra['kubeProxy.featureGates'] = gates.map(([g, on]) => `${g}=${on}`).join(',');
  else delete extra['kubeProxy.featureGates'];
  return { ...doc, environment: { ...doc.environment, extra } };
}

/** The exit code of a comparison of rounds: 1 a significant regression, 3 nothing in common to compare, else 0. */
export function abExitCode(cmp: ComparisonDocument): number {
  if (cmp.rows.length === 0) return EXIT.infrastructure;
  return cmp.outcome === 'regression' ? EXIT.breached : EXIT.ok;
}
