// SLO: network programming latency of one more Service when the largest scale point
// already exists (kube-proxy's partial sync), on the run's shared filler Services
// (fixtures/scale-set.ts). Definition and measurement: measurements/network-programming-latency.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureNewService } from '../measurements/network-programming-latency.js';

test.describe('network programming latency', () => {
  test('one more Service when the largest scale point already exists (partial sync)', async ({ run, namespace, prober, backend, services, record }) => {
    expectAllPass([await measureNewService({ run, namespace, prober, backend }, record, { services: { scaler: services, n: Math.max(...run.config.workload.services) } })]);
  });
});
