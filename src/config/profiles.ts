// SLO profiles: every threshold the suites judge, in one place, each with where it comes
// from. `default` follows the Kubernetes community SLOs where they exist and otherwise
// sets generous bounds that catch a broken dataplane; `strict` is what a modern nftables
// dataplane achieved on the embedded lab (2 vCPU, kernel 6.18; see README's figures).
// Users override any threshold by environment or config file (knobs.ts).
import { validateSlo, type SloSpec } from '../sli/index.js';

export type ProfileName = 'default' | 'strict';
export const PROFILE_NAMES: readonly ProfileName[] = ['default', 'strict'];

export interface ProfiledSlo extends SloSpec {
  /** why these thresholds: the source a reviewer can check */
  origin: string;
}

/** SLI names the suites measure; ratios are dimensionless (candidate / reference). */
export const SLI = {
  programming: 'network_programming_latency_seconds',
  firstPacket: 'first_packet_latency_seconds',
  firstPacketScaling: 'first_packet_latency_scaling_ratio',
  totalLatency: 'connection_total_latency_seconds',
  throughput: 'connection_throughput_bytes_per_second',
  clusterIpConnectOverhead: 'clusterip_connect_latency_ratio',
  clusterIpThroughputOverhead: 'clusterip_throughput_ratio',
  churnFailures: 'churn_failed_connections_ratio',
  churnThroughputDip: 'churn_throughput_dip_ratio',
  lastServiceLatency: 'last_service_latency_ratio',
  failedConnections: 'failed_connections_ratio',
  netreadyLatency: 'pod_network_ready_latency_seconds',
  netreadyFluxRatio: 'pod_network_ready_flux_ratio',
  netreadyThroughput: 'pod_network_ready_throughput_ratio',
  netreadyFailures: 'pod_network_ready_failures_ratio',
  podRequestRate: 'pod_ip_requests_per_second_ratio',
  clusterIpRequestRate: 'clusterip_requests_per_second_ratio',
  podRequestP99: 'pod_ip_request_p99_ratio',
  clusterIpRequestP99: 'clusterip_request_p99_ratio',
  udpFirstPacket: 'udp_first_packet_latency_seconds',
  udpLoss: 'udp_loss_ratio',
} as const;
export type SliName = (typeof SLI)[keyof typeof SLI];

const COMMUNITY = 'kubernetes/community sig-scalability/slos';
const COMMUNITY_URL = 'https://github.com/kubernetes/community/blob/master/sig-scalability/slos';
const TALK = 'From Observability to Performance';
const POD_STARTUP = `${COMMUNITY}/pod_startup_latency.md (${COMMUNITY_URL}/pod_startup_latency.md)`;
const KUBEMARK_PROPOSAL = 'the proposal "Kubernetes Network Performance Measurement via Kubemark"';
const K3S_CASE = 'the case study "Is K3S too slow?" (one HTTP service on bare metal and behind k3s\'s network stack: 17 times less throughput, 6 times the tail latency; host networking closed most of the gap)';
const WRK2 = 'wrk2\'s constant-rate, coordinated-omission-corrected latency (https://github.com/giltene/wrk2)';
const LAB_RATE = "on the lab's real nodes (2 vCPU shared with other labs, load average ~25) keep-alive measured pod/host 2.1 and ClusterIP/host 2.6 (the host-network server ran slowest, 752 req/s, before the kit warmed each path up), and with a new connection per request pod/host 1.09 and ClusterIP/host 0.41 (CI 0.35-0.49): the per-connection cost of this lab's ClusterIP path that clusterip_connect_latency_ratio also shows, so 0.5 would fail every lab run; warmed up, a second run measured keep-alive 1.61 and 1.68, new connections 0.95 and 0.40";
const LAB_P99 = "on the lab's real nodes (2 vCPU shared with other labs) at 376 req/s the p99 ratios measured pod/host 0.66 and ClusterIP/host 1.10, with every path's p99 (77-157 ms) dominated by CPU contention; the generator was late on ~40 % of sends, so those verdicts were inconclusive; warmed up at 641 req/s a second run measured 0.82 and 0.45 (p99 52-116 ms), and with a tbf qdisc capping the pod's veth the ClusterIP/host ratio was 14.5. A quiet CI machine running only the lab measured ClusterIP/host 3.73 and pod/host 2.75 in two runs and 1.07 in others: a few seconds of open loop on 2 vCPUs take their p99 from one scheduler stall, so the bound sits above that (5), and a failure must show in every repeat (measurements/request-overhead.ts repeatCheck)";
const KEP_4963 = 'KEP-4963 "Kube-proxy Services Acceleration" (https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/4963-kube-proxy-services-acceleration)';

const PROFILES: Record<ProfileName, Record<SliName, ProfiledSlo>> = {
  default: {
    [SLI.programming]: {
      sli: SLI.programming,
      thresholds: ['p(99)<=30s'],
      minSamples: 10,
      origin: `${COMMUNITY}/network_programming_latency.md defines the SLI (p99, WIP); its SLO is still "<= X" (${COMMUNITY_URL}/network_programming_latency.md). 30 s is not a community SLO: it is the default threshold of clusterloader2's NetworkProgrammingLatency measurement (CL2_NETWORK_PROGRAMMING_LATENCY_THRESHOLD in kubernetes/perf-tests clusterloader2/testing/load/modules/measurements.yaml, https://github.com/kubernetes/perf-tests/blob/master/clusterloader2/testing/load/modules/measurements.yaml), taken as the kit's bound`,
    },
    [SLI.firstPacket]: {
      sli: SLI.firstPacket,
      thresholds: ['p(99)<100ms'],
      minSamples: 1000,
      origin: `${COMMUNITY}/first_packet_latency.md defines the SLI (p99, WIP); its SLO is "<= X" (${COMMUNITY_URL}/first_packet_latency.md). 100 ms is the kit's bound for a working dataplane`,
    },
    [SLI.firstPacketScaling]: {
      sli: SLI.firstPacketScaling,
      thresholds: ['ratio<=1.5'],
      minSamples: 1000,
      origin: `the KubeCon NA 2024 talk "${TALK}": latency must not grow with the number of Services (p50 at the largest / smallest scale point); iptables grows ~6x from 100 to 10,000 Services on the lab, nftables stays ~1x`,
    },
    [SLI.totalLatency]: {
      sli: SLI.totalLatency,
      thresholds: ['p(99)<1s'],
      minSamples: 1000,
      origin: 'no community SLI: connection_total_latency.md was proposed in kubernetes/community pull request #8142 "add networking slis for services" (https://github.com/kubernetes/community/pull/8142) and removed from it before it merged (its commit "remove connection total latency SLI"); 1 s is the kit\'s bound for short request/response connections',
    },
    [SLI.throughput]: {
      sli: SLI.throughput,
      thresholds: ['jain>=0.8', 'p10/p50>=0.5'],
      minSamples: 4,
      origin: `${COMMUNITY}/throughput.md defines the SLI (WIP); its SLO is "<= X" (${COMMUNITY_URL}/throughput.md). Fairness bounds from the KubeCon NA 2024 talk "${TALK}", whose iptables case at 10,000 Services had p10 at 0.1 of p50`,
    },
    [SLI.clusterIpConnectOverhead]: {
      sli: SLI.clusterIpConnectOverhead,
      thresholds: ['ratio<=5'],
      minSamples: 500,
      origin: `the kit's bound (no community SLI): connect latency through the ClusterIP vs directly to the pod IP (p50, measured A B B A), the short-connection cost ${KEP_4963} compares with netperf TCP_CRR. The default catches a ClusterIP that makes connect() five times slower; on the lab's real nodes (2 vCPU) it measured 1.26, 1.44, 1.95, 2.05 and 3.72 A B B A (CI 2.66-4.9 for the last) and 1.15-2.52 back to back (pod IP p50 ~290 µs, ClusterIP ~415 µs), while boundary capture of the same ClusterIP SYNs shows ~50 µs at the node: the extra cost sits at the client, before its SYN reaches the node, and is not explained yet (request-overhead's new-connection rate shows it too). A tighter default fails lab runs at random; strict keeps 1.2`,
    },
    [SLI.clusterIpThroughputOverhead]: {
      sli: SLI.clusterIpThroughputOverhead,
      thresholds: ['ratio>=0.5'],
      minSamples: 4,
      origin: `the kit's bound (no community SLI): throughput through the ClusterIP vs directly to the pod IP (mean of per-interval path totals), the cost ${KEP_4963} compares with netperf TCP_STREAM; the default bound catches a ClusterIP that halves throughput — the lab on 2 CPU-bound vCPUs measured 0.82-0.97 between runs, so a tighter default would judge the machine, not the dataplane`,
    },
    [SLI.churnFailures]: {
      sli: SLI.churnFailures,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: "the kit's bound (no community SLI): no connection may fail while endpoints and Services churn (failed / attempted, per client)",
    },
    [SLI.churnThroughputDip]: {
      sli: SLI.churnThroughputDip,
      thresholds: ['min>=0.3'],
      minSamples: 1,
      origin:
        "the kit's bound (no community SLI): throughput during proxy resyncs over throughput before churn (per interval). The default catches a dataplane that stalls established flows; on the lab's real nodes (2 vCPU shared by both nodes' pods and kube-proxies) the worst interval measured 0.42-0.49 (p50 0.64-0.67) with no failed connection, so 0.5 would judge the machine's CPU, not the dataplane; strict keeps 0.8",
    },
    [SLI.lastServiceLatency]: {
      sli: SLI.lastServiceLatency,
      thresholds: ['ratio<=1.5'],
      minSamples: 500,
      origin: "the kit's bound (no community SLI): the last of N Services is no slower to reach than the first (p50)",
    },
    [SLI.failedConnections]: {
      sli: SLI.failedConnections,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: 'a connection to a programmed Service that fails is a dataplane fault: failed / attempted connections of each measurement, zero allowed',
    },
    [SLI.netreadyLatency]: {
      sli: SLI.netreadyLatency,
      thresholds: ['p(99)<=5s'],
      minSamples: 10,
      origin: `no community SLO for network readiness (${KUBEMARK_PROPOSAL} asks for the measurement); 5 s is the p99 of ${POD_STARTUP} for stateless pods (image pull excluded), which a pod's network must fit into`,
    },
    [SLI.netreadyFluxRatio]: {
      sli: SLI.netreadyFluxRatio,
      thresholds: ['ratio<=3'],
      minSamples: 10,
      origin: `the kit's bound (no community SLI): network-ready p99 while P pods/s are created and deleted over the p99 at the steady rate (${KUBEMARK_PROPOSAL}: behaviour under pod flux); on the lab's 2 vCPU every pod also costs the node's CPU (runc, the kubelet, the pod's own start), so the default catches a CNI whose latency grows with churn, not the machine`,
    },
    [SLI.netreadyThroughput]: {
      sli: SLI.netreadyThroughput,
      thresholds: ['min>=0.8'],
      minSamples: 1,
      origin: `the kit's bound (no community SLI): pods that became network-ready per second while the flux ran, over the flux rate P (${KUBEMARK_PROPOSAL}: network-ready throughput); below 0.8 the cluster falls behind the flux`,
    },
    [SLI.netreadyFailures]: {
      sli: SLI.netreadyFailures,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: 'a pod whose network never becomes ready within the deadline is a CNI fault: failed / created pods of each phase, zero allowed',
    },
    [SLI.podRequestRate]: {
      sli: SLI.podRequestRate,
      thresholds: ['ratio>=0.25'],
      minSamples: 8,
      origin: `the kit's bound (no community SLI): closed-loop requests/s to the pod IP over the same server on the host network (mean of per-interval rates, A B C D D C B A), after ${K3S_CASE}. The default catches a pod network that costs 4 times the host network's request rate; ${LAB_RATE}`,
    },
    [SLI.clusterIpRequestRate]: {
      sli: SLI.clusterIpRequestRate,
      thresholds: ['ratio>=0.25'],
      minSamples: 8,
      origin: `the kit's bound (no community SLI): closed-loop requests/s through the ClusterIP over the same server on the host network, after ${K3S_CASE}. The default catches a Service path that costs 4 times the host network's request rate; ${LAB_RATE}`,
    },
    [SLI.podRequestP99]: {
      sli: SLI.podRequestP99,
      thresholds: ['ratio<=5'],
      minSamples: 500,
      origin: `the kit's bound (no community SLI): open-loop p99 latency to the pod IP over the host network, latency from each request's due time (${WRK2}), after ${K3S_CASE}. The default catches a pod network that makes the tail five times longer; ${LAB_P99}`,
    },
    [SLI.clusterIpRequestP99]: {
      sli: SLI.clusterIpRequestP99,
      thresholds: ['ratio<=5'],
      minSamples: 500,
      origin: `the kit's bound (no community SLI): open-loop p99 latency through the ClusterIP over the host network, latency from each request's due time (${WRK2}), after ${K3S_CASE}. The default catches a Service path that makes the tail five times longer; ${LAB_P99}`,
    },
    [SLI.udpFirstPacket]: {
      sli: SLI.udpFirstPacket,
      thresholds: ['p(99)<100ms'],
      minSamples: 1000,
      origin: `${COMMUNITY}/first_packet_latency.md defines the SLI for any protocol (p99, WIP; SLO "<= X"); for UDP the first request datagram toward the VIP → the first reply from it. 100 ms is the kit's bound for a working dataplane, the same as TCP's; the reply is the backend application's, so the figure includes its time to answer (on the lab's loaded shared vCPUs p99 247-436 ms: the scheduler, see README)`,
    },
    [SLI.udpLoss]: {
      sli: SLI.udpLoss,
      thresholds: ['max<=0.001'],
      minSamples: 1,
      origin: "the kit's bound (no community SLI): UDP exchanges without a reply within UDP_TIMEOUT_MS / exchanges sent, under the UDP_RATE load. A lost DNS query costs its client a resolver timeout (5 s by default, resolv.conf(5)), so the default tolerates 1 in 1,000. Not yet calibrated on a quiet lab: on the lab's real nodes sharing 2 vCPUs with other labs (load 25-50) the boundary saw every one of 1,200 replies leave toward the clients, while the starved clients counted 0 and 103 lost and fell behind their schedule (inconclusive; README)",
    },
  },
  strict: {
    [SLI.programming]: {
      sli: SLI.programming,
      thresholds: ['p(99)<=5s', 'p(50)<=1s'],
      minSamples: 10,
      origin: `the KubeCon NA 2024 talk "${TALK}": nftables partial sync programs one more Service next to 10,000 in 141 ms`,
    },
    [SLI.firstPacket]: {
      sli: SLI.firstPacket,
      thresholds: ['p(99)<1ms', 'p(50)<200us'],
      minSamples: 1000,
      origin: 'lab, nftables: boundary p50 31-45 µs, p99 64-74 µs with 10,000 Services',
    },
    [SLI.firstPacketScaling]: {
      sli: SLI.firstPacketScaling,
      thresholds: ['ratio<=1.2'],
      minSamples: 1000,
      origin: 'lab, nftables: p50 at 10,000 / 100 Services = 1.0-1.1',
    },
    [SLI.totalLatency]: {
      sli: SLI.totalLatency,
      thresholds: ['p(99)<50ms'],
      minSamples: 1000,
      origin: 'lab: short connections complete in a few ms at p99',
    },
    [SLI.throughput]: {
      sli: SLI.throughput,
      thresholds: ['jain>=0.95', 'p10/p50>=0.8'],
      minSamples: 4,
      origin: `the KubeCon NA 2024 talk "${TALK}": nftables shares bandwidth evenly between concurrent clients`,
    },
    [SLI.clusterIpConnectOverhead]: {
      sli: SLI.clusterIpConnectOverhead,
      thresholds: ['ratio<=1.2'],
      minSamples: 500,
      origin: `lab: a ClusterIP should cost little over the pod IP (the comparison of ${KEP_4963})`,
    },
    [SLI.clusterIpThroughputOverhead]: {
      sli: SLI.clusterIpThroughputOverhead,
      thresholds: ['ratio>=0.95'],
      minSamples: 4,
      origin: `lab: established flows skip the rule search, so throughput is nearly equal (the comparison of ${KEP_4963})`,
    },
    [SLI.churnFailures]: {
      sli: SLI.churnFailures,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: "the kit's bound: no failed connections during churn",
    },
    [SLI.churnThroughputDip]: {
      sli: SLI.churnThroughputDip,
      thresholds: ['min>=0.8'],
      minSamples: 1,
      origin: "the kit's bound: resyncs must not stall established flows",
    },
    [SLI.lastServiceLatency]: {
      sli: SLI.lastServiceLatency,
      thresholds: ['ratio<=1.2'],
      minSamples: 500,
      origin: 'lab: nftables reaches the last of 10,000 Services as fast as the first',
    },
    [SLI.failedConnections]: {
      sli: SLI.failedConnections,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: 'no connection to a programmed Service may fail',
    },
    [SLI.netreadyLatency]: {
      sli: SLI.netreadyLatency,
      thresholds: ['p(99)<=2s', 'p(50)<=1s'],
      minSamples: 10,
      origin: 'lab (ptp + host-local, 2 vCPU): see the README\'s network-ready figures',
    },
    [SLI.netreadyFluxRatio]: {
      sli: SLI.netreadyFluxRatio,
      thresholds: ['ratio<=2'],
      minSamples: 10,
      origin: "the kit's bound: flux at most doubles the network-ready p99",
    },
    [SLI.netreadyThroughput]: {
      sli: SLI.netreadyThroughput,
      thresholds: ['min>=0.9'],
      minSamples: 1,
      origin: "the kit's bound: the cluster keeps up with the flux",
    },
    [SLI.netreadyFailures]: {
      sli: SLI.netreadyFailures,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: 'no pod may stay without a network',
    },
    [SLI.podRequestRate]: {
      sli: SLI.podRequestRate,
      thresholds: ['ratio>=0.8'],
      minSamples: 8,
      origin: "the kit's bound: a routed pod network (one veth hop) should keep most of the host network's request rate; not yet reached on the lab's shared 2 vCPUs (see the default's figures)",
    },
    [SLI.clusterIpRequestRate]: {
      sli: SLI.clusterIpRequestRate,
      thresholds: ['ratio>=0.8'],
      minSamples: 8,
      origin: "the kit's bound: a ClusterIP adds one NAT lookup per connection, little per request; not yet reached on the lab's shared 2 vCPUs (see the default's figures)",
    },
    [SLI.podRequestP99]: {
      sli: SLI.podRequestP99,
      thresholds: ['ratio<=1.5'],
      minSamples: 500,
      origin: "the kit's bound: at half load the pod network should not make the tail much longer than the host network's; not yet reached on the lab's shared 2 vCPUs (see the default's figures)",
    },
    [SLI.clusterIpRequestP99]: {
      sli: SLI.clusterIpRequestP99,
      thresholds: ['ratio<=1.5'],
      minSamples: 500,
      origin: "the kit's bound: at half load the ClusterIP should not make the tail much longer than the host network's; not yet reached on the lab's shared 2 vCPUs (see the default's figures)",
    },
    [SLI.udpFirstPacket]: {
      sli: SLI.udpFirstPacket,
      thresholds: ['p(99)<1ms', 'p(50)<200us'],
      minSamples: 1000,
      origin: "the TCP first-packet bounds of this profile; not yet calibrated for UDP, whose reply includes the backend application's time to answer (README)",
    },
    [SLI.udpLoss]: {
      sli: SLI.udpLoss,
      thresholds: ['max<=0'],
      minSamples: 1,
      origin: "the kit's bound: no exchange through a programmed Service may go unanswered",
    },
  },
};

export class ProfileError extends Error {}

/** A copy of a profile's SLOs (callers may override thresholds without touching the table). */
export function loadProfile(name: string): Record<SliName, ProfiledSlo> {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new ProfileError(`unknown profile "${name}": use one of ${PROFILE_NAMES.join(', ')} (SLI_PROFILE or "profile" in the config file)`);
  }
  const p = PROFILES[name as ProfileName];
  return Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k, { ...v, thresholds: [...v.thresholds] }]),
  ) as Record<SliName, ProfiledSlo>;
}

/** Every SLO of every profile validates: checked by a unit test, so a typo cannot ship. */
export function validateProfiles(): void {
  for (const name of PROFILE_NAMES) for (const slo of Object.values(PROFILES[name])) validateSlo(slo);
}
