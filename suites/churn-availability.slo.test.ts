// SLO: availability under churn (docs/measured-facts.md, "Churn"): while Services and
// endpoints elsewhere in the cluster are created and deleted — forcing the proxy to
// resync — clients of a stable Service see no failed connection, and established streams
// keep their throughput within the profile's bound of what they had before the churn began.
import { createServiceSet, deleteSessionServices } from '../src/kube/services.js';
import { definition, warning } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import type { ConnectionResult } from '../fixtures/loadgen.js';
import type { StreamRecord } from '../src/workload/loadgen.js';

const INTERVAL_MS = 500;

test('no failed connection and no throughput dip while Services churn', async ({ run, namespace, backend, loadgens, record }) => {
  const half = run.config.workload.streamSeconds * 1000;
  const total = 2 * half;
  // requests and streams from every client for the whole window; churn in the second half
  const requests = Promise.all(loadgens.map((lg) => lg.run<ConnectionResult>({ mode: 'requests', targets: [backend.vip], concurrency: 1, path: '/bytes/1000', timeoutMs: 10_000, durationMs: total })));
  const streams = Promise.all(loadgens.map((lg) => lg.run<StreamRecord>({ mode: 'stream', targets: [backend.vip], streams: 1, durationMs: total, intervalMs: INTERVAL_MS, connectTimeoutMs: 5000, path: `/bytes/${16 * 1024 ** 3}` })));
  await new Promise((r) => setTimeout(r, half)); // the baseline half: nothing to wait for but time itself
  const churnStart = Date.now();
  let rounds = 0;
  const batch = 50;
  while (Date.now() - churnStart < half - 1000) {
    await createServiceSet(run.clients, {
      namespace,
      session: run.target.session,
      prefix: `sli-churn-${rounds}`,
      count: batch,
      endpointsPerService: backend.podIps.length,
      targetPort: backend.targetPort,
      endpointIps: () => backend.podIps,
    });
    if (rounds > 0) {
      await run.clients.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name in (${Array.from({ length: batch }, (_, i) => `sli-churn-${rounds - 1}-${i}`).join(',')})` });
    }
    rounds++;
  }
  run.log(`churn: ${rounds} rounds of ${batch} Services created and endpoints removed`);
  const [req, str] = await Promise.all([requests, streams]);
  await deleteSessionServices(run.clients, namespace, run.target.session).catch((e: unknown) => run.log(`churn: deleting the churned Services failed, they stay until the namespace goes: ${(e as Error).message}`));

  // failed / attempted, per client
  const ratios = loadgens.map((_, i) => {
    const r = req[i]!.results;
    const s = str[i]!.results;
    const failed = r.filter((c) => c.error).length + s.reduce((a, x) => a + x.failures, 0);
    const attempted = r.length + s.reduce((a, x) => a + 1 + x.reconnects, 0);
    return failed / Math.max(1, attempted);
  });
  const firstError = req.flatMap((x) => x.results).find((c) => c.error)?.error ?? str.flatMap((x) => x.results).find((s) => s.error)?.error;
  const failedJudged = record.judge(run.config.slos[SLI.churnFailures], { source: 'client', samples: ratios, notes: [definition(`${rounds} churn rounds of ${batch} Services`), ...(firstError ? [warning(`first error: ${firstError}`)] : [])] });

  // total throughput per interval (all streams), churn half over the baseline half
  const perInterval: number[] = [];
  for (const run_ of str) for (const s of run_.results) s.intervals.forEach((b, i) => (perInterval[i] = (perInterval[i] ?? 0) + b));
  const baseIdx = Math.floor(half / INTERVAL_MS);
  const baseline = perInterval.slice(1, baseIdx); // the first interval ramps up
  const churn = perInterval.slice(baseIdx + 1, Math.floor(total / INTERVAL_MS) - 1); // the last is cut short
  const baseMean = baseline.reduce((a, b) => a + b, 0) / Math.max(1, baseline.length);
  const dips = baseMean > 0 ? churn.map((b) => b / baseMean) : [];
  const dipJudged = record.judge(run.config.slos[SLI.churnThroughputDip], { source: 'client', samples: dips, notes: [definition(`baseline ${(baseMean / (INTERVAL_MS / 1000) / 1e6).toFixed(1)} MB/s over ${baseline.length} intervals of ${INTERVAL_MS} ms`)] });
  expectPass(failedJudged);
  expectPass(dipJudged);
});
