// The conntrack event reader filters the Service CIDR in the kernel: flows to pod addresses
// (what a node sees for the Services of other nodes' clients) never reach it, and every
// measured flow is complete. A reader stalled while such flows run loses nothing, where
// `conntrack -E` (v1.4.7: `-b` sets another socket's buffer) overruns.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { destroyFlows, listFlows, startConntrack, type ConntrackHandle } from '../../src/conntrack/collector.js';
import { resolveNativeReader } from '../../src/conntrack/native-reader.js';
import { cidrContains, parseCidr } from '../../src/net/cidr.js';
import { sysctl } from '../../src/netns/netns.js';
import type { ConntrackEvent, FlowRecord } from '../../src/conntrack/types.js';
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

const SERVICE_CONNECTIONS = 1_000;
const POD_CONNECTIONS = 1_000;

interface Run {
  handle: ConntrackHandle;
  records: FlowRecord[];
  events: ConntrackEvent[];
}

function collect(topo: Topology, opts: { nativeReader?: string; bufferBytes?: number; kernelFilter?: boolean }): Run {
  const records: FlowRecord[] = [];
  const events: ConntrackEvent[] = [];
  const handle = startConntrack({
    netns: topo.node,
    serviceCidrs: [topo.serviceCidr],
    onRecord: (r) => records.push(r),
    onEvent: (e) => events.push(e),
    ...opts,
  });
  return { handle, records, events };
}

/** Client connections to the VIP and, at the same time, straight to a backend pod. */
async function traffic(topo: Topology, service: number, pod: number): Promise<{ svc: ClientConnectionResult[]; direct: ClientConnectionResult[] }> {
  const [svc, direct] = await Promise.all([
    runClient(topo, { connections: service, concurrency: 4, path: '/bytes/100' }),
    runClient(topo, { connections: pod, concurrency: 4, path: '/bytes/100', target: `${topo.serverAddrs[0]}:${topo.targetPort}` }),
  ]);
  return { svc, direct };
}

async function settleAll(run: Run, ports: Set<number | undefined>): Promise<FlowRecord[]> {
  const mine = (): FlowRecord[] => run.records.filter((r) => ports.has(r.original.src.port));
  await vi.waitFor(
    async () => {
      await run.handle.settle();
      if (mine().length < ports.size) throw new Error(`${mine().length} of ${ports.size} flows finished`);
    },
    { timeout: 30_000, interval: 300 },
  );
  return mine();
}

describe.runIf(!kernelSkip)('conntrack events filtered in the kernel', () => {
  let topo: Topology;
  let server: ServerProcess;
  let nativeReader: string;
  const cidr = () => parseCidr(topo.serviceCidr);

  beforeAll(async () => {
    const found = await resolveNativeReader();
    if (!found.ok) throw new Error(found.reason);
    nativeReader = found.bin;
    await removeStaleTestNamespaces();
    topo = await createTopology();
    await programServices(topo, 'nftables', 100);
    await sysctl(topo.node, { 'net.netfilter.nf_conntrack_acct': 1, 'net.netfilter.nf_conntrack_timestamp': 1 });
    server = await startServer(topo);
  });

  afterAll(async () => {
    await server?.stop();
    await topo?.destroy();
  });

  it('delivers no event of a flow outside the Service CIDR, and every event of every measured flow', async () => {
    const run = collect(topo, { nativeReader });
    try {
      await run.handle.ready;
      const { svc, direct } = await traffic(topo, SERVICE_CONNECTIONS, POD_CONNECTIONS);
      expect(svc.filter((c) => c.error)).toEqual([]);
      expect(direct.filter((c) => c.error)).toEqual([]);
      const flows = await settleAll(run, new Set(svc.map((c) => c.localPort)));

      // the pod flows were tracked by the kernel (the table lists them) but never delivered
      const listed = await listFlows(topo.node, 'ipv4');
      const directPorts = new Set(direct.map((c) => c.localPort));
      expect(listed.events.filter((e) => directPorts.has(e.original.src.port)).length).toBeGreaterThan(0);
      expect(run.events.filter((e) => !cidrContains(cidr(), e.original.dst.addr))).toEqual([]);
      expect(run.handle.stats()).toMatchObject({
        reader: 'kube-sli-ct-events',
        eventSocketBuffer: true,
        kernelFilter: [topo.serviceCidr],
        filteredEvents: 0,
      });

      expect(flows).toHaveLength(SERVICE_CONNECTIONS);
      const incomplete = flows.filter(
        (r) =>
          r.newNs === undefined ||
          r.seenReplyNs === undefined ||
          r.firstFinNs === undefined ||
          r.end !== 'settled' ||
          !r.dnat ||
          r.orig === undefined ||
          r.replyDir === undefined,
      );
      expect(incomplete).toEqual([]);
      expect(run.handle.loss()).toEqual({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });

      // DESTROY passes the filter too: delete the measured flows now instead of after TIME_WAIT
      const ports = new Set(svc.map((c) => c.localPort));
      const destroyed = (): number => run.events.filter((e) => e.type === 'DESTROY' && ports.has(e.original.src.port)).length;
      expect(await destroyFlows(topo.node, { origDst: topo.vip, proto: 'tcp' })).toBeGreaterThanOrEqual(SERVICE_CONNECTIONS);
      await vi.waitFor(() => expect(destroyed()).toBe(SERVICE_CONNECTIONS), { timeout: 10_000, interval: 100 });
      expect(run.handle.loss()).toEqual({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });
    } finally {
      await run.handle.stop();
    }
  });

  // A stalled reader: what the kernel queues meanwhile must fit the buffer. 1 MiB (2 MiB
  // effective) holds the ~700 events of 100 Service flows, not the ~7,000 of the pod flows.
  const STALL_SERVICE = 100;
  const STALL_POD = 1_000;
  async function stalled(opts: { nativeReader?: string; bufferBytes: number; kernelFilter?: boolean }, check: (run: Run, ports: Set<number | undefined>) => Promise<void>): Promise<void> {
    const run = collect(topo, opts);
    try {
      await run.handle.ready;
      process.kill(run.handle.pid!, 'SIGSTOP');
      let svc: ClientConnectionResult[];
      try {
        ({ svc } = await traffic(topo, STALL_SERVICE, STALL_POD));
      } finally {
        process.kill(run.handle.pid!, 'SIGCONT');
      }
      expect(svc.filter((c) => c.error)).toEqual([]);
      await check(run, new Set(svc.map((c) => c.localPort)));
    } finally {
      await run.handle.stop();
    }
  }

  it('loses no measured flow while its reader stalls, where conntrack -E or no kernel filter overruns', async () => {
    await stalled({ nativeReader, bufferBytes: 1_048_576 }, async (run, ports) => {
      const flows = await settleAll(run, ports);
      expect(flows.filter((r) => r.end === 'settled' && r.newNs !== undefined && r.firstFinNs !== undefined)).toHaveLength(STALL_SERVICE);
      expect(run.handle.loss().overruns).toBe(0);
    });
    // the same buffer without the kernel filter: the pod flows' events fill it
    await stalled({ nativeReader, bufferBytes: 1_048_576, kernelFilter: false }, async (run) => {
      await vi.waitFor(() => expect(run.handle.loss().overruns).toBeGreaterThan(0), { timeout: 10_000, interval: 100 });
      expect(run.handle.stats().kernelFilter).toEqual([]);
    });
    // the same stall with conntrack -E and the kit's default 64 MiB: its event socket holds
    // net.core.rmem_default, so it overruns (why the collector prefers the native reader)
    await stalled({ bufferBytes: 67_108_864 }, async (run) => {
      await vi.waitFor(() => expect(run.handle.loss().overruns).toBeGreaterThan(0), { timeout: 10_000, interval: 100 });
      expect(run.handle.stats().reader).toBe('conntrack');
    });
  });
});
