// `npm run bench`: throughput and memory figures of the measurement core and reports.
// Printed, not asserted: a shared 2-core VM makes timings a figure to read, not a gate.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAgentMemory } from './agent-memory.bench.js';
import { benchCapture } from './capture.bench.js';
import { benchConntrackBurst, burstTable } from './conntrack-burst.bench.js';
import { benchConntrack, benchConntrackXml } from './conntrack.bench.js';
import { benchLab } from './lab.bench.js';
import { benchNetworkReady } from './network-ready.bench.js';
import { benchConformance, benchNodes } from './nodes.bench.js';
import { benchLabPaths, benchLoopback, table } from './overhead.bench.js';
import { benchHollow, hollowLines } from './hollow.bench.js';
import { benchKep3453, GATE, keyRows, KEP3453_VERSION, nat, rowTable } from './kep3453.bench.js';
import { benchAbCalibrate, benchAbMde, calibrationTable, mdeLines, pairedSpreadLines, predictedMdeLines, readMdeRuns, rejudgePairedRun, type AbMdeFigures } from './ab-mde.bench.js';
import { PAIRED_DEFAULT_RUNS } from '../src/cli/ab-command.js';
import { formatSize, MDE_MIN_RUNS, parseSize, tallyMde, type MdeRun } from '../src/report/mde.js';
import { benchReport } from './report.bench.js';
import { benchDefaultProfile } from './slo.bench.js';
import { benchServices } from './services.bench.js';
import { compareClients, parseServicesArgs, runRows } from './services-figures.js';
import { DEFAULT_BULK_CONCURRENCY } from '../src/kube/bulk.js';

const only = process.argv.slice(2);
// the lab benchmark brings up real clusters and programs 10,000 Services per proxy mode
// (~10 min each on 2 cores): it runs only when asked for, `npm run bench -- lab [N]`
const OPT_IN = new Set(['lab', 'nodes', 'conformance', 'network-ready', 'overhead', 'hollow', 'kep3453', 'ab', 'ab-calibrate', 'ab-tally', 'ab-rejudge']);
const want = (name: string): boolean => (only.length === 0 ? !OPT_IN.has(name) : only.includes(name));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`kube-sli bench — node ${process.version}, ${new Date().toISOString()}`);
if (want('conntrack')) {
  // text is the agent's mode; XML (kernel ns timestamps) is the alternative, slower to parse
  for (const [name, f] of [['text', benchConntrack], ['xml', benchConntrackXml]] as const) {
    const r = await f();
    console.log(
      `conntrack ${name}: ${fmt(r.events)} events, ${fmt(r.eventsPerSecond)} events/s per CPU-second ` +
        `(${fmt(r.events / r.wallSeconds)}/s wall), peak RSS ${r.peakRssMiB} MiB   [target >= 200,000/s]`,
    );
  }
}
const root = process.getuid?.() === 0;
if (want('conntrack-burst')) {
  if (!root) console.log('conntrack-burst: skipped (network namespaces need root)');
  else {
    const sizes = only.includes('conntrack-burst') ? only.filter((a) => /^\d+$/.test(a)).map(Number) : [];
    console.log(
      'conntrack-burst: N connections to a Service VIP (measured) + N to a pod at once, 5,000 nftables Services   ' +
        '[target: 0 overruns and 0 measured lost for kube-sli-ct-events at the default 64 MiB]',
    );
    console.table(burstTable(await benchConntrackBurst(sizes.length > 0 ? sizes : undefined)));
  }
}
if (want('capture')) {
  const r = await benchCapture();
  console.log(
    `capture: ${fmt(r.records)} pcap records, ${fmt(r.recordsPerSecond)} records/s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB   [target >= 200,000/s]`,
  );
}
if (want('agent-memory')) {
  const stages = await benchAgentMemory();
  console.log('agent histogram mode, RSS as flows grow (should stay flat):');
  console.table(stages);
}
if (want('report')) {
  const r = await benchReport();
  console.log(
    `report: ${fmt(r.samples)} flow samples rendered in ${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, ` +
      `HTML ${(r.htmlBytes / 1024).toFixed(0)} KiB   [targets < 10 s, < 1 GiB, < 5 MB]`,
  );
}
if (want('services')) {
  // `npm run bench -- services [N] [order] [keep]`: the kit against client-go on one lab;
  // order e.g. kit,go,go,kit (default) or kit+ip,go+ip (Services with chosen ClusterIPs)
  if (!root) console.log('services: skipped (the lab needs root)');
  else {
    const a = parseServicesArgs(only.includes('services') ? only.filter((x) => x !== 'services') : [], process.env, DEFAULT_BULK_CONCURRENCY);
    const r = await benchServices(a);
    const cmp = [compareClients(r.runs), compareClients(r.runs, true)];
    console.log(
      `services: ${fmt(a.services)} Services + ${fmt(a.services)} EndpointSlices a run, ${a.concurrency} requests in flight, nftables lab with 2 nodes; ` +
        `client-go ${r.clientGo.k8sVersion} (${r.clientGo.binary}${r.clientGo.built ? `, built in ${r.clientGo.buildSeconds?.toFixed(0)} s` : ''}); ` +
        `CPU milliseconds per object by process group, net of the quiet lab's background use`,
    );
    console.table(runRows(r.runs));
    for (const n of r.notes) console.log(`services: ${n}`);
    const del = r.runs.filter((x) => x.deleteSeconds !== undefined);
    if (del.length > 0) console.log(`services: deleted between runs at ${del.map((x) => fmt(x.objects / x.deleteSeconds!)).join(', ')} objects/s`);
    for (const [i, c] of cmp.entries()) {
      if (!Number.isFinite(c.kitMean) && !Number.isFinite(c.goMean)) continue;
      console.log(
        `services${i === 1 ? ' (chosen ClusterIPs)' : ''}: kit ${fmt(c.kitMean)} objects/s, client-go ${fmt(c.goMean)} objects/s, kit/client-go ${c.ratio?.toFixed(2) ?? '—'}; ` +
          `client CPU per object: kit ${(c.kitCpuPerObject * 1000).toFixed(2)} ms, client-go ${(c.goCpuPerObject * 1000).toFixed(2)} ms   [targets: kit/client-go >= 0.9, kit >= 300 objects/s]`,
      );
    }
  }
}
if (want('slo')) {
  if (!root) console.log('slo: skipped (the lab needs root)');
  else {
    const r = await benchDefaultProfile();
    console.log(`slo: default profile, default workload, every suite on a fresh lab: ${(r.seconds / 60).toFixed(1)} min, exit ${r.exitCode}   [target <= 10 min]\n${r.tail}`);
  }
}
if (want('nodes') || want('lab')) {
  const pods = Number(process.env.BENCH_PODS ?? 100);
  const r = await benchNodes({ pods });
  console.log(`nodes: images found in the cache in ${r.imagesCachedSeconds.toFixed(1)} s; warm lab up (2 real nodes) to every node Ready in ${r.upSeconds.toFixed(1)} s   [target <= 60 s]`);
  console.log(`nodes: lab up phases (ms since start): ${Object.entries(r.phases).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(
    `nodes: ${r.pods} pods (agnhost pause, over 2 nodes) all Ready in ${r.allReadySeconds.toFixed(1)} s; kubelet_pod_start_sli_duration_seconds over ${r.podStartCount} pods: ` +
      `p50 ${r.podStartP50.toFixed(2)} s, p99 ${r.podStartP99.toFixed(2)} s (bucket-interpolated, histogram_quantile)`,
  );
}
if (want('conformance')) {
  const r = await benchConformance();
  console.log(`conformance: [sig-network] [Conformance] on the lab: ${r.passed} passed, ${r.failed.length} failed, ${r.skipped} skipped in ${(r.seconds / 60).toFixed(1)} min`);
  for (const f of r.failed) console.log(`  failed: ${f}`);
}
if (want('lab')) {
  const n = Number(only.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const figures = await benchLab({ services: n });
  console.log(`lab: ${n} Services with 2 endpoints each, then one more (the partial-sync case of the KubeCon NA 2024 talk)   [target: warm lab up <= 60 s]`);
  console.table(
    figures.map((f) => ({
      mode: f.mode,
      'warm lab up (s)': f.upSeconds.toFixed(1),
      'create via API (s)': f.createSeconds.toFixed(1),
      'programmed after last create (s)': f.programAfterLastCreateSeconds.toFixed(2),
      '+1 Service (s)': f.oneMoreSeconds.toFixed(2),
    })),
  );
}
if (want('network-ready')) {
  if (!root) console.log('network-ready: skipped (the lab needs root)');
  else await benchNetworkReady(only.filter((a) => a !== 'network-ready'));
}
if (want('overhead')) {
  if (!root) console.log('overhead: skipped (the lab needs root)');
  else {
    const lab = await benchLabPaths();
    const loop = await benchLoopback(lab.rate);
    console.log(`overhead: one kit server, reached four ways from a client pod on another node; open loop at ${lab.rates.join(', ') || '?'}, latency from each request's due time (suite exit ${lab.exitCode}); UDP: request/response round trips, open loop`);
    console.table(table(lab.rows));
    console.log(lab.verdicts);
    const host = lab.rows.find((r) => r.path === 'host-network' && r.family === 'TCP/IPv4');
    const pct = (a: number | undefined, b: number): string => (a === undefined || !Number.isFinite(a) ? '—' : `${((a / b) * 100).toFixed(0)} %`);
    console.log(
      `overhead: this machine's loopback (server and generator in two processes on 127.0.0.1): ${Math.round(loop.keepAliveRps)} req/s keep-alive, ${Math.round(loop.closeRps)} req/s new connections; ` +
        `open loop at ${loop.rate} req/s p50 ${(loop.p50 * 1000).toFixed(3)} ms, p99 ${(loop.p99 * 1000).toFixed(3)} ms, p99.9 ${(loop.p999 * 1000).toFixed(3)} ms (late sends ${(loop.late * 100).toFixed(2)} %)`,
    );
    console.log(
      `overhead: the lab's host-network path reaches ${pct(host?.keepAliveRps, loop.keepAliveRps)} of loopback's keep-alive req/s and ${pct(host?.closeRps, loop.closeRps)} of its new-connection req/s; ` +
        `its p99 is ${host?.p99 !== undefined ? (host.p99 / loop.p99).toFixed(2) : '—'} × loopback's at the same rate`,
    );
  }
}
if (want('hollow')) {
  // `npm run bench -- hollow [N ...]`: hollow-node counts (default 0 100 500);
  // BENCH_HOLLOW_SUITES_AT=0,100,500: the points where the suites run (others: memory only)
  const counts = only.filter((a) => /^\d+$/.test(a)).map(Number);
  const suitesAt = process.env.BENCH_HOLLOW_SUITES_AT?.split(',').map(Number);
  if (!root) console.log('hollow: skipped (the lab needs root)');
  else for (const l of hollowLines(await benchHollow({ ...(counts.length > 0 ? { counts } : {}), ...(suitesAt ? { suitesAt } : {}) }))) console.log(l);
}
if (want('kep3453')) {
  // `npm run bench -- kep3453 [Services] [rounds]`; KEP3453_OUT=<dir> keeps the rounds' reports and kube-proxy logs
  const [services, rounds] = only.filter((a) => /^\d+$/.test(a)).map(Number);
  if (!root) console.log('kep3453: skipped (the lab needs root)');
  else {
    const r = await benchKep3453({ services: services ?? 3000, rounds: rounds ?? 2, ...(process.env.KEP3453_OUT ? { outDir: process.env.KEP3453_OUT } : {}) });
    console.log(r.tail);
    console.log(
      `kep3453: kube-sli ab, kube-proxy ${KEP3453_VERSION} iptables, ${GATE}=false (A) against =true (B), programming-latency suite at ${fmt(r.services)} Services, ` +
        `${r.rounds} rounds a side: ${(r.seconds / 60).toFixed(1)} min wall, exit ${r.exitCode} (${r.forward.improvements} improvements, ${r.forward.regressions} regressions)   [expected: exit 0, the rows below improvements]`,
    );
    console.table(rowTable(keyRows(r.forward)));
    console.log(`kep3453: the same rounds the other way round (gate on as base): exit ${r.reverseExitCode}, ${r.reverse.regressions} regressions   [expected: exit 1]`);
    console.table(rowTable(keyRows(r.reverse)));
    console.log(`kep3453: kube-proxy's own logs, gate off: ${nat(r.syncs.off)}`);
    console.log(`kep3453: kube-proxy's own logs, gate on:  ${nat(r.syncs.on)}`);
    for (const w of r.forward.warnings) console.log(`kep3453: ${w}`);
    if (process.env.KEP3453_OUT) console.log(`kep3453: rounds kept in ${r.outDir}`);
  }
}
// around the targets: first-packet p50 on the lab is ~55-70 µs and rules=500 added 62 % in
// the smoke (test/fixtures/ab/mde/), so 10 % is near 80 rules; +1-Service programming p50 ~1 s, and
// sync=200ms added 82 % in ab-calibrate (each sync ran several delayed nft calls), so 20 % is near 50 ms
const DEFAULT_SIZES = ['rules=25', 'rules=50', 'rules=100', 'rules=200', 'rules=400', 'sync=10ms', 'sync=25ms', 'sync=50ms', 'sync=100ms'];
if (want('ab-calibrate')) {
  // `npm run bench -- ab-calibrate [sizes…]`: each size's effect measured directly on one lab (base, sizes, base); AB_MDE_OUT=<dir> keeps the reports
  const sizeArgs = only.filter((a) => a !== 'ab-calibrate');
  const sizes = (sizeArgs.length > 0 ? sizeArgs : DEFAULT_SIZES).map(parseSize);
  if (!root) console.log('ab-calibrate: skipped (the lab needs root)');
  else {
    const keep = process.env.AB_MDE_OUT;
    const outDir = keep ?? (await mkdtemp(join(tmpdir(), 'ksli-mde-cal-')));
    try {
      const t0 = performance.now();
      const rows = await benchAbCalibrate({ sizes, outDir, onProgress: (m) => console.log(`ab-calibrate: ${m}`) });
      console.log(`ab-calibrate: one lab (nftables, 2 nodes), per kind the base, each size, the base again; ${((performance.now() - t0) / 60_000).toFixed(1)} min; workload from the environment`);
      console.table(calibrationTable(rows));
      if (keep) console.log(`ab-calibrate: reports kept in ${outDir}`);
    } finally {
      if (!keep) await rm(outDir, { recursive: true, force: true });
    }
  }
}
async function printMde(runs: MdeRun[], failed: AbMdeFigures['failed']): Promise<void> {
  const { lines, table } = mdeLines(runs, tallyMde(runs));
  console.table(table);
  for (const l of lines) console.log(l);
  for (const l of await predictedMdeLines(runs)) console.log(l);
  for (const l of await pairedSpreadLines(runs)) console.log(l);
  if (failed.length > 0) console.log(`ab: ${failed.length} run(s) ended without a verdict and are not tallied: ${failed.map((f) => `${f.run}/${f.label} exit ${f.exitCode ?? 'signal'}`).join(', ')}`);
}
if (want('ab-rejudge')) {
  // `npm run bench -- ab-rejudge <dir…>`: the paired runs an ab bench kept, judged again by this code (ab's own verdicts kept as compare.recorded.json)
  const dirs = only.filter((a) => a !== 'ab-rejudge');
  if (dirs.length === 0) throw new Error('ab-rejudge needs the directories ab benches kept their runs in (their AB_MDE_OUT): npm run bench -- ab-rejudge <dir…>');
  for (const d of dirs) {
    const subs = (await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(d, e.name)).sort();
    let n = 0;
    for (const sub of subs) if (await stat(join(sub, 'compare.json')).then(() => rejudgePairedRun(sub), () => false)) n++;
    console.log(`ab-rejudge: ${n} paired run(s) in ${d} judged again`);
  }
}
if (want('ab-tally')) {
  // `npm run bench -- ab-tally <dir…>`: the figures of the runs `ab` benches kept in AB_MDE_OUT (also ones stopped early), tallied together
  const dirs = only.filter((a) => a !== 'ab-tally');
  if (dirs.length === 0) throw new Error('ab-tally needs the directories ab benches kept their runs in (their AB_MDE_OUT): npm run bench -- ab-tally <dir…>');
  const all = await Promise.all(dirs.map((d) => readMdeRuns(d)));
  const runs = all.flatMap((r) => r.runs);
  console.log(`ab-tally: ${runs.length} run(s) with a verdict in ${dirs.join(', ')}`);
  await printMde(runs, all.flatMap((r) => r.failed));
}
if (want('ab')) {
  // `npm run bench -- ab [runs] [sizes…]`: the resolution of `kube-sli ab` (bench/ab-mde.bench.ts);
  // sizes rules=<N> (first-packet) and sync=<D>ms (+1-Service programming); AB_MDE_OUT=<dir> keeps every run
  const args = only.filter((a) => a !== 'ab');
  const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? MDE_MIN_RUNS);
  // aa-only: the A/A runs of the sizes' suites alone; no-aa: the sizes alone
  const pick = args.includes('aa-only') ? ('aa' as const) : args.includes('no-aa') ? ('sizes' as const) : undefined;
  // paired: ab --paired for first-packet (both kube-proxies at once, one per node)
  const paired = args.includes('paired');
  const sizeArgs = args.filter((a) => !/^\d+$/.test(a) && a !== 'aa-only' && a !== 'no-aa' && a !== 'paired');
  const sizes = (sizeArgs.length > 0 ? sizeArgs : DEFAULT_SIZES).map(parseSize);
  if (!root) console.log('ab: skipped (the lab needs root)');
  else {
    const keep = process.env.AB_MDE_OUT;
    const outDir = keep ?? (await mkdtemp(join(tmpdir(), 'ksli-mde-out-')));
    try {
      console.log(`ab: kube-sli ab at its default rounds (${paired ? `first-packet: --paired, ${PAIRED_DEFAULT_RUNS} runs with both sides at once` : 'A B B A'}), ${pick === 'sizes' ? 'no' : runs} A/A run(s) per suite and ${pick === 'aa' ? 'no' : runs} run(s) per size (${sizes.map(formatSize).join(', ')}); workload from the environment`);
      const r = await benchAbMde({ runs, sizes, outDir, onRun: (l) => console.log(l), ...(pick ? { only: pick } : {}), paired });
      await printMde(r.runs, r.failed);
      if (keep) console.log(`ab: every run kept in ${outDir}`);
    } finally {
      if (!keep) await rm(outDir, { recursive: true, force: true });
    }
  }
}
