// SLO: what a ClusterIP costs over talking to the pod directly: connect latency and
// throughput through the Service VIP vs to the backend pod IPs, and no failed connection.
// Definitions and measurements: measurements/clusterip-connect-overhead.ts and
// measurements/clusterip-throughput-overhead.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureConnectOverhead } from '../measurements/clusterip-connect-overhead.js';
import { measureThroughputOverhead } from '../measurements/clusterip-throughput-overhead.js';

test.describe('ClusterIP overhead', () => {
  test('connect latency through the ClusterIP vs the pod IP', async ({ run, backend, loadgens, agent, record }) => {
    expectAllPass(await measureConnectOverhead({ run, backend, loadgens, agent }, record));
  });

  test('throughput through the ClusterIP vs the pod IP', async ({ run, backend, loadgens, agent, record }) => {
    expectAllPass(await measureThroughputOverhead({ run, backend, loadgens, agent }, record));
  });
});
