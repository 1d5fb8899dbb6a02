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
  /**
   * Set when the connection was emitted without a FIN/RST having been seen:
   * - `idle-timeout`: nothing ended it within the tracker's idle timeout;
   * - `port-reuse`: a SYN with a new ISN arrived on the same 4-tuple first;
   * - `capacity`: evicted (oldest first) because the open-connection cap was reached;
   * - `end-of-capture`: still open when the capture was flushed.
   * Absent on connections that ended with a FIN or RST.
   */
  incomplete?: 'idle-timeout' | 'port-reuse' | 'capacity' | 'end-of-capture';
}

export interface CaptureStats {
  packets: number;
  /** packets that were not TCP to/from the VIP range or had no usable headers */
  ignored: number;
  /** records or headers that were cut short or corrupt; reported, never fatal */
  malformed: number;
}

/**
 * What the capture pipeline (pcap reader → decoder → BoundaryTracker) counts. Extends
 * CaptureStats; `packets` counts pcap records handed to the decoder.
 */
export interface BoundaryCaptureStats extends CaptureStats {
  /** SYNs (without ACK) seen toward a VIP, retransmissions and duplicates included.
   *  Zero while clients did connect means the VIP never reached the wire (socket-LB). */
  vipSeenOnWire: number;
  /** connections started (first SYN of a new ISN on a 4-tuple) */
  connectionsStarted: number;
  /** connections emitted (complete or incomplete) */
  connectionsEmitted: number;
  /** connections emitted with `incomplete` set */
  incomplete: number;
  /** connections currently tracked (started, not yet emitted) */
  open: number;
  /** SYNs with the ISN of a tracked connection, seen later than the duplicate window */
  synRetransmits: number;
  /** exact re-sightings of a packet already counted (same SYN within the duplicate
   *  window, e.g. one packet seen on two interfaces with `-i any`), repeated SYN-ACKs */
  duplicates: number;
  /** SYNs with a new ISN on a 4-tuple that was still open */
  portReuse: number;
  /** SYN-ACK/FIN/RST for no tracked connection: started before the capture, or the
   *  tail (second FIN, RST after FIN) of a connection already emitted */
  unmatched: number;
  /** SYN-ACK/FIN/RST stamped earlier than the connection's SYN (ignored) */
  reordered: number;
  /** SYN-ACKs whose ack number does not acknowledge the tracked SYN (ignored) */
  ackMismatch: number;
  /** bytes the pcap reader skipped while resynchronising after a corrupt record header */
  skippedBytes: number;
  /** the last record was cut short by the end of the stream */
  truncatedAtEnd: boolean;
}
