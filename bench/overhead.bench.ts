// `npm run bench -- overhead`: the request-overhead suite's four paths side by side
// (requests/s closed loop with and without keep-alive; p50, p99, p99.9 open loop), and how
// far the lab's host-network path is from this machine's own loopback for the same server
// (src/workload/server.ts, its own process) and generator (the loadgen's http engine).
// Rows for TCP/IPv6 and UDP are listed and left open until the lab runs those families.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../src/lab/binaries.js';
import { labDown } from '../src/lab/lab.js';
import type { ReportDocument } from '../src/report/index.js';
import { quantile } from '../src/sli/index.js';
import { startHttpRun } from '../src/workload/loadgen/http-run.js';
import type { HttpRequestTuple, HttpRunSpec } from '../src/workload/loadgen/types.js';
import { figures, toRecords, type Mode, type PathRun } from '../measurements/request-overhead.js';
import type { PathName } from '../fixtures/overhead.js';

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

/**
 * The families the table has rows for. TCP/IPv4 is what the lab runs today; the others
 * name what fills them (a lab brought up with --ip-family ipv6, a UDP request/response
 * path), so their rows stay visible as "not measured" rather than missing.
 */
export const FAMILIES: readonly { family: string; env?: Record<string, string>; pending?: string }[] = [
  { family: 'TCP/IPv4', env: {} },
  { family: 'TCP/IPv6', pending: 'needs a lab up with --ip-family ipv6 (the suite takes v6 targets unchanged)' },
  { family: 'UDP', pending: 'needs the UDP request/response path' },
];

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

/** The suite on the lab (a fresh one, or KUBECONFIG's cluster), read back from its report. */
export async function benchLabPaths(): Promise<{ rows: Row[]; rate?: number; exitCode: number; verdicts: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bench-ovh-'));
  const env: NodeJS.ProcessEnv = {};
  // the run's own target and knobs; SLI_TIMEOUT_FACTOR passes (a loaded machine's lab up is slow)
  for (const [k, v] of Object.entries(process.env)) if ((!k.startsWith('SLI_') || k === 'SLI_TIMEOUT_FACTOR') && k !== 'KUBE_SLI_LAB_DIR') env[k] = v;
  const target = process.env.KUBECONFIG ? {} : { SLI_PROVIDER: 'lab', KUBE_SLI_LAB_DIR: join(dir, 'lab') };
  try {
    const r = await execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'slo', 'suites/request-overhead.slo.test.ts'], {
      cwd: repoRoot(),
      env: { ...env, ...target, SLI_REPORT_DIR: join(dir, 'report') },
      extendEnv: false,
      reject: false,
      all: true,
    });
    const out = String(r.all ?? '');
    const text = await readFile(join(dir, 'report', 'report.json'), 'utf8').catch(() => {
      throw new Error(`the suite wrote no report (exit ${r.exitCode}):\n${out.slice(-3000)}`);
    });
    const report = JSON.parse(text) as ReportDocument;
    // the report's summaries are computed from every raw sample
    const summary = (sli: string, path: string, mode: string): Partial<Record<'mean' | 'p50' | 'p99' | 'p999', number | null>> =>
      report.series.find((s) => s.sli === sli && s.labels?.path === path && s.labels?.mode === mode)?.summary ?? {};
    const num = (x: number | null | undefined): number | undefined => (x === null || x === undefined ? undefined : x);
    const rows: Row[] = (['host-network', 'pod-ip', 'cluster-ip', 'node-port'] as PathName[]).map((path) => {
      const lat = summary('request_latency_seconds', path, 'open');
      return {
        family: 'TCP/IPv4',
        path,
        keepAliveRps: num(summary('requests_per_second', path, 'keep-alive').mean),
        closeRps: num(summary('requests_per_second', path, 'close').mean),
        p50: num(lat.p50),
        p99: num(lat.p99),
        p999: num(lat.p999),
      };
    });
    const rate = Number(/open loop at (\d+) req\/s/.exec(out)?.[1] ?? NaN);
    return { rows, ...(Number.isFinite(rate) ? { rate } : {}), exitCode: r.exitCode ?? -1, verdicts: out.split('\n').filter((l) => /^\s+(PASS|FAIL|INCONCLUSIVE) /.test(l)).join('\n') };
  } finally {
    if ('KUBE_SLI_LAB_DIR' in target) await labDown(target.KUBE_SLI_LAB_DIR).catch((e: unknown) => console.error(`lab down failed, it may be left behind: ${(e as Error).message}`));
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

export function pendingRows(): Row[] {
  return FAMILIES.filter((f) => f.pending).flatMap((f) => ['host-network', 'pod-ip', 'cluster-ip', 'node-port'].map((path) => ({ family: f.family, path, note: `not measured: ${f.pending}` })));
}
