// SLIs pod_ip_requests_per_second_ratio, clusterip_requests_per_second_ratio,
// pod_ip_request_p99_ratio and clusterip_request_p99_ratio: what each layer of the cluster
// network costs an HTTP request, against the same server on the host network (the case
// study "Is K3S too slow?" asked this of k3s). One client pod on node A, one kit server on
// node B reached four ways (fixtures/overhead.ts): host network, pod IP, ClusterIP, NodePort.
//
// After one unrecorded warm-up second per path, three modes, each path measured twice in the order A B C D D C B A so that drift of a
// shared machine falls on every path alike:
//   closed loop, keep-alive   OVERHEAD_CONCURRENCY connections, next request as soon as the
//                             response is in: the maximum requests/s per request
//   closed loop, close        the same with a new connection per request (connect, NAT
//                             lookup and conntrack entry every time)
//   open loop                 a constant arrival rate (OVERHEAD_RATE, else
//                             OVERHEAD_RATE_FRACTION of the slowest path's keep-alive
//                             maximum) on wrk2's schedule; latency counts from each
//                             request's due time, so queueing behind a stall is not hidden
//                             (src/sli/open-loop.ts)
// Requests/s ratios are of the mean of per-interval rates (100 ms intervals, ramp-up and
// cut-short intervals left out), judged for both closed-loop modes; p99 ratios are of the
// pooled open-loop latencies. The generator's own delays are measured per request: requests
// due but never sent make the p99 verdicts inconclusive; late sends (lag while the
// connection was free) make them inconclusive when judging again with each request's own
// lag taken out changes the verdict, and are reported beside it otherwise (lagCheck). The
// NodePort path is measured and reported beside them, not judged.
import { caveat, definition, warning } from '../src/report/notes.js';
import { compare, evaluateSlo, intervalRates, parseThreshold, lateSends, openLoopStats, quantile, unsustained, type OpenLoopStats, type RequestRecord, type SloSpec, type Verdict } from '../src/sli/index.js';
import { SLI } from '../src/config/profiles.js';
import type { IpFamilyName, Run } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { HttpRequestTuple, HttpRunSpec, HttpSummary, Target } from '../fixtures/loadgen.js';
import { waitTargetsProgrammed } from '../fixtures/measure.js';
import { PATHS, type OverheadScene, type PathName } from '../fixtures/overhead.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { judgeFailedConnections } from './failed-connections.js';

export const MODES = ['keep-alive', 'close', 'open'] as const;
export type Mode = (typeof MODES)[number];

const INTERVAL_US = 100_000;
/** a request sent more than this after it was due, while its connection was free, is late */
export const LATE_US = 1000;
/** more late requests than this share and the p99 is not the system's */
export const MAX_LATE_SHARE = 0.01;
const PATH_BYTES = '/bytes/100';
const WARMUP_SECONDS = 1;
const REQUEST_TIMEOUT_MS = 10_000;

export interface PathRun {
  path: PathName;
  mode: Mode;
  target: Target;
  records: RequestRecord[];
  summary: HttpSummary;
  durationUs: number;
  ratePerSecond?: number;
  startedNs: string;
  endedNs?: string;
}

/** A B C D D C B A */
export const interleaved = <T>(xs: readonly T[]): T[] => [...xs, ...[...xs].reverse()];

export function toRecords(rows: readonly HttpRequestTuple[]): RequestRecord[] {
  return rows.map(([dueUs, sentUs, freeUs, doneUs]) => (doneUs < 0 ? { dueUs, sentUs, freeUs } : { dueUs, sentUs, freeUs, doneUs }));
}

export interface PathFigures {
  path: PathName;
  mode: Mode;
  runs: number;
  requests: number;
  failed: number;
  /** completed requests per second over both runs */
  perSecond: number;
  /** per-interval rates of both runs */
  intervalRates: number[];
  /** seconds; from the due time in the open loop, from the send in the closed loop */
  latency: number[];
  /** latency less each request's own generator lag (open loop), seconds */
  latencyLessLag: number[];
  /** latency of each run on its own, in run order (the repeats), seconds */
  latencyPerRun: number[][];
  /** open loop only */
  stats?: OpenLoopStats[];
  /** requests due but never sent: the rate was not sustained */
  unsustained?: string;
  /** the generator sent late while connections were free */
  late?: string;
}

/** Pools the runs of one path and mode. */
export function figures(runs: readonly PathRun[]): PathFigures {
  const r0 = runs[0]!;
  const latency: number[] = [];
  const latencyLessLag: number[] = [];
  const rates: number[] = [];
  const stats: OpenLoopStats[] = [];
  const latencyPerRun: number[][] = [];
  let completed = 0;
  let failed = 0;
  let seconds = 0;
  for (const r of runs) {
    const st = openLoopStats(r.records, { ratePerSecond: r.ratePerSecond ?? 1, durationUs: r.durationUs, lateUs: LATE_US, unsent: r.summary.unsent });
    for (const l of st.latencyUs) latency.push(l / 1e6);
    for (const l of st.latencyLessLagUs) latencyLessLag.push(l / 1e6);
    latencyPerRun.push(st.latencyUs.map((l) => l / 1e6));
    rates.push(...intervalRates(r.records.flatMap((x) => (x.doneUs === undefined ? [] : [x.doneUs])), INTERVAL_US, r.durationUs));
    completed += st.completed;
    failed += st.failed;
    seconds += r.durationUs / 1e6;
    if (r.ratePerSecond !== undefined) stats.push(st);
  }
  const late = stats.map((s) => lateSends(s, { lateUs: LATE_US, maxLateShare: MAX_LATE_SHARE })).filter((x): x is string => !!x);
  const unsent = stats.map(unsustained).filter((x): x is string => !!x);
  return {
    path: r0.path,
    mode: r0.mode,
    runs: runs.length,
    requests: completed + failed,
    failed,
    perSecond: completed / seconds,
    intervalRates: rates,
    latency,
    latencyLessLag,
    latencyPerRun,
    ...(stats.length ? { stats } : {}),
    ...(unsent.length ? { unsustained: `${r0.path}: ${unsent.join('; ')}` } : {}),
    ...(late.length ? { late: `${r0.path}: ${late.join('; ')}` } : {}),
  };
}

const ms = (s: number): string => (Number.isFinite(s) ? `${(s * 1000).toFixed(3)} ms` : 'n/a');

/** One line per path and mode, for the log and the benchmark. */
export function figuresLine(f: PathFigures): string {
  const q = (p: number): string => ms(f.latency.length ? quantile(f.latency, p) : NaN);
  const lag = f.stats ? ` late ${(Math.max(...f.stats.map((s) => s.lateShare)) * 100).toFixed(2)}%` : '';
  return `${f.path.padEnd(12)} ${f.mode.padEnd(10)} ${f.perSecond.toFixed(0).padStart(7)} req/s  p50 ${q(0.5)}  p99 ${q(0.99)}  p99.9 ${q(0.999)} (p99 per run ${f.latencyPerRun.map((l) => ms(l.length ? quantile(l, 0.99) : NaN)).join(', ')})  n=${f.requests} failed=${f.failed}${lag}`;
}

async function runOnce(scene: OverheadScene, path: PathName, mode: Mode, o: { seconds: number; connections: number; rate?: number }): Promise<PathRun> {
  const target = scene.targets[path];
  const spec: HttpRunSpec = {
    mode: 'http',
    targets: [target],
    connections: o.connections,
    keepAlive: mode !== 'close',
    durationMs: o.seconds * 1000,
    path: PATH_BYTES,
    timeoutMs: REQUEST_TIMEOUT_MS,
    ...(mode === 'open' ? { ratePerSecond: o.rate! } : {}),
  };
  const v = await scene.client.run<HttpRequestTuple>(spec);
  return {
    path,
    mode,
    target,
    records: toRecords(v.results),
    summary: v.summary as HttpSummary,
    durationUs: spec.durationMs * 1000,
    ...(o.rate !== undefined && mode === 'open' ? { ratePerSecond: o.rate } : {}),
    startedNs: v.startedNs,
    ...(v.endedNs ? { endedNs: v.endedNs } : {}),
  };
}

const P99 = { kind: 'quantile', q: 0.99 } as const;

/** The SLO's verdict on p99(numerator) / p99(denominator). */
export function p99RatioVerdict(slo: SloSpec, numerator: readonly number[], denominator: readonly number[]): Verdict {
  return evaluateSlo(slo, { ratio: { numerator, denominator, statistic: P99 } });
}

/**
 * A failed p99 ratio must be reproduced by every repeat (run k of the path against run k of
 * the host network; A B C D, then D C B A). The pooled p99 of a few seconds of open loop is
 * set by its worst moment: one scheduler stall on a shared machine queues hundreds of
 * requests in one run, and the bootstrap, which resamples requests as independent, cannot
 * see that they all came from one event. So a failure that some repeat does not show is
 * inconclusive, with each repeat's ratio; a pass stands on the pooled samples.
 */
export function repeatCheck(slo: SloSpec, path: PathFigures, host: PathFigures, pooled: Verdict = p99RatioVerdict(slo, path.latency, host.latency)): { invalid?: string; ratios: number[] } {
  const ratios = path.latencyPerRun.map((l, k) => {
    const h = host.latencyPerRun[k] ?? [];
    return l.length && h.length ? quantile(l, 0.99) / quantile(h, 0.99) : NaN;
  });
  if (pooled.status !== 'fail' || ratios.length < 2) return { ratios };
  // a repeat shows the failure when its own ratio breaks a threshold (its point value: one
  // repeat alone may hold too few requests for an interval of its own)
  const thresholds = slo.thresholds.map(parseThreshold);
  const shows = (x: number): boolean => Number.isFinite(x) && thresholds.some((t) => !compare(x, t.op, t.value));
  const unconfirmed = ratios.filter((x) => !shows(x)).length;
  if (!unconfirmed) return { ratios };
  const list = ratios.map((x, k) => `repeat ${k + 1}: ${x.toFixed(3)}`).join(', ');
  return { ratios, invalid: `the pooled p99 ratio fails but ${unconfirmed} of ${ratios.length} repeats do not (${list}): the tail of one run decided it, not the path; run again or lengthen OVERHEAD_SECONDS` };
}

/**
 * Whether the generator's own delays can stand beside a p99 ratio verdict. Requests never
 * sent: never (inconclusive). Late sends: the lag is inside those requests' latency, so the
 * ratio is judged again with each request's own lag taken out; when the two verdicts differ
 * the lag could have decided it (inconclusive), when they agree the verdict stands with the
 * lag reported beside it.
 */
export function lagCheck(slo: SloSpec, path: PathFigures, host: PathFigures, measured: Verdict = p99RatioVerdict(slo, path.latency, host.latency)): { invalid?: string; notes: string[] } {
  const unsent = [host.unsustained, path.unsustained].filter((x): x is string => !!x);
  if (unsent.length) return { invalid: unsent.join('; '), notes: [] };
  const late = [host.late, path.late].filter((x): x is string => !!x);
  if (!late.length) return { notes: [] };
  const lessLag = p99RatioVerdict(slo, path.latencyLessLag, host.latencyLessLag);
  const r = (v: typeof measured): string => (v.thresholds[0]?.observed ?? NaN).toFixed(3);
  if (measured.status !== lessLag.status) {
    return { invalid: `${late.join('; ')}: with each request's own lag taken out the verdict would be ${lessLag.status} (ratio ${r(lessLag)}, measured ${r(measured)}), so the generator's lag could have decided it; lower the arrival rate or give the generator more CPU`, notes: [] };
  }
  return { notes: [`${late.join('; ')}; the verdict is the same with each request's own lag taken out (ratio ${r(lessLag)}, measured ${r(measured)})`] };
}

export interface OverheadResult {
  /** the primary family's figures */
  figures: PathFigures[];
  ratePerSecond: number;
  rateFrom: string;
  judged: Judged[];
  /** every family measured, primary first */
  families: FamilyOverhead[];
}

export interface FamilyOverhead {
  family: IpFamilyName;
  figures: PathFigures[];
  ratePerSecond: number;
  rateFrom: string;
}

/**
 * Each family the run measures (SLI_IP_FAMILY; dual: IPv4 then IPv6) is measured whole —
 * warm-up, both closed loops, the open loop at its own rate — and recorded as its own series
 * (label `family`; none in the default IPv4 run, whose series stay as they were).
 */
export async function measureRequestOverhead(scene: { run: Run; overhead: OverheadScene; agent: AgentFleet }, record: Recorder): Promise<OverheadResult> {
  const families: FamilyOverhead[] = [];
  const judged: Judged[] = [];
  for (const family of scene.overhead.families) {
    const r = await measureFamily(scene, record, family);
    families.push(r.result);
    judged.push(...r.judged);
  }
  const primary = families[0]!;
  return { figures: primary.figures, ratePerSecond: primary.ratePerSecond, rateFrom: primary.rateFrom, judged, families };
}

async function measureFamily(scene: { run: Run; overhead: OverheadScene; agent: AgentFleet }, record: Recorder, family: IpFamilyName): Promise<{ result: FamilyOverhead; judged: Judged[] }> {
  const { run } = scene;
  const overhead: OverheadScene = { ...scene.overhead, targets: scene.overhead.targetsOf(family) };
  // as fixtures/index.ts familyLabel (not imported: the benchmark loads this module outside vitest)
  const fam: { family?: IpFamilyName } = run.config.workload.ipFamily === 'ipv4' ? {} : { family };
  const tag = fam.family ? `request-overhead ${family}` : 'request-overhead';
  const w = run.config.workload;
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, scene.agent, [overhead.targets['cluster-ip']], 1);
  const base = { seconds: w.overheadSeconds, connections: w.overheadConcurrency };
  // warm-up, not recorded: the first requests of a Node.js client or server run before its JIT has compiled them
  for (const path of PATHS) await runOnce(overhead, path, 'keep-alive', { ...base, seconds: WARMUP_SECONDS });
  const runs: PathRun[] = [];
  const order = interleaved(PATHS);
  for (const mode of ['keep-alive', 'close'] as const) {
    for (const path of order) runs.push(await runOnce(overhead, path, mode, base));
  }
  const of = (mode: Mode, path: PathName): PathFigures => figures(runs.filter((r) => r.mode === mode && r.path === path));
  const slowest = PATHS.map((p) => of('keep-alive', p)).reduce((a, b) => (b.perSecond < a.perSecond ? b : a));
  const rate = w.overheadRate > 0 ? w.overheadRate : Math.max(1, Math.round(slowest.perSecond * w.overheadRateFraction));
  const rateFrom = w.overheadRate > 0 ? 'OVERHEAD_RATE' : `${w.overheadRateFraction} × ${slowest.perSecond.toFixed(0)} req/s, the closed-loop keep-alive maximum of the slowest path (${slowest.path})`;
  run.log(`${tag}: open loop at ${rate} req/s (${rateFrom})`);
  for (const path of order) runs.push(await runOnce(overhead, path, 'open', { ...base, rate }));

  const all = MODES.flatMap((m) => PATHS.map((p) => of(m, p)));
  for (const f of all) run.log(`${tag}: ${figuresLine(f)}`);
  const span = `runs of ${w.overheadSeconds} s each, ${w.overheadConcurrency} connections, client on ${overhead.clientNode}, server on ${overhead.serverNode}; measured ${runs[0]!.startedNs}..${runs[runs.length - 1]!.endedNs ?? 'n/a'} (epoch ns, client clock)`;
  const sceneNotes = [...overhead.notes.map(caveat), ...programmed.map(caveat)];
  for (const f of all) {
    const labels = { path: f.path, mode: f.mode, ...fam };
    const trouble = [f.unsustained, f.late].filter((x): x is string => !!x).map(warning);
    record.observe('request_latency_seconds', { source: 'client', labels, samples: f.latency, notes: [definition(f.mode === 'open' ? `response end − due time at ${rate} req/s (${rateFrom})` : 'response end − send, closed loop'), ...trouble] });
    record.observe('requests_per_second', { source: 'client', labels, samples: f.intervalRates, notes: [definition(`completed requests per ${INTERVAL_US / 1000} ms interval, as a rate; ${span}`)] });
  }

  const judged: Judged[] = [];
  const host = (m: Mode): PathFigures => of(m, 'host-network');
  for (const [sli, path] of [
    [SLI.podRequestRate, 'pod-ip'],
    [SLI.clusterIpRequestRate, 'cluster-ip'],
  ] as const) {
    for (const mode of ['keep-alive', 'close'] as const) {
      judged.push(
        record.judgeRatio(run.config.slos[sli], {
          source: 'client',
          labels: { mode, ...fam },
          numerator: of(mode, path).intervalRates,
          denominator: host(mode).intervalRates,
          statistic: { kind: 'mean' },
          notes: [definition(`closed loop (${mode === 'keep-alive' ? 'kept-alive connections' : 'a new connection per request'}): mean requests/s per interval to the ${path} over the host network, A B C D D C B A; ${span}`), ...sceneNotes],
        }),
      );
    }
  }
  const open = (p: PathName): PathFigures => of('open', p);
  for (const [sli, path] of [
    [SLI.podRequestP99, 'pod-ip'],
    [SLI.clusterIpRequestP99, 'cluster-ip'],
  ] as const) {
    // the pooled verdict once, for both checks (a bootstrap over every request)
    const pooled = p99RatioVerdict(run.config.slos[sli], open(path).latency, open('host-network').latency);
    const fit = lagCheck(run.config.slos[sli], open(path), open('host-network'), pooled);
    const repeats = repeatCheck(run.config.slos[sli], open(path), open('host-network'), pooled);
    const invalid = [fit.invalid, repeats.invalid].filter((x): x is string => !!x).join('; ');
    judged.push(
      record.judgeRatio(run.config.slos[sli], {
        source: 'client',
        labels: { mode: 'open', ...fam },
        numerator: open(path).latency,
        denominator: open('host-network').latency,
        statistic: P99,
        notes: [
          definition(`open loop at ${rate} req/s (${rateFrom}): p99 of latency from each request's due time (wrk2's correction for coordinated omission) to the ${path} over the host network; ${span}`),
          ...fit.notes.map(warning),
          definition(`p99 ratio of each repeat on its own (A B C D, then D C B A): ${repeats.ratios.map((x) => x.toFixed(3)).join(', ')}`),
          ...sceneNotes,
        ],
        ...(invalid ? { invalid } : {}),
      }),
    );
  }
  const failed = runs.reduce((a, r) => a + r.summary.failed, 0);
  const attempted = runs.reduce((a, r) => a + r.summary.ok + r.summary.failed, 0);
  const firstError = runs.find((r) => r.summary.errors.length)?.summary.errors[0];
  judged.push(judgeFailedConnections(record, run.config.slos[SLI.failedConnections], { failed, attempted, ...(firstError ? { firstError: `${firstError}` } : {}) }, { measurement: 'request-overhead', ...fam }));
  return { result: { family, figures: all, ratePerSecond: rate, rateFrom }, judged };
}
