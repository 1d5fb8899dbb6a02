// Conntrack event loss under a kernel-level burst (root, Linux): the test topology
// (client → node with kube-proxy-shaped nftables DNAT for 5,000 Services → server) in
// network namespaces. Per burst, N connections to a Service VIP (the measured flows) and,
// at the same time, N straight to a backend pod: the flows a node forwards for other nodes'
// clients, whose original destination is outside the Service CIDR. CLIENTS client processes
// per target, CONCURRENCY connections in flight each.
//
// Readers compared:
// - conntrack -E -b 64 MiB: the tool as the collector ran it before (v1.4.7 sets -b on a
//   socket without event groups; its event socket keeps net.core.rmem_default);
// - kube-sli-ct-events with and without its kernel filter, at 64 MiB and at the 208 KiB
//   conntrack's event socket really has.
// Printed per row: events read, overruns, measured flows complete (NEW, reply, close,
// final counters) and lost, events of outside flows that reached the reader.
//
//   node --import tsx bench/conntrack-burst.bench.ts [N ...]   (default 2000 8000)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startConntrack } from '../src/conntrack/collector.js';
import { resolveNativeReader } from '../src/conntrack/native-reader.js';
import type { FlowRecord } from '../src/conntrack/types.js';
import { cidrContains, parseCidr } from '../src/net/cidr.js';
import { sysctl } from '../src/netns/netns.js';
import type { ClientConnectionResult } from '../src/workload/client.js';
import {
  createTopology,
  programServices,
  removeStaleTestNamespaces,
  runClient,
  startServer,
  type Topology,
} from '../test/kernel/support/topology.js';

const SERVICES = 5_000;
const CLIENTS = 4;
const CONCURRENCY = 16;
/** settle until the measured records stop growing for this long, at most SETTLE_MAX_MS */
const SETTLE_QUIET_MS = 1_000;
const SETTLE_MAX_MS = 30_000;
const DEFAULT_BUFFER = 67_108_864;
/** net.core.rmem_default: what conntrack v1.4.7's event socket gets, whatever -b says */
const RMEM_DEFAULT = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim());

export interface BurstRow {
  reader: string;
  connections: number;
  bufferBytes: number;
  /** the event socket's buffer: 2 × bufferBytes, or rmem_default for conntrack v1.4.7 */
  effectiveBufferBytes: number;
  kernelFilter: boolean;
  eventsRead: number;
  overruns: number;
  measuredComplete: number;
  measuredLost: number;
  outsideEventsDelivered: number;
  clientErrors: number;
}

interface ReaderConfig {
  reader: 'conntrack' | 'kube-sli-ct-events';
  bufferBytes: number;
  kernelFilter: boolean;
}

const CONFIGS: ReaderConfig[] = [
  { reader: 'conntrack', bufferBytes: DEFAULT_BUFFER, kernelFilter: false },
  { reader: 'kube-sli-ct-events', bufferBytes: DEFAULT_BUFFER, kernelFilter: false },
  { reader: 'kube-sli-ct-events', bufferBytes: DEFAULT_BUFFER, kernelFilter: true },
  { reader: 'kube-sli-ct-events', bufferBytes: RMEM_DEFAULT / 2, kernelFilter: false },
  { reader: 'kube-sli-ct-events', bufferBytes: RMEM_DEFAULT / 2, kernelFilter: true },
];

async function clients(topo: Topology, target: string | undefined, connections: number): Promise<ClientConnectionResult[]> {
  const per = Math.ceil(connections / CLIENTS);
  const runs = await Promise.all(
    Array.from({ length: CLIENTS }, () => runClient(topo, { connections: per, concurrency: CONCURRENCY, path: '/bytes/100', target })),
  );
  return runs.flat();
}

async function burst(topo: Topology, nativeReader: string, cfg: ReaderConfig, connections: number): Promise<BurstRow> {
  const records: FlowRecord[] = [];
  const cidr = parseCidr(topo.serviceCidr);
  let outside = 0;
  const h = startConntrack({
    netns: topo.node,
    serviceCidrs: [topo.serviceCidr],
    bufferBytes: cfg.bufferBytes,
    ...(cfg.reader === 'kube-sli-ct-events' ? { nativeReader, kernelFilter: cfg.kernelFilter } : {}),
    onRecord: (r) => records.push(r),
    onEvent: (e) => {
      if (!cidrContains(cidr, e.original.dst.addr)) outside++;
    },
  });
  try {
    await h.ready;
    const [svc, direct] = await Promise.all([
      clients(topo, undefined, connections),
      clients(topo, `${topo.serverAddrs[0]}:${topo.targetPort}`, connections),
    ]);
    const ports = new Set(svc.map((c) => c.localPort));
    const measured = (): FlowRecord[] => records.filter((r) => ports.has(r.original.src.port));
    // flows whose NEW was lost never finish: settle until nothing more comes
    const deadline = Date.now() + SETTLE_MAX_MS;
    let last = -1;
    let quietSince = Date.now();
    while (Date.now() < deadline && Date.now() - quietSince < SETTLE_QUIET_MS) {
      await h.settle();
      const n = measured().length + h.stats().eventLines;
      if (n !== last) quietSince = Date.now();
      last = n;
      if (measured().length >= ports.size) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const complete = measured().filter(
      (r) => r.newNs !== undefined && r.seenReplyNs !== undefined && r.firstFinNs !== undefined && r.orig !== undefined && r.end === 'settled',
    ).length;
    const ok = svc.filter((c) => !c.error).length;
    return {
      reader: cfg.reader,
      connections,
      bufferBytes: cfg.bufferBytes,
      effectiveBufferBytes: cfg.reader === 'conntrack' ? RMEM_DEFAULT : 2 * cfg.bufferBytes,
      kernelFilter: cfg.kernelFilter,
      eventsRead: h.stats().eventLines,
      overruns: h.loss().overruns,
      measuredComplete: complete,
      measuredLost: ok - complete,
      outsideEventsDelivered: outside,
      clientErrors: svc.length - ok + direct.filter((c) => c.error).length,
    };
  } finally {
    await h.stop();
  }
}

export async function benchConntrackBurst(sizes: number[] = [2_000, 8_000], log: (s: string) => void = () => undefined): Promise<BurstRow[]> {
  const found = await resolveNativeReader();
  if (!found.ok) throw new Error(`kube-sli-ct-events: ${found.reason}`);
  await removeStaleTestNamespaces();
  const topo = await createTopology();
  const rows: BurstRow[] = [];
  try {
    await programServices(topo, 'nftables', SERVICES);
    await sysctl(topo.node, { 'net.netfilter.nf_conntrack_acct': 1, 'net.netfilter.nf_conntrack_timestamp': 1 });
    const server = await startServer(topo);
    try {
      for (const n of sizes) {
        for (const cfg of CONFIGS) {
          const row = await burst(topo, found.bin, cfg, n);
          log(JSON.stringify(row));
          rows.push(row);
        }
      }
    } finally {
      await server.stop();
    }
  } finally {
    await topo.destroy();
  }
  return rows;
}

const size = (b: number): string => (b >= 1_048_576 ? `${b / 1_048_576} MiB` : `${Math.round(b / 1024)} KiB`);

export function burstTable(rows: BurstRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    reader: r.reader,
    'N (svc + pod)': `${r.connections} + ${r.connections}`,
    '-b (asked)': size(r.bufferBytes),
    'event socket buffer': size(r.effectiveBufferBytes),
    'kernel filter': r.kernelFilter ? 'Service CIDR' : 'none',
    'events read': r.eventsRead,
    overruns: r.overruns,
    'measured complete': r.measuredComplete,
    'measured lost': r.measuredLost,
    'outside events read': r.outsideEventsDelivered,
    'client errors': r.clientErrors,
  }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  console.table(burstTable(await benchConntrackBurst(sizes.length > 0 ? sizes : undefined, (s) => console.error(s))));
}
