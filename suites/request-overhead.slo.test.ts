// SLO: what the pod network and the ClusterIP cost an HTTP request, against the same server
// on the host network: requests/s (closed loop) and p99 latency (open loop, from each
// request's due time). Definitions and measurement: measurements/request-overhead.ts; the
// scene (host network, pod IP, ClusterIP, NodePort from another node): fixtures/overhead.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureRequestOverhead } from '../measurements/request-overhead.js';

test.describe('request overhead', () => {
  test('host network vs pod IP vs ClusterIP vs NodePort', async ({ run, overhead, agent, record }) => {
    expectAllPass((await measureRequestOverhead({ run, overhead, agent }, record)).judged);
  });
});
