// SLO: first-packet latency (kubernetes/community first_packet_latency.md): the client's
// SYN toward the Service VIP entering the node → the SYN-ACK from the VIP leaving toward
// the client, from packet capture at the node boundary; client connect() and conntrack
// NEW→SEEN_REPLY beside it. Swept over the number of Services: the p99 bound holds at
// every point, and latency does not grow with the number of Services (the property that
// separates nftables from iptables: the talk, DESIGN §1).
import { loadRunConfig } from '../src/config/knobs.js';
import { caveat, definition, warning } from '../src/report/notes.js';
import { expectPass, SLI, test } from '../fixtures/index.js';
import { measureConnections, values } from '../fixtures/measure.js';

const workload = loadRunConfig(process.env).workload;
const points = [...new Set(workload.services)].sort((a, b) => a - b);
/** boundary (or client, when the VIP is not on the wire) samples per scale point */
const measured = new Map<number, number[]>();

test.describe('first-packet latency', () => {
  for (const n of points) {
    test(`p99 bound with ${n} Services`, async ({ run, backend, services, loadgens, agent, record }) => {
      const slo = run.config.slos[SLI.firstPacket];
      await services.scaleTo(Math.max(0, n - 1)); // + the backend's own Service = n
      // the talk's workload: with more Services than clients, each client takes its own
      // evenly spread Services, so no single rule position decides the result
      const targets = [backend.vip, ...(await services.clusterIps()).map((host) => ({ host, port: backend.port }))];
      const m = await measureConnections(loadgens, agent, {
        targets,
        connections: run.config.workload.connPerClient,
        concurrency: run.config.workload.clientConcurrency,
      });
      const labels = { services: String(n) };
      const client = values(m.client, (c) => c.connectSeconds);
      record.observe(SLI.firstPacket, { source: 'client', labels, samples: client });
      record.observe(SLI.firstPacket, { source: 'conntrack', labels, samples: values(m.conntrack, (f) => f.firstPacketSeconds), notes: [caveat('conntrack stamps NEW at confirmation, after the DNAT rule search: it hides the search cost (DESIGN §1)')] });
      const capture = values(m.capture, (f) => f.firstPacketSeconds);
      const primary = m.collected.vipSeenOnWire ? capture : client;
      measured.set(n, primary);
      const failed = m.client.filter((c) => c.error).length;
      const notes = [...m.notes, ...(failed ? [warning(`${failed} client connections failed (first: ${m.client.find((c) => c.error)?.error})`)] : [])];
      expectPass(record.judge(slo, { source: m.collected.vipSeenOnWire ? 'capture' : 'client', labels, samples: primary, notes }));
    });
  }

  test.runIf(points.length >= 2)(`does not grow from ${points[0]} to ${points.at(-1)} Services`, ({ run, record }) => {
    const slo = run.config.slos[SLI.firstPacketScaling];
    const lo = measured.get(points[0]!) ?? [];
    const hi = measured.get(points.at(-1)!) ?? [];
    const judged = record.judgeRatio(slo, {
      source: 'derived',
      labels: { from: String(points[0]), to: String(points.at(-1)) },
      numerator: hi,
      denominator: lo,
      statistic: { kind: 'quantile', q: 0.5 },
      notes: [definition(`p50 first-packet latency at ${points.at(-1)} Services over p50 at ${points[0]}; a dataplane whose rule search is linear in the number of Services (iptables) grows here`)],
    });
    expectPass(judged);
  });
});
