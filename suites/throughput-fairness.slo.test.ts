// SLO: concurrent long connections through one Service share it fairly, and none fails.
// Definition and measurement: measurements/throughput-fairness.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureThroughputFairness } from '../measurements/throughput-fairness.js';

test('concurrent long connections through one Service share it fairly', async ({ run, backend, loadgens, agent, record }) => {
  expectAllPass(await measureThroughputFairness({ run, backend, loadgens, agent }, record));
});
