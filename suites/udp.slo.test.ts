// SLO: UDP request/response exchanges (the shape of DNS) through a ClusterIP: the
// first-packet latency bound holds, and no more exchanges go unanswered under load than the
// profile allows. Definitions and measurement: measurements/udp-first-packet-latency.ts,
// measurements/udp-loss.ts.
import { expectAllPass, SLI, test } from '../fixtures/index.js';
import { judgeUdpFirstPacket, measureUdp } from '../measurements/udp-first-packet-latency.js';
import { judgeUdpLoss } from '../measurements/udp-loss.js';

test('UDP first-packet latency and loss through a ClusterIP', async ({ run, udpBackend, loadgens, agent, record }) => {
  const m = await measureUdp({ run, udpBackend, loadgens, agent });
  const w = run.config.workload;
  expectAllPass([judgeUdpFirstPacket(record, run.config.slos[SLI.udpFirstPacket], m), judgeUdpLoss(record, run.config.slos[SLI.udpLoss], m, { rate: w.udpRate, timeoutMs: w.udpTimeoutMs, exchanges: w.udpExchanges })]);
});
