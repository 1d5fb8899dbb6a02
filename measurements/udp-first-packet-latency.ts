// SLI udp_first_packet_latency_seconds (the first-packet latency of kubernetes/community
// sig-scalability/slos first_packet_latency.md, for UDP): UDP has no handshake, so it is
// the client's first request datagram toward a Service VIP entering the node → the first
// reply datagram from the VIP leaving toward the client, from packet capture at the node
// boundary. The dataplane picks the backend (DNAT) on that first datagram; the reply is
// reverse-NATed by the same conntrack entry. The shape is DNS's: one request, one reply,
// each exchange from its own source port (one conntrack entry each). Beside it: the
// clients' round trips and conntrack NEW → the UPDATE that first shows the reply (the
// kernel emits NEW at confirmation, after the DNAT rule search, so conntrack hides that
// search, as for TCP). When no request toward the VIP crosses the wire (the dataplane
// translates at the socket), the client's round trip is judged and the source says so.
import { caveat, definition } from '../src/report/notes.js';
import type { NoteInput } from '../src/report/types.js';
import type { SloSpec } from '../src/sli/index.js';
import { SLI, type Run, type UdpBackend } from '../fixtures/index.js';
import type { AgentFleet } from '../fixtures/agent.js';
import type { Loadgen } from '../fixtures/loadgen.js';
import { values, waitTargetsProgrammed, type LatencySource } from '../fixtures/measure.js';
import { measureUdpExchanges, type UdpMeasurement } from '../fixtures/measure-udp.js';
import type { Judged, Recorder } from '../fixtures/results.js';

export interface UdpScene {
  run: Run;
  udpBackend: UdpBackend;
  loadgens: Loadgen[];
  agent: AgentFleet;
}

export interface UdpResult extends UdpMeasurement {
  /** readiness notes (the Service in every node's rules) */
  programmed: string[];
}

/** Waits until every node forwards the UDP Service, then runs the workload's exchanges through it. */
export async function measureUdp(scene: UdpScene): Promise<UdpResult> {
  const { run, udpBackend, loadgens, agent } = scene;
  const targets = [udpBackend.vip];
  const programmed = await waitTargetsProgrammed(run.target.facts.proxyMode, agent, targets, loadgens.length);
  const m = await measureUdpExchanges(loadgens, agent, run.config.workload, targets);
  return { ...m, programmed };
}

/** The judged source and samples: boundary capture when requests toward the VIP crossed the wire. */
export function udpFirstPacketSamples(m: UdpMeasurement): { source: LatencySource; samples: number[] } {
  return m.capture.length > 0
    ? { source: 'capture', samples: values(m.capture, (f) => f.firstPacketSeconds) }
    : { source: 'client', samples: values(m.client, (c) => c.rttSeconds) };
}

/** What was measured, from when to when: every series of this SLI carries it. */
export function udpWindowNote(m: UdpMeasurement): NoteInput {
  const { firstSentNs, lastSentNs } = m.window;
  const at = (ns: string | undefined): string => (ns === undefined ? 'none' : new Date(Number(BigInt(ns) / 1_000_000n)).toISOString());
  return definition(`${m.client.length} exchanges by the clients, first request sent ${at(firstSentNs)}, last ${at(lastSentNs)}`);
}

export function judgeUdpFirstPacket(record: Recorder, slo: SloSpec, m: UdpResult): Judged {
  const window = udpWindowNote(m);
  record.observe(SLI.udpFirstPacket, { source: 'client', samples: values(m.client, (c) => c.rttSeconds), notes: [definition('send() → the reply datagram read, the client\'s own clock'), window] });
  record.observe(SLI.udpFirstPacket, {
    source: 'conntrack',
    samples: values(m.conntrack, (f) => f.firstPacketSeconds),
    notes: [caveat('conntrack emits NEW at confirmation, after the DNAT rule search, and UPDATE when the first reply is seen: it hides the search cost'), window],
  });
  const { source, samples } = udpFirstPacketSamples(m);
  const retried = m.capture.filter((f) => f.requests > 1).length;
  return record.judge(slo, {
    source,
    samples,
    notes: [
      ...m.programmed,
      ...m.notes,
      definition('UDP has no handshake: the first request datagram toward the VIP enters the node → the first reply datagram from the VIP leaves it; DNAT is decided on the first datagram'),
      window,
      ...(retried > 0 ? [definition(`${retried} exchanges saw their request more than once at the boundary before the reply (timed from the first)`)] : []),
    ],
  });
}
