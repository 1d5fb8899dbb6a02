// SLO: network programming latency, judged as the profile writes it, in a cluster without
// the run's filler Services: a new Service, and a Service with many endpoints. The case
// next to the largest scale point is programming-at-scale.slo.test.ts.
// Definition and measurement: measurements/network-programming-latency.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureManyEndpoints, measureNewService } from '../measurements/network-programming-latency.js';

test.describe('network programming latency', () => {
  test('a new Service with endpoints becomes reachable through its ClusterIP', async ({ run, namespace, prober, backend, record }) => {
    expectAllPass([await measureNewService({ run, namespace, prober, backend }, record)]);
  });

  test('a Service with many endpoints is programmed', async ({ run, namespace, prober, backend, record }) => {
    expectAllPass([await measureManyEndpoints({ run, namespace, prober, backend }, record)]);
  });
});
