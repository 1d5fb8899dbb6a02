// The agent's Prometheus surface (prom-client). Histograms are for dashboards and
// cluster-wide aggregation; exact statistics come from the flow-record stream.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';

// 1 µs … ~33 s in powers of two: first-packet latency lives at tens of µs, programming
// and total latency can reach seconds.
const LATENCY_BUCKETS = exponentialBuckets(1e-6, 2, 26);
// 1 kB/s … ~137 GB/s.
const THROUGHPUT_BUCKETS = exponentialBuckets(1e3, 2, 28);

export type Source = 'capture' | 'conntrack';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly firstPacket = new Histogram({
    name: 'kube_sli_first_packet_latency_seconds',
    help: "Client's first SYN toward a Service VIP to the SYN-ACK from the VIP (capture), or conntrack NEW to SEEN_REPLY (conntrack; hides DNAT rule search).",
    labelNames: ['source'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly totalLatency = new Histogram({
    name: 'kube_sli_connection_total_latency_seconds',
    help: 'First SYN toward a Service VIP to the first FIN or RST of that connection.',
    labelNames: ['source'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly throughput = new Histogram({
    name: 'kube_sli_connection_throughput_bytes_per_second',
    help: 'Bytes of one Service connection (both directions, from conntrack accounting) divided by its duration.',
    buckets: THROUGHPUT_BUCKETS,
    registers: [this.registry],
  });
  readonly flows = new Counter({
    name: 'kube_sli_flows_total',
    help: 'Service connections recorded, by collector.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly lost = new Counter({
    name: 'kube_sli_events_lost_total',
    help: 'Events the agent could not use: netlink overruns, malformed lines or packets, orphan events, dropped flow records.',
    labelNames: ['source', 'reason'],
    registers: [this.registry],
  });
  readonly collectorUp = new Gauge({
    name: 'kube_sli_collector_up',
    help: '1 while the collector process runs.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly collectorRestarts = new Counter({
    name: 'kube_sli_collector_restarts_total',
    help: 'Times a collector process exited unexpectedly and was started again.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly vipSyns = new Counter({
    name: 'kube_sli_vip_syns_on_wire_total',
    help: 'SYNs to a Service VIP seen at the node boundary; stays 0 on socket-LB dataplanes that never put the VIP on the wire.',
    registers: [this.registry],
  });

  // prom-client counters only go up, while the collectors keep their own running totals:
  // the exported counter is raised to the collector's total whenever it is read.
  private readonly exported = new Map<string, number>();

  raiseLost(source: Source, reason: string, total: number): void {
    this.raise(`lost/${source}/${reason}`, total, (d) => this.lost.inc({ source, reason }, d));
  }

  raiseVipSyns(total: number): void {
    this.raise('vip', total, (d) => this.vipSyns.inc(d));
  }

  private raise(key: string, total: number, inc: (delta: number) => void): void {
    const prev = this.exported.get(key) ?? 0;
    if (total > prev) {
      inc(total - prev);
      this.exported.set(key, total);
    }
  }
}
