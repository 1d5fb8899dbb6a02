// One wall clock for every workload process: epoch ns anchored once to Date.now() and then
// advanced by hrtime, so timestamps are monotonic within a process and comparable with
// the runner's (which estimates the offset NTP-style from loadgen's GET /time).
const epochBaseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Epoch ns for a process.hrtime.bigint() reading. */
export const epochNsAt = (hr: bigint): bigint => epochBaseNs + hr;
export const nowEpochNs = (): bigint => epochBaseNs + process.hrtime.bigint();
