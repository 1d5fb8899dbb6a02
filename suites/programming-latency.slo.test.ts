// SLO: network programming latency (kubernetes/community sig-scalability/slos/
// network_programming_latency.md). A change written to the API — a new Service's
// EndpointSlice — is forwarded by the dataplane within the profile's bound, as seen by an
// in-cluster prober connecting to the ClusterIP. kube-proxy's own histogram is recorded
// beside it as a cross-check.
import { caveat, definition } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureProgramming } from '../fixtures/programming.js';
import { bigServiceSlices } from '../fixtures/big-service.js';
import { openKubeProxyWindow, recordKubeProxy } from '../fixtures/kube-proxy-window.js';

test.describe('network programming latency', () => {
  test('a new Service with endpoints becomes reachable through its ClusterIP', async ({ run, namespace, prober, backend, record }) => {
    const slo = run.config.slos[SLI.programming];
    const window = await openKubeProxyWindow(run);
    const samples: number[] = [];
    let uncertainty = 0;
    for (let i = 0; i < slo.minSamples; i++) {
      const s = await measureProgramming(run.clients, { namespace, session: run.target.session, prober: prober.loadgen, offset: prober.offset, endpointIps: backend.podIps, targetPort: backend.targetPort });
      samples.push(s.seconds);
      uncertainty = Math.max(uncertainty, s.clockUncertaintySeconds);
    }
    recordKubeProxy(record, SLI.programming, await window.close(), { case: 'new-service' });
    expectPass(record.judge(slo, { source: 'prober', labels: { case: 'new-service' }, samples, notes: [caveat(`runner/prober clock offset uncertainty ±${(uncertainty * 1000).toFixed(1)} ms`)] }));
  });

  test('one more Service when the largest scale point already exists (partial sync)', async ({ run, namespace, prober, backend, services, record }) => {
    const slo = run.config.slos[SLI.programming];
    const n = Math.max(...run.config.workload.services);
    await services.scaleTo(n);
    const window = await openKubeProxyWindow(run);
    const samples: number[] = [];
    for (let i = 0; i < slo.minSamples; i++) {
      samples.push((await measureProgramming(run.clients, { namespace, session: run.target.session, prober: prober.loadgen, offset: prober.offset, endpointIps: backend.podIps, targetPort: backend.targetPort })).seconds);
    }
    recordKubeProxy(record, SLI.programming, await window.close(), { case: 'one-more-service', services: String(n) });
    expectPass(record.judge(slo, { source: 'prober', labels: { case: 'one-more-service', services: String(n) }, samples }));
  });

  test('a Service with many endpoints is programmed', async ({ run, namespace, prober, backend, record }) => {
    const slo = run.config.slos[SLI.programming];
    const endpoints = run.config.workload.bigServiceEndpoints;
    const big = await bigServiceSlices(run.clients, { namespace, session: run.target.session, endpoints, onProgress: run.log });
    try {
      // the canary written after the big Service's slices is reachable only once the
      // dataplane has absorbed them (informers deliver in order)
      const canary = await measureProgramming(run.clients, { namespace, session: run.target.session, prober: prober.loadgen, offset: prober.offset, endpointIps: backend.podIps, targetPort: backend.targetPort });
      const seconds = big.writtenSeconds + canary.seconds;
      record.observe(SLI.programming, { source: 'prober', labels: { case: 'many-endpoints', endpoints: String(endpoints) }, samples: [seconds], notes: [definition(`${endpoints} endpoints in ${big.slices} EndpointSlices written in ${big.writtenSeconds.toFixed(2)} s; a Service written after them was reachable ${canary.seconds.toFixed(3)} s later`)] });
      const max = slo.thresholds.find((t) => /^(p\(\d+(\.\d+)?\)|max)<=?/.test(t));
      expectPass(record.judge({ ...slo, thresholds: max ? [max.replace(/^p\([\d.]+\)/, 'max')] : ['max<=30s'], minSamples: 1 }, { source: 'prober', labels: { case: 'many-endpoints-bound', endpoints: String(endpoints) }, samples: [seconds] }));
    } finally {
      await big.remove();
    }
  });
});
