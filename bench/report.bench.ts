// Building and rendering a report with 1,000,000 flow samples.
//
// 1,000,000 synthetic flows spread over 5 scale points (200,000 per point), each flow
// giving a first-packet latency, a connection total latency and a per-connection
// throughput — 3,000,000 values in 15 series, SLOs evaluated as a suite would. Timed:
// buildReport (exact summaries, histograms, reservoirs), schema validation,
// serialisation, and every renderer (console, Markdown, JUnit, HTML, conformance), plus a
// compare against a second run. Targets: under 10 s, under 1 GiB peak RSS, and
// an HTML page under 5 MB because it plots summaries, never raw samples.
//
//   npx tsx bench/report.bench.ts     (or through npm run bench)
import { pathToFileURL } from 'node:url';
import {
  renderComparisonHtml,
  renderConformanceHtml,
  renderConsole,
  renderHtml,
  renderJUnit,
  renderMarkdown,
} from '../reporters/render/index.js';
import { buildReport, compareReports, serializeReport, validateReport, type SliResult } from '../src/report/index.js';
import { evaluateSlo, mulberry32, type SloSpec } from '../src/sli/index.js';

export interface ReportBenchResult {
  /** Flow samples in the report (each flow contributes 3 values). */
  samples: number;
  /** Build + validate + serialise + render all formats. */
  seconds: number;
  peakRssMiB: number;
  htmlBytes: number;
  jsonBytes: number;
  /** compareReports of two such runs (bootstrap on the reservoirs). */
  compareSeconds: number;
}

const SERVICES = [100, 1000, 5000, 10000, 20000];
const FP_P50: Record<number, number> = { 100: 17e-6, 1000: 31e-6, 5000: 91e-6, 10000: 176e-6, 20000: 313e-6 };

function lognormal(out: Float64Array, median: number, sigma: number, rng: () => number): Float64Array {
  for (let i = 0; i < out.length; i++) {
    const z = Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
    out[i] = median * Math.exp(sigma * z) * (rng() < 0.01 ? 3 : 1);
  }
  return out;
}

function results(flows: number, seed: number): SliResult[] {
  const rng = mulberry32(seed);
  const per = Math.floor(flows / SERVICES.length);
  const out: SliResult[] = [];
  const evaluate = (slo: SloSpec, samples: Float64Array, labels: Record<string, string>) => ({
    slo: { ...slo, labels },
    verdict: evaluateSlo({ ...slo, labels }, { samples: samples as unknown as number[] }, { iterations: 200 }),
  });
  for (const svc of SERVICES) {
    const labels = { services: String(svc) };
    const fp = lognormal(new Float64Array(per), FP_P50[svc] as number, 0.18, rng);
    const total = lognormal(new Float64Array(per), (FP_P50[svc] as number) + 420e-6, 0.12, rng);
    const thr = lognormal(new Float64Array(per), 1.1e9, 0.05, rng);
    out.push(
      { sli: 'first_packet_latency_seconds', source: 'capture', labels, samples: fp, ...evaluate({ sli: 'first_packet_latency_seconds', thresholds: ['p(99)<1ms'], minSamples: 1000 }, fp, labels) },
      { sli: 'connection_total_latency_seconds', source: 'capture', labels, samples: total, ...evaluate({ sli: 'connection_total_latency_seconds', thresholds: ['p(99)<5ms'], minSamples: 1000 }, total, labels) },
      { sli: 'connection_throughput_bytes_per_second', source: 'conntrack', labels, samples: thr },
    );
  }
  return out;
}

export async function benchReport(flows = 1_000_000): Promise<ReportBenchResult> {
  const base = results(flows, 1);
  const cand = results(flows, 2);
  const environment = { kubernetesVersion: 'v1.34.1', proxyMode: 'iptables', kernel: '6.18.0', nodes: [{ name: 'n1' }, { name: 'n2' }] };
  const input = { kitVersion: 'bench', environment, workload: { flows }, startedAt: new Date(0), endedAt: new Date(600_000), profile: 'strict' };

  const start = process.hrtime.bigint();
  const doc = buildReport({ ...input, results: base });
  const problems = validateReport(doc);
  if (problems.length > 0) throw new Error(`bench report is invalid: ${JSON.stringify(problems.slice(0, 3))}`);
  const json = serializeReport(doc);
  renderConsole(doc);
  renderMarkdown(doc);
  renderJUnit(doc);
  renderConformanceHtml(doc);
  const html = renderHtml(doc);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;

  const other = buildReport({ ...input, results: cand });
  const c0 = process.hrtime.bigint();
  const cmp = compareReports(doc, other);
  renderComparisonHtml(cmp);
  const compareSeconds = Number(process.hrtime.bigint() - c0) / 1e9;

  return {
    samples: SERVICES.length * Math.floor(flows / SERVICES.length),
    seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    htmlBytes: Buffer.byteLength(html),
    jsonBytes: Buffer.byteLength(json),
    compareSeconds,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchReport();
  console.log(
    `report: ${r.samples.toLocaleString('en-US')} flow samples (×3 SLIs) built, validated and rendered in ${r.seconds.toFixed(2)} s; ` +
      `peak RSS ${r.peakRssMiB.toFixed(0)} MiB; report.html ${(r.htmlBytes / 1024).toFixed(0)} KiB, report.json ${(r.jsonBytes / 1024).toFixed(0)} KiB; ` +
      `compare ${r.compareSeconds.toFixed(2)} s`,
  );
}
