// Open-loop request arithmetic, after wrk2 ("wrk2: a constant throughput, correct latency
// recording variant of wrk", https://github.com/giltene/wrk2, its README's section on
// coordinated omission): requests are due on a fixed schedule, and a request's latency is
// counted from when it was due, not from when it was sent. A client that waits for each
// response before sending the next (closed loop) sends late whenever the server stalls and
// then reports only the one slow response; counted from the schedule, every request that
// queued behind the stall shows its wait.
//
// The generator's own lateness is kept apart from the system's: a request sent after its
// due time while its connection was still busy waited for the system (that wait is latency);
// one sent late while its connection was free waited for the generator itself (lag), and
// too much lag means the generator could not keep the schedule, so the run cannot judge.
// Pure: times in µs since the run's start, no clocks read here.

/** One request as the generator recorded it; times in µs since the run started. */
export interface RequestRecord {
  /** when the schedule wanted it sent (closed loop: equal to sentUs) */
  dueUs: number;
  /** when it was written (closed loop without keep-alive: when connect() was called) */
  sentUs: number;
  /** when its connection became free for it: the previous response ended, or the connection opened */
  freeUs: number;
  /** when the response was complete; undefined when the request failed */
  doneUs?: number;
}

/**
 * Due times of a constant arrival rate spread over `connections` connections, as wrk2
 * does: request j is due at j / rate and goes to connection j mod connections.
 */
export function schedule(ratePerSecond: number, connections: number, durationUs: number): number[][] {
  if (!(ratePerSecond > 0) || !Number.isInteger(connections) || connections < 1 || !(durationUs > 0)) {
    throw new RangeError(`schedule: rate ${ratePerSecond}/s, ${connections} connections and ${durationUs} µs must all be positive`);
  }
  const perConn: number[][] = Array.from({ length: connections }, () => []);
  const step = 1e6 / ratePerSecond;
  for (let j = 0; j * step < durationUs; j++) perConn[j % connections]!.push(j * step);
  return perConn;
}

export interface OpenLoopStats {
  requested: number;
  completed: number;
  failed: number;
  /** due within the run but never sent (the run's deadline came first) */
  unsent: number;
  /** response end − due time, completed requests, µs (what the SLO judges) */
  latencyUs: number[];
  /** response end − send time, completed requests, µs (what a closed-loop client reports) */
  serviceUs: number[];
  /**
   * latencyUs with each request's own generator lag taken out, completed requests, µs: the
   * latency had the generator sent on time (to first order). Only to check whether the lag
   * could have decided a verdict; never judged in place of latencyUs.
   */
  latencyLessLagUs: number[];
  /** send − max(due, connection free), every sent request, µs: the generator's own delay */
  lagUs: number[];
  /** share of sent requests whose lag exceeded lateUs */
  lateShare: number;
  /** completed per second of the schedule's span */
  achievedPerSecond: number;
  requestedPerSecond: number;
}

export function openLoopStats(records: readonly RequestRecord[], o: { ratePerSecond: number; durationUs: number; lateUs: number; unsent?: number }): OpenLoopStats {
  const latencyUs: number[] = [];
  const serviceUs: number[] = [];
  const latencyLessLagUs: number[] = [];
  const lagUs: number[] = [];
  let late = 0;
  let failed = 0;
  for (const r of records) {
    const lag = r.sentUs - Math.max(r.dueUs, r.freeUs);
    lagUs.push(lag);
    if (lag > o.lateUs) late++;
    if (r.doneUs === undefined) {
      failed++;
      continue;
    }
    latencyUs.push(r.doneUs - r.dueUs);
    serviceUs.push(r.doneUs - r.sentUs);
    latencyLessLagUs.push(r.doneUs - r.dueUs - Math.max(0, lag));
  }
  const unsent = o.unsent ?? 0;
  return {
    requested: records.length + unsent,
    completed: latencyUs.length,
    failed,
    unsent,
    latencyUs,
    serviceUs,
    latencyLessLagUs,
    lagUs,
    lateShare: records.length === 0 ? 0 : late / records.length,
    achievedPerSecond: latencyUs.length / (o.durationUs / 1e6),
    requestedPerSecond: o.ratePerSecond,
  };
}

/**
 * Why the run cannot judge latency at all, or undefined: requests due in the run were never
 * sent before its deadline (the generator could not sustain the rate).
 */
export function unsustained(s: OpenLoopStats): string | undefined {
  return s.unsent > 0
    ? `the generator did not sustain the rate: ${s.unsent} of ${s.requested} requests due in the run were never sent before its deadline (achieved ${s.achievedPerSecond.toFixed(0)}/s of ${s.requestedPerSecond.toFixed(0)}/s requested); lower the arrival rate`
    : undefined;
}

/**
 * The generator's lateness, or undefined when within bounds: more than maxLateShare of
 * requests sent over lateUs after they were due while their connection was free. Its lag
 * is in the latency of those requests, so a verdict it could have decided is inconclusive
 * (the caller judges again with latencyLessLagUs and compares).
 */
export function lateSends(s: OpenLoopStats, o: { lateUs: number; maxLateShare: number }): string | undefined {
  return s.lateShare > o.maxLateShare
    ? `the generator fell behind its schedule: ${(s.lateShare * 100).toFixed(2)} % of requests were sent more than ${o.lateUs} µs after they were due while their connection was free (at most ${(o.maxLateShare * 100).toFixed(2)} % allowed)`
    : undefined;
}

/** Both reasons together (unsustained rate, late sends), or undefined. */
export function behindSchedule(s: OpenLoopStats, o: { lateUs: number; maxLateShare: number }): string | undefined {
  const reasons = [lateSends(s, o), unsustained(s)].filter((x): x is string => !!x);
  return reasons.length ? reasons.join('; ') : undefined;
}

/**
 * Completions per second in consecutive intervals of `intervalUs` over [0, durationUs),
 * without the first interval (ramp-up) and the last (cut short by the stop).
 */
export function intervalRates(doneUs: readonly number[], intervalUs: number, durationUs: number): number[] {
  const bins = Math.ceil(durationUs / intervalUs);
  const counts = new Array<number>(bins).fill(0);
  for (const t of doneUs) if (t >= 0 && t < durationUs) counts[Math.floor(t / intervalUs)]!++;
  return counts.slice(1, -1).map((c) => c / (intervalUs / 1e6));
}
