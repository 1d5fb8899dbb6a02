// Pod network-ready latency from one pod's recorded timeline: when the pod was created
// (bounded by the runner's create call, the watch event's arrival and the API's 1 s
// creationTimestamp) and when each source first saw it reachable (on the clock of the
// program that saw it, mapped onto the runner's with an NTP-style offset). Pure: instants
// in, seconds and their resolution out.

/** (a) a prober on another node completes a handshake to the pod IP; (b) the pod reaches a Service VIP; (c) the pod answers through a Service that selects only it */
export type ReadySource = 'pod-ip' | 'egress' | 'service';
export const READY_SOURCES: readonly ReadySource[] = ['pod-ip', 'egress', 'service'];

/** An instant on some program's clock; runner time = ns − offsetNs (± uncertaintyNs). */
export interface ClockedInstant {
  ns: bigint;
  offsetNs: bigint;
  uncertaintyNs: bigint;
  /** connects tried until this one succeeded (1: the first try already succeeded) */
  attempts?: number;
}

export interface PodTimeline {
  pod: string;
  /** runner's clock, epoch ns: the create request was sent / its response arrived */
  createSentNs?: bigint;
  createReturnedNs?: bigint;
  /** runner's clock: the watch ADDED event for the pod arrived */
  addedSeenNs?: bigint;
  /** metadata.creationTimestamp, epoch seconds on the API server's clock (whole seconds, truncated) */
  creationTimestampS?: number;
  /** first success per source; a missing source never succeeded within the deadline */
  ready: Partial<Record<ReadySource, ClockedInstant>>;
  /** the interval between two attempts of a source (its sampling resolution), ns */
  probeIntervalNs: bigint;
}

export interface CreationWindow {
  /** earliest and latest runner instant the pod can have been created at */
  fromNs: bigint;
  toNs: bigint;
  /** what bounded the window */
  basis: string;
  notes: string[];
}

export interface PodReadySample {
  pod: string;
  /** seconds from creation (window start) to first success, per source that succeeded */
  seconds: Partial<Record<ReadySource, number>>;
  /** per source: the creation window's width + the probe interval + the clock offset uncertainty */
  resolutionSeconds: Partial<Record<ReadySource, number>>;
  /** sources that never succeeded */
  missing: ReadySource[];
  /** sources whose first attempt already succeeded: their latency is an upper bound */
  firstTry: ReadySource[];
  /** a success before the earliest creation instant: the clocks disagree, the sample is void */
  clockError?: string;
  window: CreationWindow;
}

const S = 1_000_000_000n;
const min = (xs: bigint[]): bigint => xs.reduce((a, b) => (b < a ? b : a));
const max = (xs: bigint[]): bigint => xs.reduce((a, b) => (b > a ? b : a));
const ms = (ns: bigint): string => (Number(ns) / 1e6).toFixed(1);

/**
 * When the pod was created, on the runner's clock. The runner's own instants bound it:
 * the API server stamps the pod after the create request was sent and before the
 * response (and the watch event) arrives. creationTimestamp (API server clock, truncated to
 * the second) narrows that window when it agrees with it; when it does not, the API
 * server's clock differs from the runner's and the runner's instants stand alone. Without
 * runner instants, creationTimestamp alone gives a 1 s window (its clock taken as the
 * runner's, with a note).
 */
export function creationWindow(t: PodTimeline): CreationWindow {
  const notes: string[] = [];
  const lower: bigint[] = [];
  const upper: bigint[] = [];
  const basis: string[] = [];
  if (t.createSentNs !== undefined) {
    lower.push(t.createSentNs);
    basis.push('create sent');
  }
  if (t.createReturnedNs !== undefined) {
    upper.push(t.createReturnedNs);
    basis.push('create returned');
  }
  if (t.addedSeenNs !== undefined) {
    upper.push(t.addedSeenNs);
    basis.push('watch ADDED');
  }
  const cts = t.creationTimestampS !== undefined ? { from: BigInt(t.creationTimestampS) * S, to: BigInt(t.creationTimestampS + 1) * S } : undefined;
  if (lower.length === 0 && upper.length === 0) {
    if (!cts) throw new Error(`pod ${t.pod}: no creation instant at all (no create call, no watch event, no creationTimestamp)`);
    notes.push('only creationTimestamp (1 s resolution, API server clock taken as the runner\'s)');
    return { fromNs: cts.from, toNs: cts.to, basis: 'creationTimestamp', notes };
  }
  let from = lower.length ? max(lower) : undefined;
  let to = upper.length ? min(upper) : undefined;
  if (from !== undefined && to !== undefined && to < from) {
    // the response cannot precede the request on one clock: a broken recording
    throw new Error(`pod ${t.pod}: create returned (or watch event arrived) ${ms(from - to)} ms before the create was sent`);
  }
  if (cts) {
    const f = from === undefined ? cts.from : max([from, cts.from]);
    const u = to === undefined ? cts.to : min([to, cts.to]);
    if (f <= u) {
      from = f;
      to = u;
      basis.push('creationTimestamp');
    } else {
      const gap = from !== undefined && from >= cts.to ? from - cts.to : to !== undefined ? cts.from - to : 0n;
      notes.push(`creationTimestamp lies ${ms(gap)} ms outside the runner's create window: the API server's clock differs from the runner's; the runner's instants are used`);
    }
  }
  if (from === undefined) {
    // only upper bounds: the pod existed by then; from is unknown, so the window opens 1 s
    // before (the creationTimestamp resolution) and says so
    from = to! - S;
    notes.push('no create-sent instant: the window opens 1 s before the first sign of the pod');
  }
  if (to === undefined) to = from + S;
  return { fromNs: from, toNs: to, basis: basis.join(' + '), notes };
}

/**
 * Latency per source, from the earliest instant the pod can have been created (so a
 * latency is never understated) to its first success mapped onto the runner's clock.
 */
export function podReadySample(t: PodTimeline): PodReadySample {
  const window = creationWindow(t);
  const seconds: PodReadySample['seconds'] = {};
  const resolutionSeconds: PodReadySample['resolutionSeconds'] = {};
  const missing: ReadySource[] = [];
  const firstTry: ReadySource[] = [];
  const errors: string[] = [];
  for (const source of READY_SOURCES) {
    const r = t.ready[source];
    if (!r) {
      missing.push(source);
      continue;
    }
    const atRunner = r.ns - r.offsetNs;
    const latency = atRunner - window.fromNs;
    seconds[source] = Number(latency) / 1e9;
    resolutionSeconds[source] = Number(window.toNs - window.fromNs + t.probeIntervalNs + r.uncertaintyNs) / 1e9;
    if (r.attempts === 1) firstTry.push(source);
    // before the earliest creation instant by more than the offset's uncertainty: impossible
    if (atRunner + r.uncertaintyNs < window.fromNs) errors.push(`${source} succeeded ${ms(window.fromNs - atRunner)} ms before the pod was created (clock offset uncertainty ±${ms(r.uncertaintyNs)} ms)`);
  }
  return { pod: t.pod, seconds, resolutionSeconds, missing, firstTry, window, ...(errors.length ? { clockError: `pod ${t.pod}: ${errors.join('; ')}: the clocks disagree` } : {}) };
}

/** Network-ready for every source: the latest of them; undefined when any never succeeded. */
export function networkReadySeconds(s: PodReadySample): number | undefined {
  if (s.missing.length > 0) return undefined;
  return Math.max(...READY_SOURCES.map((k) => s.seconds[k]!));
}

/**
 * Pods that became network-ready per second: (n − 1) over the span between the first and
 * the last instant a pod became ready (seconds on one clock). NaN with fewer than 2.
 */
export function readyThroughput(readyAtSeconds: readonly number[]): number {
  if (readyAtSeconds.length < 2) return NaN;
  const span = Math.max(...readyAtSeconds) - Math.min(...readyAtSeconds);
  return span > 0 ? (readyAtSeconds.length - 1) / span : NaN;
}

/** failed ÷ created; NaN when nothing was created. */
export function failureRatio(created: number, failed: number): number {
  return created > 0 ? failed / created : NaN;
}
