// SLO: availability under churn: while Services and endpoints elsewhere in the cluster
// churn, clients of a stable Service see no failed connection and established streams
// keep their throughput. Definition and measurement: measurements/churn-availability.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { measureChurn } from '../measurements/churn-availability.js';

test('no failed connection and no throughput dip while Services churn', async ({ run, namespace, backend, loadgens, record }) => {
  expectAllPass(await measureChurn({ run, namespace, backend, loadgens }, record));
});
