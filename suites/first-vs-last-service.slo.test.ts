// SLO: the Service the dataplane reaches last is no slower than the one it reaches
// first, with N Services present, and no connection fails. Definition and measurement:
// measurements/last-service-latency.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureLastService } from '../measurements/last-service-latency.js';

test('first vs last of N Services in the dataplane', async ({ run, services, loadgens, agent, backend, record }) => {
  expectAllPass(await measureLastService({ run, backend, services, loadgens, agent }, record));
});
