// The "requests" run engine: `concurrency` workers, each making one short connection after
// another (connect, GET path, read to the end), round-robin over the targets, until the
// connection count, the duration or a DELETE stops them.
import { oneConnection } from '../client.js';
import { LOADGEN_LIMITS } from './limits.js';
import type { LoadgenConnectionResult, RequestsRunSpec, RequestsSummary, Run, StoppedBy } from './types.js';
import { newRun } from './run-registry.js';

export function startRequestsRun(id: string, spec: RequestsRunSpec): Run {
  const results: LoadgenConnectionResult[] = [];
  const counts: RequestsSummary = { ok: 0, failed: 0, cancelled: 0 };
  const limit = spec.connections ?? LOADGEN_LIMITS.connections;
  const deadline = spec.durationMs === undefined ? undefined : process.hrtime.bigint() + BigInt(spec.durationMs) * 1_000_000n;
  const run = newRun(id, spec, results, () => ({ ...counts }));
  const { controller } = run;
  let next = 0;
  const stop = (why: StoppedBy): void => void (run.stoppedBy ??= why);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (controller.signal.aborted) return stop('cancelled');
      if (next >= limit) return stop(spec.connections === undefined ? 'limit' : 'connections');
      if (deadline !== undefined && process.hrtime.bigint() >= deadline) return stop('duration');
      const seq = next++;
      const target = seq % spec.targets.length;
      const t = spec.targets[target]!;
      const r = await oneConnection({ host: t.host, port: t.port, path: spec.path, timeoutMs: spec.timeoutMs }, seq, controller.signal);
      if (r.error === undefined) counts.ok++;
      else if (controller.signal.aborted && r.error === 'cancelled') counts.cancelled++;
      else counts.failed++;
      results.push({ ...r, target });
    }
  };
  run.settled = Promise.all(Array.from({ length: Math.min(spec.concurrency, limit) }, worker)).then(() => undefined);
  return run;
}
