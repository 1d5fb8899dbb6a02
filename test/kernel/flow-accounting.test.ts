// Every client connection through a Service VIP must show up exactly once in the
// agent's conntrack records and once in its capture records, with the bytes the client
// really moved, and with no event lost at the kit's default netlink buffer.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type AgentHandle } from '../../src/agent/agent.js';
import type { CaptureFlowJson, ConntrackFlowJson, FlowJson } from '../../src/agent/records.js';
import type { ClientConnectionResult } from '../../src/workload/client.js';
import { kernelSkip } from './support/skip.js';
import {
  createTopology,
  programServices,
  removeStaleTestNamespaces,
  runClient,
  startServer,
  type ServerProcess,
  type Topology,
} from './support/topology.js';

const CONNECTIONS = 2_000;
// IPv4 + TCP headers without options (timestamps are off in the topology), and the
// 12 option bytes Linux puts on a SYN and SYN-ACK (MSS, SACK-permitted, window scale).
const HEADER_BYTES = 40;
const SYN_OPTION_BYTES = 12;

describe.runIf(!kernelSkip)('flow accounting against real conntrack and packets', () => {
  let topo: Topology;
  let server: ServerProcess;
  let agent: AgentHandle;
  let client: ClientConnectionResult[];
  let flows: FlowJson[];

  beforeAll(async () => {
    await removeStaleTestNamespaces();
    topo = await createTopology();
    await programServices(topo, 'nftables', 100);
    server = await startServer(topo);
    agent = await startAgent({
      netns: topo.node,
      serviceCidrs: [topo.serviceCidr],
      captureIface: topo.boundaryIface,
      listenPort: 0,
      log: () => undefined,
    });
    client = await runClient(topo, { connections: CONNECTIONS, concurrency: 4, path: '/bytes/1000' });
    // Closed flows sit in TIME_WAIT for 120 s before DESTROY; settle reads their final
    // counters from a table listing now (deleting them would lose DESTROY events).
    await vi.waitFor(async () => {
      await agent.settle();
      if (agent.status().flows.conntrack < CONNECTIONS) throw new Error(`${agent.status().flows.conntrack} settled`);
    }, { timeout: 30_000, interval: 500 });
    const all = (source: 'conntrack' | 'capture') => (): void => {
      const seen = agent.status().flows[source];
      if (seen < CONNECTIONS) throw new Error(`${seen} of ${CONNECTIONS} ${source} records so far`);
    };
    await vi.waitFor(all('conntrack'), { timeout: 30_000, interval: 200 });
    await vi.waitFor(all('capture'), { timeout: 30_000, interval: 200 });
    flows = agent.flows(0, 1_000_000).records;
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.stop();
    await topo?.destroy();
  });

  it('ran every client connection successfully', () => {
    expect(client).toHaveLength(CONNECTIONS);
    expect(client.filter((c) => c.error)).toEqual([]);
  });

  it('sees each client connection exactly once in conntrack and once in capture', () => {
    const key = (addr: string | undefined, port: number | undefined): string => `${addr}:${port}`;
    const count = (keys: string[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    };
    const want = count(client.map((c) => key(c.localAddr, c.localPort)));
    const ct = flows.filter((f): f is ConntrackFlowJson => f.source === 'conntrack');
    const cap = flows.filter((f): f is CaptureFlowJson => f.source === 'capture');
    expect(count(ct.map((f) => key(f.clientAddr, f.clientPort)))).toEqual(want);
    expect(count(cap.map((f) => key(f.clientAddr, f.clientPort)))).toEqual(want);
    expect(ct.every((f) => f.vipAddr === topo.vip && f.dnat && topo.serverAddrs.includes(f.backendAddr))).toBe(true);
    expect(ct.every((f) => f.end === 'settled' && f.firstPacketSeconds! > 0 && f.totalSeconds! > 0)).toBe(true);
    expect(cap.every((f) => f.firstPacketSeconds! > 0 && f.totalSeconds! >= f.firstPacketSeconds!)).toBe(true);
  });

  it('counts in conntrack exactly the bytes the client sent and received', () => {
    const byPort = new Map(
      flows.filter((f): f is ConntrackFlowJson => f.source === 'conntrack').map((f) => [f.clientPort, f]),
    );
    const mismatches = client.flatMap((c) => {
      const f = byPort.get(c.localPort!)!;
      const sent = f.origBytes! - HEADER_BYTES * f.origPackets! - SYN_OPTION_BYTES;
      const received = f.replyBytes! - HEADER_BYTES * f.replyPackets! - SYN_OPTION_BYTES;
      return sent === c.bytesSent && received === c.bytesReceived
        ? []
        : [{ port: c.localPort, client: [c.bytesSent, c.bytesReceived], conntrack: [sent, received], end: f.end }];
    });
    expect({ mismatched: mismatches.length, first: mismatches.slice(0, 3) }).toEqual({ mismatched: 0, first: [] });
  });

  it('loses no conntrack event with the default buffer', () => {
    const s = agent.status();
    expect(s.conntrack?.loss).toMatchObject({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });
    expect(s.capture?.malformed).toBe(0);
    expect(s.lossy).toBe(false);
  });
});
