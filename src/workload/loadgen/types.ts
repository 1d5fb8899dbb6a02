// What the loadgen's HTTP API takes (run and probe specs) and answers (run and probe views).
import type { ClientConnectionResult } from '../client.js';

export interface Target {
  host: string;
  port: number;
}

export interface RequestsRunSpec {
  mode: 'requests';
  targets: Target[];
  /** upper bound; required unless durationMs is given */
  connections?: number;
  concurrency: number;
  path: string;
  timeoutMs: number;
  /** keep starting connections until this much time has passed */
  durationMs?: number;
}

export interface StreamRunSpec {
  mode: 'stream';
  targets: Target[];
  streams: number;
  durationMs: number;
  intervalMs: number;
  path: string;
  connectTimeoutMs: number;
}

/**
 * HTTP requests to one target on `connections` connections for durationMs. Closed loop
 * (no ratePerSecond): each connection sends its next request as soon as the previous
 * response is in, on one kept-alive connection or a new connection per request. Open loop
 * (ratePerSecond): requests are due on wrk2's schedule (request j at j / rate on
 * connection j mod connections), always on kept-alive connections, and latency counts
 * from the due time (src/sli/open-loop.ts).
 */
export interface HttpRunSpec {
  mode: 'http';
  targets: [Target];
  connections: number;
  keepAlive: boolean;
  ratePerSecond?: number;
  durationMs: number;
  path: string;
  timeoutMs: number;
}

/**
 * One request of an http run: [dueUs, sentUs, freeUs, doneUs, connection], µs since the
 * run's start (RequestRecord of src/sli/open-loop.ts); doneUs is -1 when it failed.
 * Tuples, because a run holds tens of thousands and they cross pods/proxy as JSON.
 */
export type HttpRequestTuple = [number, number, number, number, number];

export interface HttpSummary {
  ok: number;
  failed: number;
  /** due within durationMs but not sent before the run's deadline (open loop) */
  unsent: number;
  /** the first 10 errors */
  errors: string[];
}

/**
 * UDP request/response exchanges (the shape of DNS): exchange i is due at start + i/rate
 * (open loop: a slow reply does not delay the next request), sends one datagram of
 * payloadBytes from its own source port and waits up to timeoutMs for one reply.
 */
export interface UdpRunSpec {
  mode: 'udp';
  targets: Target[];
  /** exchanges this client makes */
  exchanges: number;
  /** exchanges per second (the schedule) */
  rate: number;
  /** at most this many exchanges wait for their reply at once; beyond it the schedule slips (recorded as lateSeconds) */
  concurrency: number;
  /** without a reply by then the exchange is lost */
  timeoutMs: number;
  payloadBytes: number;
  /**
   * source ports are taken in turn from [portFirst, portFirst + portCount), continuing
   * across runs: one conntrack entry per exchange, and a port comes back only after the
   * others were used (conntrack keeps a UDP entry 30 s after its last datagram)
   */
  portFirst: number;
  portCount: number;
}

export type RunSpec = RequestsRunSpec | StreamRunSpec | HttpRunSpec | UdpRunSpec;

/** One UDP exchange as the client saw it. */
export interface UdpExchangeResult {
  seq: number;
  target: number;
  localPort?: number;
  /** epoch ns when the request was handed to the kernel */
  sentNs?: string;
  /** send → reply, seconds (hrtime); absent without a reply (a reply read after the timeout keeps it, with error 'timeout') */
  rttSeconds?: number;
  /** how late the request went out against its schedule, seconds */
  lateSeconds: number;
  /** 'timeout' (no reply within timeoutMs: lost), or the socket error */
  error?: string;
}

export interface UdpSummary {
  ok: number;
  /** no reply within timeoutMs */
  lost: number;
  /** bind/send/ICMP errors */
  failed: number;
  cancelled: number;
  /** largest lateness against the schedule, seconds */
  maxLateSeconds: number;
}

export interface ProbeSpec {
  host: string;
  port: number;
  timeoutMs: number;
  intervalMs: number;
  connectTimeoutMs: number;
}

export type LoadgenConnectionResult = ClientConnectionResult & { target: number };

/** One TCP connection of a stream. */
export interface StreamConnection {
  localAddr?: string;
  localPort?: number;
  startNs: string;
  connectSeconds?: number;
  bytesReceived: number;
  seconds?: number;
  /** stopped: closed by the client at the end of the run; complete: the body ended */
  end?: 'stopped' | 'complete' | 'failed';
  error?: string;
}

export interface StreamRecord {
  stream: number;
  target: number;
  /** of the first connection that connected */
  localAddr?: string;
  localPort?: number;
  /** epoch ns of the first connect() */
  startNs: string;
  connectSeconds?: number;
  /** over all connections of the stream, headers included */
  bytesReceived: number;
  /** from startNs until the stream stopped */
  seconds?: number;
  /** bytes received per intervalMs since the run's start; same grid for every stream */
  intervals: number[];
  reconnects: number;
  failures: number;
  /** the first 10 failures */
  errors: string[];
  /** the latest failure */
  error?: string;
  /** the first 64 connections */
  connections: StreamConnection[];
}

export type RunState = 'running' | 'done';
export type StoppedBy = 'connections' | 'duration' | 'cancelled' | 'limit' | 'exchanges';

export interface RunView {
  id: string;
  mode: RunSpec['mode'];
  state: RunState;
  spec: RunSpec;
  startedNs: string;
  endedNs?: string;
  /** why no more connections were started (set once known) */
  stoppedBy?: StoppedBy;
  summary: RequestsSummary | StreamSummary | HttpSummary | UdpSummary;
  /** results held so far; page with ?since=next until next === total and state is done */
  total: number;
  next: number;
  results: LoadgenConnectionResult[] | StreamRecord[] | HttpRequestTuple[] | UdpExchangeResult[];
}

export interface RequestsSummary {
  ok: number;
  failed: number;
  /** in flight when DELETE came; neither ok nor failed */
  cancelled: number;
}

export interface StreamSummary {
  /** streams without a failure */
  ok: number;
  /** streams with at least one failure */
  failed: number;
  reconnects: number;
  failures: number;
  bytesReceived: number;
}

export type ProbeState = 'running' | 'succeeded' | 'timedout' | 'cancelled';

export interface ProbeView extends ProbeSpec {
  id: string;
  state: ProbeState;
  startedNs: string;
  endedNs?: string;
  firstAttemptNs?: string;
  /** epoch ns when the successful handshake completed */
  firstSuccessNs?: string;
  /** connect time of the successful attempt */
  connectSeconds?: number;
  attempts: number;
  lastError?: string;
}

/** A run in progress or done, as the engines create it and the HTTP API serves it. */
export interface Run {
  id: string;
  spec: RunSpec;
  state: RunState;
  startedNs: string;
  endedNs?: string;
  stoppedBy?: StoppedBy;
  results: LoadgenConnectionResult[] | StreamRecord[] | HttpRequestTuple[] | UdpExchangeResult[];
  summary(): RequestsSummary | StreamSummary | HttpSummary | UdpSummary;
  controller: AbortController;
  settled: Promise<void>;
}

export interface Probe {
  view: ProbeView;
  cancel(): void;
}
