// SLO: first-packet latency, swept over the number of Services: the profile's bound holds
// at every scale point, no connection fails, and latency does not grow from the smallest
// to the largest point. Definition and measurement: measurements/first-packet-latency.ts.
import { loadRunConfig } from '../src/config/knobs.js';
import { expectAllPass, SLI, test as base } from '../fixtures/index.js';
import { FirstPacketSweep, judgeFirstPacket, judgeScaling } from '../measurements/first-packet-latency.js';

const points = [...new Set(loadRunConfig(process.env).workload.services)].sort((a, b) => a - b);

const test = base.extend<{ $file: { sweep: FirstPacketSweep } }>({
  sweep: [async ({ run, backend, services, loadgens, agent }, use) => use(new FirstPacketSweep({ run, backend, services, loadgens, agent })), { scope: 'file' }],
});

test.describe('first-packet latency', () => {
  for (const n of points) {
    test(`p99 bound with ${n} Services`, async ({ run, sweep, record }) => {
      const ps = await sweep.at(n, record);
      if (!ps) throw new Error(`the ${n}-Service point comes after a larger one in this file; run the points in ascending order`);
      expectAllPass(ps.flatMap((p) => judgeFirstPacket(record, run.config.slos, p, sweep.labels(p.family!))));
    });
  }

  test.runIf(points.length >= 2)(`does not grow from ${points[0]} to ${points.at(-1)} Services`, async ({ run, sweep, record }) => {
    const lo = await sweep.at(points[0]!, record);
    const hi = await sweep.at(points.at(-1)!, record);
    // each family its own ratio
    expectAllPass(
      sweep.families.map((f) =>
        judgeScaling(record, run.config.slos[SLI.firstPacketScaling], lo?.find((p) => p.family === f), hi?.find((p) => p.family === f), { lo: points[0]!, hi: points.at(-1)! }, sweep.labels(f)),
      ),
    );
  });
});
