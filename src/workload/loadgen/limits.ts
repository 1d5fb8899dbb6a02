// Bounds of what one loadgen accepts and keeps: every request is checked against them
// (request-validation.ts), so a typo cannot open a million sockets or hold a run forever.
export const LOADGEN_LIMITS = {
  targets: 64,
  concurrency: 1000,
  streams: 1000,
  /** per run, also the implicit bound of a durationMs run without connections */
  connections: 500_000,
  durationMs: 3_600_000,
  timeoutMs: 600_000,
  /** intervals per stream (durationMs / intervalMs) */
  intervals: 100_000,
  connectTimeoutMs: 60_000,
  /** open-loop arrival rate of one http run; above it one Node.js event loop cannot keep
   *  wrk2's schedule (the run would report its lag and be inconclusive anyway) */
  ratePerSecond: 20_000,
  probeIntervalMs: 60_000,
  pathLength: 2048,
  /** UDP exchanges per second of one run */
  udpRate: 20_000,
  /** UDP exchanges per run: each gets its own source port until the range wraps */
  udpExchanges: 500_000,
  /** below conntrack's 30 s UDP timeout, so a late reply still meets the request's entry */
  udpTimeoutMs: 25_000,
  /** one datagram without IP fragmentation on a 1500-byte MTU */
  udpPayloadBytes: 1400,
  /** completed runs, and completed probes, kept for GET */
  retained: 32,
  /** results kept across completed runs; older completed runs are evicted beyond it */
  retainedResults: 1_000_000,
  runningRuns: 16,
  runningProbes: 256,
  pageSize: 100_000,
  bodyBytes: 64 * 1024,
} as const;
