// `npm run bench -- overhead`: the request-overhead suite's four paths side by side
// (requests/s closed loop with and without keep-alive; p50, p99, p99.9 open loop), and how
// far the lab's host-network path is from this machine's own loopback for the same server
// (src/workload/server.ts, its own process) and generator (the loadgen's http engine).
// On a lab of its own the bench brings up one dual-stack lab: the suite measures TCP/IPv4 and
// TCP/IPv6 there as two series, then bench/overhead-udp.run.ts sends UDP request/response
// exchanges over the same four paths of each family.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../src/lab/binaries.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { labDown, labUp } from '../src/lab/lab.js';
import type { ReportDocument } from '../src/report/index.js';
import { quantile } from '../src/sli/index.js';
import { startHttpRun } from '../src/workload/loadgen/http-run.js';
import type { HttpRequestTuple, HttpRunSpec } from '../src/workload/loadgen/types.js';
import { figures, toRecords, type Mode, type PathRun } from '../measurements/request-overhead.js';
import { PATHS } from '../fixtures/overhead.js';
import type { UdpBenchRow } from './overhead-udp.run.js';

export interface Row {
  family: string;
  path: string;
  keepAliveRps?: number;
  closeRps?: number;
  p50?: number;
  p99?: number;
  p999?: number;
  note?: string;
}


const SECONDS = Number(process.env.OVERHEAD_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.OVERHEAD_CONCURRENCY ?? 8);

async function localRun(port: number, mode: Mode, rate?: number): Promise<PathRun> {
  const spec: HttpRunSpec = {
    mode: 'http',
    targets: [{ host: '127.0.0.1', port }],
    connections: CONNECTIONS,
    keepAlive: mode !== 'close',
    durationMs: SECONDS * 1000,
    path: '/bytes/100',
    timeoutMs: 10_000,
    ...(mode === 'open' ? { ratePerSecond: rate! } : {}),
  };
  const run = startHttpRun('bench', spec);
  await run.settled;
  const s = run.summary() as { ok: number; failed: number; unsent: number; errors: string[] };
  return {
    path: 'host-network',
    mode,
    target: spec.targets[0],
    records: toRecords(run.results as HttpRequestTuple[]),
    summary: s,
    durationUs: SECONDS * 1e6,
    ...(mode === 'open' ? { ratePerSecond: rate! } : {}),
    startedNs: run.startedNs,
  };
}

/** The server in its own process on 127.0.0.1, the generator here: this machine's own figure. */
export async function benchLoopback(rate?: number): Promise<{ keepAliveRps: number; closeRps: number; rate: number; p50: number; p99: number; p999: number; late: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot(), 'src/workload/server.ts'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`the server exited (${c}) before it listened`)));
    });
    const port = (JSON.parse(line) as { listening: number }).listening;
    const ka = figures([await localRun(port, 'keep-alive')]);
    const cl = figures([await localRun(port, 'close')]);
    const r = rate ?? Math.round(ka.perSecond / 2);
    const op = figures([await localRun(port, 'open', r)]);
    return { keepAliveRps: ka.perSecond, closeRps: cl.perSecond, rate: r, p50: quantile(op.latency, 0.5), p99: quantile(op.latency, 0.99), p999: quantile(op.latency, 0.999), late: op.stats?.[0]?.lateShare ?? NaN };
  } finally {
    child.kill();
  }
}

const FAMILY_NAME = { ipv4: 'TCP/IPv4', ipv6: 'TCP/IPv6' } as const;
const UDP_NAME = { ipv4: 'UDP/IPv4', ipv6: 'UDP/IPv6' } as const;
type Fam = keyof typeof FAMILY_NAME;

/** The TCP rows of one family from the suite's report (its summaries are computed from every raw sample). */
export function rowsFromReport(report: Pick<ReportDocument, 'series'>, family: Fam): Row[] {
  // a default IPv4 run labels no series with its family
  const of = (labels: Record<string, string> | undefined): string => labels?.family ?? 'ipv4';
  const summary = (sli: string, path: string, mode: string): Partial<Record<'mean' | 'p50' | 'p99' | 'p999', number | null>> =>
    report.series.find((s) => s.sli === sli && s.labels?.path === path && s.labels?.mode === mode && of(s.labels) === family)?.summary ?? {};
  const num = (x: number | null | undefined): number | undefined => (x === null || x === undefined ? undefined : x);
  return PATHS.map((path) => {
    const lat = summary('request_latency_seconds', path, 'open');
    return {
      family: FAMILY_NAME[family],
      path,
      keepAliveRps: num(summary('requests_per_second', path, 'keep-alive').mean),
      closeRps: num(summary('requests_per_second', path, 'close').mean),
      p50: num(lat.p50),
      p99: num(lat.p99),
      p999: num(lat.p999),
    };
  });
}

/** The UDP rows: round trips of request/response exchanges, one open-loop leg per path and direction. */
export function udpRows(rows: readonly UdpBenchRow[]): Row[] {
  return rows.map((r) => ({
    family: UDP_NAME[r.family],
    path: r.figures.path,
    p50: r.figures.p50Seconds,
    p99: r.figures.p99Seconds,
    p999: r.figures.p999Seconds,
    note: `round trip at ${r.rate} exchanges/s: ${r.figures.answered} of ${r.figures.sent} answered (loss ${(r.figures.lossRatio * 100).toFixed(2)} %)${r.figures.lateP99Seconds > 0.05 ? `; the client sent late (p99 ${(r.figures.lateP99Seconds * 1000).toFixed(0)} ms): its figure, not the path's` : ''}`,
  }));
}

/**
 * The suite and the UDP legs on one lab (a fresh dual-stack one, each family measured as its
 * own series, or KUBECONFIG's cluster with the run's SLI_IP_FAMILY), read back from the
 * report and the UDP rows file.
 */
export async function benchLabPaths(): Promise<{ rows: Row[]; rate?: number; rates: string[]; exitCode: number; verdicts: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bench-ovh-'));
  const env: NodeJS.ProcessEnv = {};
  // the run's own target and knobs; SLI_TIMEOUT_FACTOR passes (a loaded machine's lab up is slow)
  for (const [k, v] of Object.entries(process.env)) if ((!k.startsWith('SLI_') || k === 'SLI_TIMEOUT_FACTOR') && k !== 'KUBE_SLI_LAB_DIR') env[k] = v;
  const own = !process.env.KUBECONFIG;
  const labDir = join(dir, 'lab');
  const family = own ? 'dual' : (process.env.SLI_IP_FAMILY ?? 'ipv4');
  // a lab brought up here, reused by both runs (a lab already up in the state dir is left up by them)
  const target = own ? { SLI_PROVIDER: 'lab', KUBE_SLI_LAB_DIR: labDir } : {};
  const vitest = (args: string[], extra: Record<string, string>) =>
    execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...args], {
      cwd: repoRoot(),
      env: { ...env, ...target, SLI_IP_FAMILY: family, ...extra },
      extendEnv: false,
      reject: false,
      all: true,
    });
  try {
    if (own) await labUp({ stateDir: labDir, ipFamily: 'dual', ports: await freeControlPlanePorts(), onProgress: (m) => console.error(`[lab] ${m}`) });
    const r = await vitest(['--project', 'slo', 'suites/request-overhead.slo.test.ts'], { SLI_REPORT_DIR: join(dir, 'report') });
    const out = String(r.all ?? '');
    const text = await readFile(join(dir, 'report', 'report.json'), 'utf8').catch(() => {
      throw new Error(`the suite wrote no report (exit ${r.exitCode}):\n${out.slice(-3000)}`);
    });
    const report = JSON.parse(text) as ReportDocument;
    const families: Fam[] = family === 'dual' ? ['ipv4', 'ipv6'] : [family === 'ipv6' ? 'ipv6' : 'ipv4'];
    const rows = families.flatMap((f) => rowsFromReport(report, f));
    const udpOut = join(dir, 'udp.json');
    const u = await vitest(['--config', 'bench/overhead-udp.vitest.config.ts'], {
      OVERHEAD_UDP_OUT: udpOut,
      SLI_REPORT_DIR: join(dir, 'report-udp'),
      UDP_RATE: process.env.UDP_RATE ?? '200',
      UDP_EXCHANGES: process.env.UDP_EXCHANGES ?? String(200 * SECONDS),
    });
    const udp = await readFile(udpOut, 'utf8').then(
      (t) => udpRows(JSON.parse(t) as UdpBenchRow[]),
      () => [{ family: 'UDP', path: '—', note: `not measured: the UDP run failed (exit ${u.exitCode}): ${String(u.all ?? '').slice(-600).replace(/\s+/g, ' ')}` }],
    );
    const rates = [...out.matchAll(/(request-overhead(?: ipv[46])?): open loop at (\d+) req\/s/g)].map((m) => `${m[1]} ${m[2]} req/s`);
    const rate = Number(/open loop at (\d+) req\/s/.exec(out)?.[1] ?? NaN);
    return { rows: [...rows, ...udp], ...(Number.isFinite(rate) ? { rate } : {}), rates, exitCode: r.exitCode ?? -1, verdicts: out.split('\n').filter((l) => /^\s+(PASS|FAIL|INCONCLUSIVE) /.test(l)).join('\n') };
  } finally {
    if (own) await labDown(labDir).catch((e: unknown) => console.error(`lab down failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (s: number | undefined): string => (s === undefined || !Number.isFinite(s) ? '—' : (s * 1000).toFixed(3));
const n0 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : Math.round(x).toLocaleString('en-US'));

export function table(rows: readonly Row[]): Record<string, string>[] {
  return rows.map((r) => ({
    family: r.family,
    path: r.path,
    'req/s keep-alive': n0(r.keepAliveRps),
    'req/s new conn': n0(r.closeRps),
    'p50 ms': ms(r.p50),
    'p99 ms': ms(r.p99),
    'p99.9 ms': ms(r.p999),
    ...(r.note ? { note: r.note } : {}),
  }));
}
