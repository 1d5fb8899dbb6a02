// SLO: connection total latency (kubernetes/community connection_total_latency.md): SYN
// → the first FIN or RST of a short request/response connection through a ClusterIP,
// from boundary capture; the clients' own total time and conntrack beside it.
import { warning } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureConnections, values } from '../fixtures/measure.js';

test('connection total latency through a ClusterIP', async ({ run, backend, loadgens, agent, record }) => {
  const slo = run.config.slos[SLI.totalLatency];
  const m = await measureConnections(loadgens, agent, {
    targets: [backend.vip],
    connections: run.config.workload.connPerClient,
    concurrency: run.config.workload.clientConcurrency,
  });
  const client = values(m.client, (c) => c.totalSeconds);
  record.observe(SLI.totalLatency, { source: 'client', samples: client });
  record.observe(SLI.totalLatency, { source: 'conntrack', samples: values(m.conntrack, (f) => f.totalSeconds) });
  const failed = m.client.filter((c) => c.error).length;
  const primary = m.collected.vipSeenOnWire ? values(m.capture, (f) => f.totalSeconds) : client;
  expectPass(record.judge(slo, { source: m.collected.vipSeenOnWire ? 'capture' : 'client', samples: primary, notes: [...m.notes, ...(failed ? [warning(`${failed} connections failed`)] : [])] }));
});
