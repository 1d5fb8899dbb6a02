// Flow records as the agent streams them: one JSON object per line, epoch-ns times as
// decimal strings (JSON has no 64-bit integers), SLI values precomputed in seconds.
import { firstPacketLatencySeconds, totalLatencySeconds } from '../capture/tracker.js';
import type { CaptureConnection } from '../capture/types.js';
import { udpFirstPacketSeconds, type CaptureUdpExchange } from '../capture/udp-tracker.js';
import {
  conntrackFirstPacketSeconds,
  conntrackTotalSeconds,
  throughputBytesPerSecond,
} from '../conntrack/tracker.js';
import type { FlowRecord } from '../conntrack/types.js';

export interface CaptureFlowJson {
  source: 'capture';
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  synNs: string;
  synAckNs?: string;
  endNs?: string;
  endKind?: 'FIN' | 'RST';
  synRetransmits: number;
  incomplete?: string;
  firstPacketSeconds?: number;
  totalSeconds?: number;
}

export interface ConntrackFlowJson {
  source: 'conntrack';
  id: number;
  proto: string;
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  backendAddr: string;
  backendPort: number;
  dnat: boolean;
  end: string;
  newNs?: string;
  seenReplyNs?: string;
  firstFinNs?: string;
  destroyNs?: string;
  kernelStartNs?: string;
  kernelStopNs?: string;
  origBytes?: number;
  origPackets?: number;
  replyBytes?: number;
  replyPackets?: number;
  deletedByUserspace?: boolean;
  firstPacketSeconds?: number;
  totalSeconds?: number;
  throughputBytesPerSecond?: number;
}

/** One UDP request/response exchange through a VIP, from the boundary capture. */
export interface CaptureUdpFlowJson {
  source: 'capture-udp';
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  requestNs: string;
  replyNs?: string;
  /** request datagrams before the reply (1 = no retry) */
  requests: number;
  incomplete?: string;
  /** first request → first reply */
  firstPacketSeconds?: number;
}

export type FlowJson = CaptureFlowJson | ConntrackFlowJson | CaptureUdpFlowJson;

const ns = (v: bigint | undefined): string | undefined => (v === undefined ? undefined : v.toString());

export function captureFlowJson(c: CaptureConnection): CaptureFlowJson {
  return {
    source: 'capture',
    clientAddr: c.clientAddr,
    clientPort: c.clientPort,
    vipAddr: c.vipAddr,
    vipPort: c.vipPort,
    synNs: c.synNs.toString(),
    synAckNs: ns(c.synAckNs),
    endNs: ns(c.endNs),
    endKind: c.endKind,
    synRetransmits: c.synRetransmits,
    incomplete: c.incomplete,
    firstPacketSeconds: firstPacketLatencySeconds(c),
    totalSeconds: totalLatencySeconds(c),
  };
}

export function captureUdpFlowJson(e: CaptureUdpExchange): CaptureUdpFlowJson {
  return {
    source: 'capture-udp',
    clientAddr: e.clientAddr,
    clientPort: e.clientPort,
    vipAddr: e.vipAddr,
    vipPort: e.vipPort,
    requestNs: e.requestNs.toString(),
    replyNs: ns(e.replyNs),
    requests: e.requests,
    incomplete: e.incomplete,
    firstPacketSeconds: udpFirstPacketSeconds(e),
  };
}

export function conntrackFlowJson(r: FlowRecord): ConntrackFlowJson {
  return {
    source: 'conntrack',
    id: r.id,
    proto: r.proto,
    clientAddr: r.original.src.addr,
    clientPort: r.original.src.port,
    vipAddr: r.original.dst.addr,
    vipPort: r.original.dst.port,
    // the reply tuple's source is where the flow really went (after DNAT)
    backendAddr: r.reply.src.addr,
    backendPort: r.reply.src.port,
    dnat: r.dnat,
    end: r.end,
    newNs: ns(r.newNs),
    seenReplyNs: ns(r.seenReplyNs),
    firstFinNs: ns(r.firstFinNs),
    destroyNs: ns(r.destroyNs),
    kernelStartNs: ns(r.kernelStartNs),
    kernelStopNs: ns(r.kernelStopNs),
    origBytes: r.orig?.bytes,
    origPackets: r.orig?.packets,
    replyBytes: r.replyDir?.bytes,
    replyPackets: r.replyDir?.packets,
    deletedByUserspace: r.deletedByUserspace,
    firstPacketSeconds: conntrackFirstPacketSeconds(r),
    totalSeconds: conntrackTotalSeconds(r),
    throughputBytesPerSecond: throughputBytesPerSecond(r),
  };
}
