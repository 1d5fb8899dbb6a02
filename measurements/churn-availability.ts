// SLIs churn_failed_connections_ratio and churn_throughput_dip_ratio: while Services and
// endpoints elsewhere in the namespace are created and deleted (forcing the proxy to
// resync), clients of a stable Service see no failed connection, and established streams
// keep their throughput. Every client runs short requests and one long stream for
// 2 × STREAM_SECONDS; the churn runs in the second half, from the instant every stream
// has run STREAM_SECONDS on its own client's clock.
// - churn_failed_connections_ratio: failed / attempted connections per client, over the
//   whole window (requests and stream reconnects).
// - churn_throughput_dip_ratio: total stream throughput per interval during the churn over
//   the mean per interval before it (first interval: ramp-up; last: cut short).
import { caveat, definition, warning } from '../src/report/notes.js';
import { createServiceSet, serviceName, type ServiceSetSpec } from '../src/kube/services.js';
import { bulk } from '../src/kube/bulk.js';
import { deleteIgnoringMissing } from '../src/kube/workloads.js';
import type { StreamRecord } from '../src/workload/loadgen.js';
import { TIMEOUTS } from '../src/timeouts.js';
import { waitFor } from '../src/wait-for.js';
import { SLI, type Backend, type Run } from '../fixtures/index.js';
import type { ConnectionResult, Loadgen } from '../fixtures/loadgen.js';
import { addCounts, countConnections } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';

const INTERVAL_MS = 500;
const BATCH = 50;

/**
 * The churn: each round creates BATCH Services with EndpointSlices and deletes the
 * previous round's EndpointSlices. remove() deletes every Service and slice it made.
 */
class ServiceChurn {
  rounds = 0;
  private readonly specs: ServiceSetSpec[] = [];
  constructor(private readonly scene: { run: Run; namespace: string; backend: Backend }) {}

  async round(): Promise<void> {
    const { run, namespace, backend } = this.scene;
    const spec: ServiceSetSpec = { namespace, session: run.target.session, prefix: `sli-churn-${this.rounds}`, count: BATCH, endpointsPerService: backend.podIps.length, targetPort: backend.targetPort, endpointIps: () => backend.podIps };
    await createServiceSet(run.clients, spec);
    this.specs.push(spec);
    const prev = this.specs.at(-2);
    if (prev) await run.clients.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name in (${names(prev).join(',')})` });
    this.rounds++;
  }

  async remove(): Promise<void> {
    const { run, namespace } = this.scene;
    for (const spec of this.specs) {
      await run.clients.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name in (${names(spec).join(',')})` });
      await bulk(names(spec), (name) => deleteIgnoringMissing(() => run.clients.core.deleteNamespacedService({ namespace, name })), { concurrency: 16 });
    }
  }
}

const names = (spec: ServiceSetSpec): string[] => Array.from({ length: spec.count }, (_, i) => serviceName(spec, i));

/** Per-interval ratios of the churn half over the baseline half's mean. */
export function throughputDips(streams: readonly Pick<StreamRecord, 'intervals'>[], halfMs: number, intervalMs: number): { dips: number[]; baseMean: number; baseline: number } {
  const perInterval: number[] = [];
  for (const s of streams) s.intervals.forEach((b, i) => (perInterval[i] = (perInterval[i] ?? 0) + b));
  const baseIdx = Math.floor(halfMs / intervalMs);
  const baseline = perInterval.slice(1, baseIdx);
  const churn = perInterval.slice(baseIdx + 1, Math.floor((2 * halfMs) / intervalMs) - 1);
  const baseMean = baseline.reduce((a, b) => a + b, 0) / Math.max(1, baseline.length);
  return { dips: baseMean > 0 ? churn.map((b) => b / baseMean) : [], baseMean, baseline: baseline.length };
}

export async function measureChurn(scene: { run: Run; namespace: string; backend: Backend; loadgens: Loadgen[] }, record: Recorder): Promise<Judged[]> {
  const { run, backend, loadgens } = scene;
  const halfMs = run.config.workload.streamSeconds * 1000;
  const totalMs = 2 * halfMs;
  const reqIds = await Promise.all(loadgens.map((lg) => lg.start({ mode: 'requests', targets: [backend.vip], concurrency: 1, path: '/bytes/1000', timeoutMs: TIMEOUTS.connectionTimeoutMs, durationMs: totalMs })));
  const strIds = await Promise.all(
    loadgens.map((lg) => lg.start({ mode: 'stream', targets: [backend.vip], streams: 1, durationMs: totalMs, intervalMs: INTERVAL_MS, connectTimeoutMs: TIMEOUTS.streamConnectTimeoutMs, path: `/bytes/${16 * 1024 ** 3}` })),
  );
  // the slowest stream's own elapsed time, so the churn starts after every baseline
  const elapsedMs = async (): Promise<number> => 1000 * Math.min(...(await Promise.all(loadgens.map((lg, i) => lg.elapsedSeconds(strIds[i]!)))));
  await waitFor(async () => (await elapsedMs()) >= halfMs, { timeout: halfMs + TIMEOUTS.loadgenRunMs, interval: TIMEOUTS.pollMs, what: `every stream past its ${halfMs / 1000} s baseline` });
  const churn = new ServiceChurn(scene);
  try {
    // rounds until one second before the runs end (the last interval is not judged)
    while ((await elapsedMs()) < totalMs - 1000) await churn.round();
    run.log(`churn: ${churn.rounds} rounds of ${BATCH} Services created and endpoints removed`);
    const req = await Promise.all(loadgens.map((lg, i) => lg.finish<ConnectionResult>(reqIds[i]!)));
    const str = await Promise.all(loadgens.map((lg, i) => lg.finish<StreamRecord>(strIds[i]!)));
    const perClient = loadgens.map((_, i) => addCounts(countConnections({ client: req[i]!.results }), countConnections({ streams: str[i]!.results })));
    const all = addCounts(...perClient);
    const { dips, baseMean, baseline } = throughputDips(str.flatMap((r) => r.results), halfMs, INTERVAL_MS);
    return [
      record.judge(run.config.slos[SLI.churnFailures], {
        source: 'client',
        samples: perClient.map((c) => c.failed / Math.max(1, c.attempted)),
        notes: [definition(`${churn.rounds} churn rounds of ${BATCH} Services`), all.failed > 0 ? warning(`${all.failed} of ${all.attempted} connections failed${all.firstError ? ` (first: ${all.firstError})` : ''}`) : caveat(`${all.failed} of ${all.attempted} connections failed`)],
      }),
      record.judge(run.config.slos[SLI.churnThroughputDip], { source: 'client', samples: dips, notes: [definition(`baseline ${(baseMean / (INTERVAL_MS / 1000) / 1e6).toFixed(1)} MB/s over ${baseline} intervals of ${INTERVAL_MS} ms`)] }),
    ];
  } finally {
    await churn.remove();
  }
}
