// In-cluster load generator / prober. Client pods run this as a long-lived HTTP control
// server and the runner drives it through the API server's pods/proxy subresource, so
// every interaction is one small JSON request/response: start a run or probe (202 + id),
// poll it (paged results), cancel it. Results stay in memory until evicted.
//
// The parts, in src/workload/loadgen/:
//   http-api.ts            the control API (startLoadgen)
//   request-validation.ts  run and probe specs checked against JSON Schemas (ajv)
//   requests-run.ts        "requests" runs: short connections, `concurrency` in flight
//   stream-run.ts          "stream" runs: long downloads, bytes per interval
//   http-run.ts            "http" runs: requests closed loop (keep-alive or not) or open loop (wrk2's schedule)
//   udp-run.ts             "udp" runs: request/response datagrams on an open-loop schedule
//   probe.ts               time until a TCP handshake first succeeds
//   run-registry.ts        runs and probes in memory, views and eviction
//   limits.ts, types.ts, timing.ts
export { startLoadgen, type LoadgenHandle, type LoadgenOptions } from './loadgen/http-api.js';
export { LOADGEN_LIMITS } from './loadgen/limits.js';
export { parseProbeSpec, parseRunSpec, ValidationError } from './loadgen/request-validation.js';
export { exchangeLost } from './loadgen/udp-run.js';
export type {
  HttpRequestTuple,
  HttpRunSpec,
  HttpSummary,
  LoadgenConnectionResult,
  ProbeSpec,
  ProbeState,
  ProbeView,
  RequestsRunSpec,
  RequestsSummary,
  RunSpec,
  RunState,
  RunView,
  StoppedBy,
  StreamConnection,
  StreamRecord,
  StreamRunSpec,
  StreamSummary,
  Target,
  UdpExchangeResult,
  UdpRunSpec,
  UdpSummary,
} from './loadgen/types.js';
