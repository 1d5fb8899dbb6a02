// SLO: connection total latency through a ClusterIP, and no failed connection.
// Definition and measurement: measurements/connection-total-latency.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureTotalLatency } from '../measurements/connection-total-latency.js';

test('connection total latency through a ClusterIP', async ({ run, backend, loadgens, agent, record }) => {
  expectAllPass(await measureTotalLatency({ run, backend, loadgens, agent }, record));
});
