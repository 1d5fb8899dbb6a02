// `npm run bench -- network-ready [rate ...]`: pod network-ready latency (p50, p99 per
// source) and network-ready throughput at three flux rates, each a run of the
// network-ready suite on one lab (2 real nodes), and the wall time. Each section is its
// own function printing its own lines (NETWORK_READY_SECTIONS): the flux rates, then the
// hollow-node figures (the real nodes' network-ready and programming latency with 0, 100
// and 500 hollow nodes beside them, and what a hollow node costs).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { labDown, labUp } from '../src/lab/lab.js';
import { SLI } from '../src/config/profiles.js';
import { READY_SOURCES } from '../src/sli/network-ready.js';
import type { ReportDocument } from '../src/report/index.js';
import { runSloSuites } from '../test/lab/support/slo-run.js';
import { benchHollow, hollowLines } from './hollow.bench.js';

export interface FluxFigures {
  rate: number;
  /** seconds per source, under flux */
  p50: Record<string, number | null>;
  p99: Record<string, number | null>;
  /** pods network-ready per second while the flux ran */
  throughput: number | null;
  failedRatio: number | null;
  exitCode: number;
}

const FLUX_SECONDS = Number(process.env.BENCH_NETREADY_FLUX_SECONDS ?? 20);

/** The network-ready suite at each flux rate, on one lab; figures from its report. */
export async function benchNetworkReadyFlux(rates: readonly number[]): Promise<FluxFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bnr-'));
  const stateDir = join(dir, 'lab');
  try {
    // BENCH_NETREADY_KUBECONFIG: a lab (or cluster) already up, instead of a fresh lab
    const given = process.env.BENCH_NETREADY_KUBECONFIG;
    const lab = given ? { kubeconfigPath: given } : await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables' });
    const out: FluxFigures[] = [];
    for (const rate of rates) {
      const reportDir = join(dir, `report-${rate}`);
      const r = await runSloSuites(
        ['suites/network-ready.slo.test.ts'],
        { KUBECONFIG: lab.kubeconfigPath, NETREADY_PODS: '10', NETREADY_RATE: '1', NETREADY_FLUX_RATE: String(rate), NETREADY_FLUX_SECONDS: String(FLUX_SECONDS) },
        reportDir,
        30 * 60_000,
      );
      let report: ReportDocument;
      try {
        report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as ReportDocument;
      } catch {
        throw new Error(`network-ready at ${rate}/s wrote no report (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
      }
      const flux = (sli: string, source?: string) => report.series.find((s) => s.sli === sli && s.labels.phase === 'flux' && (source === undefined || s.source === source) && (sli !== SLI.netreadyLatency || s.labels.pods !== undefined));
      const p50: Record<string, number | null> = {};
      const p99: Record<string, number | null> = {};
      for (const s of READY_SOURCES) {
        const series = flux(SLI.netreadyLatency, s);
        p50[s] = series?.summary.p50 ?? null;
        p99[s] = series?.summary.p99 ?? null;
      }
      out.push({
        rate,
        p50,
        p99,
        throughput: flux('pod_network_ready_throughput_pods_per_second')?.summary.max ?? null,
        failedRatio: flux(SLI.netreadyFailures)?.summary.max ?? null,
        exitCode: r.exitCode,
      });
    }
    return out;
  } finally {
    if (!process.env.BENCH_NETREADY_KUBECONFIG) await labDown(stateDir).catch((e: unknown) => console.error(`lab down ${stateDir} failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (x: number | null): string => (x === null ? 'n/a' : `${(x * 1000).toFixed(0)} ms`);

/** The flux section: a table per rate. */
export async function fluxSection(args: readonly string[]): Promise<void> {
  const asked = args.filter((a) => /^\d+(\.\d+)?$/.test(a)).map(Number);
  const rates = asked.length > 0 ? asked : [1, 2, 4];
  console.log(`network-ready: the suite at flux ${rates.join(', ')} pods/s for ${FLUX_SECONDS} s each (steady reference: 10 pods at 1/s), 2 real lab nodes, nftables`);
  const figures = await benchNetworkReadyFlux(rates);
  console.table(
    figures.map((f) => ({
      'flux (pods/s)': f.rate,
      ...Object.fromEntries(READY_SOURCES.flatMap((s) => [[`${s} p50`, ms(f.p50[s] ?? null)], [`${s} p99`, ms(f.p99[s] ?? null)]])),
      'network-ready (pods/s)': f.throughput === null ? 'n/a' : f.throughput.toFixed(2),
      failed: f.failedRatio === null ? 'n/a' : f.failedRatio.toFixed(3),
      exit: f.exitCode,
    })),
  );
}

/** Sections of `npm run bench -- network-ready`, in order; each prints its own figures. */
export const NETWORK_READY_SECTIONS: { name: string; run: (args: readonly string[]) => Promise<void> }[] = [
  { name: 'flux', run: fluxSection },
  { name: 'hollow', run: hollowSection },
];

/** The hollow-node section: the real nodes' network-ready and programming latency with
 * BENCH_HOLLOW_COUNTS hollow nodes beside them (default 0,100,500), their memory and how
 * many fit (bench/hollow.bench.ts; `npm run bench -- hollow` runs it alone). */
export async function hollowSection(): Promise<void> {
  if (process.env.BENCH_NETREADY_HOLLOW === '0') {
    console.log('network-ready: hollow-node section skipped (BENCH_NETREADY_HOLLOW=0)');
    return;
  }
  const counts = process.env.BENCH_HOLLOW_COUNTS?.split(',').map(Number);
  for (const l of hollowLines(await benchHollow(counts ? { counts } : {}))) console.log(`network-ready: ${l}`);
}

export async function benchNetworkReady(args: readonly string[]): Promise<void> {
  const t0 = performance.now();
  for (const s of NETWORK_READY_SECTIONS) await s.run(args);
  console.log(`network-ready: wall time ${((performance.now() - t0) / 60_000).toFixed(1)} min`);
}
