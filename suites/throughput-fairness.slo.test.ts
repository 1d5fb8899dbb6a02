// SLO: throughput and fairness (kubernetes/community sig-scalability/slos/throughput.md;
// fairness as in the KubeCon NA 2024 talk "From Observability to Performance"): CLIENTS
// concurrent long connections through one Service share the path evenly.
// Per-connection throughput from conntrack byte counters (nf_conntrack_acct) over the
// connection's lifetime; Jain's index and p10/p50 over the connections; the clients'
// bytes/time beside it.
import { warning } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureStreams, values } from '../fixtures/measure.js';

test('concurrent long connections through one Service share it fairly', async ({ run, backend, loadgens, agent, record }) => {
  const slo = run.config.slos[SLI.throughput];
  const m = await measureStreams(loadgens, agent, { targets: [backend.vip], streamsPerClient: 1, durationMs: run.config.workload.streamSeconds * 1000, intervalMs: 1000 });
  record.observe(SLI.throughput, { source: 'client', samples: values(m.streams, (s) => (s.seconds ? s.bytesReceived / s.seconds : undefined)) });
  const failures = m.streams.reduce((a, s) => a + s.failures, 0);
  const notes = [...m.notes, ...(failures ? [warning(`${failures} stream connections failed (${m.streams.find((s) => s.error)?.error})`)] : [])];
  expectPass(record.judge(slo, { source: 'conntrack', samples: values(m.conntrack, (f) => f.throughputBytesPerSecond), notes }));
});
