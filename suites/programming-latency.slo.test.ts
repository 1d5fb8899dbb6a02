// SLO: network programming latency, judged as the profile writes it in three cases.
// Definition and measurement: measurements/network-programming-latency.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureManyEndpoints, measureNewService } from '../measurements/network-programming-latency.js';

test.describe('network programming latency', () => {
  test('a new Service with endpoints becomes reachable through its ClusterIP', async ({ run, namespace, prober, backend, record }) => {
    expectAllPass([await measureNewService({ run, namespace, prober, backend }, record)]);
  });

  test('one more Service when the largest scale point already exists (partial sync)', async ({ run, namespace, prober, backend, services, record }) => {
    expectAllPass([await measureNewService({ run, namespace, prober, backend }, record, { services: { scaler: services, n: Math.max(...run.config.workload.services) } })]);
  });

  test('a Service with many endpoints is programmed', async ({ run, namespace, prober, backend, record }) => {
    expectAllPass([await measureManyEndpoints({ run, namespace, prober, backend }, record)]);
  });
});
