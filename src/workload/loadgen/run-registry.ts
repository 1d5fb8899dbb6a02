// The loadgen's runs and probes in memory: creation order, the views GET answers with, and
// eviction of the oldest completed entries beyond LOADGEN_LIMITS (the newest completed run
// is always kept, however many results it holds).
import { nowEpochNs } from '../clock.js';
import { LOADGEN_LIMITS } from './limits.js';
import { runController } from './timing.js';
import type { Probe, Run, RunView } from './types.js';

/** A run as every engine starts it: running now, its results filled in place, its summary read on demand; the engine sets `settled`. */
export function newRun(id: string, spec: Run['spec'], results: Run['results'], summary: Run['summary']): Run {
  return { id, spec, state: 'running', startedNs: String(nowEpochNs()), results, summary, controller: runController(), settled: Promise.resolve() };
}

export class RunRegistry {
  // Map order is creation order: the oldest completed entries go first.
  readonly runs = new Map<string, Run>();
  readonly probes = new Map<string, Probe>();
  private runSeq = 0;
  private probeSeq = 0;

  nextRunId(): string {
    return `r${++this.runSeq}`;
  }

  nextProbeId(): string {
    return `p${++this.probeSeq}`;
  }

  runningRuns(): number {
    return [...this.runs.values()].filter((r) => r.state === 'running').length;
  }

  runningProbes(): number {
    return [...this.probes.values()].filter((p) => p.view.state === 'running').length;
  }

  evict(): void {
    let completedRuns = 0;
    let results = 0;
    for (const r of this.runs.values()) {
      if (r.state === 'done') {
        completedRuns++;
        results += r.results.length;
      }
    }
    for (const [id, r] of this.runs) {
      if (completedRuns <= 1) break;
      if (r.state !== 'done') continue;
      if (completedRuns <= LOADGEN_LIMITS.retained && results <= LOADGEN_LIMITS.retainedResults) break;
      this.runs.delete(id);
      completedRuns--;
      results -= r.results.length;
    }
    let completedProbes = [...this.probes.values()].filter((p) => p.view.state !== 'running').length;
    for (const [id, p] of this.probes) {
      if (completedProbes <= LOADGEN_LIMITS.retained) break;
      if (p.view.state === 'running') continue;
      this.probes.delete(id);
      completedProbes--;
    }
  }
}

/** A page of a run's results, from `since`, at most `limit`. */
export function runView(r: Run, since: number, limit: number): RunView {
  const results = r.results.slice(since, since + limit);
  const v: RunView = {
    id: r.id,
    mode: r.spec.mode,
    state: r.state,
    spec: r.spec,
    startedNs: r.startedNs,
    summary: r.summary(),
    total: r.results.length,
    next: Math.min(since, r.results.length) + results.length,
    results,
  };
  if (r.endedNs !== undefined) v.endedNs = r.endedNs;
  if (r.stoppedBy !== undefined) v.stoppedBy = r.stoppedBy;
  return v;
}
