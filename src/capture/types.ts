// Per-connection boundary timings derived from a pcap stream. Times are bigint ns since
// the Unix epoch as the kernel stamped them (tcpdump --time-stamp-precision=nano).

export interface CaptureConnection {
  family: 4 | 6;
  clientAddr: string;
  clientPort: number;
  vipAddr: string;
  vipPort: number;
  /** the client's first SYN toward the VIP (retransmissions do not move it) */
  synNs: bigint;
  synRetransmits: number;
  /** first SYN-ACK from the VIP toward the client */
  synAckNs?: bigint;
  /** first FIN or RST of the connection, either direction */
  endNs?: bigint;
  endKind?: 'FIN' | 'RST';
}

export interface CaptureStats {
  packets: number;
  /** packets that were not TCP to/from the VIP range or had no usable headers */
  ignored: number;
  /** records or headers that were cut short or corrupt; reported, never fatal */
  malformed: number;
}
