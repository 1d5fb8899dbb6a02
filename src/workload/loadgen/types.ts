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

export type RunSpec = RequestsRunSpec | StreamRunSpec | HttpRunSpec;

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
export type StoppedBy = 'connections' | 'duration' | 'cancelled' | 'limit';

export interface RunView {
  id: string;
  mode: RunSpec['mode'];
  state: RunState;
  spec: RunSpec;
  startedNs: string;
  endedNs?: string;
  /** why no more connections were started (set once known) */
  stoppedBy?: StoppedBy;
  summary: RequestsSummary | StreamSummary | HttpSummary;
  /** results held so far; page with ?since=next until next === total and state is done */
  total: number;
  next: number;
  results: LoadgenConnectionResult[] | StreamRecord[] | HttpRequestTuple[];
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
  results: LoadgenConnectionResult[] | StreamRecord[] | HttpRequestTuple[];
  summary(): RequestsSummary | StreamSummary | HttpSummary;
  controller: AbortController;
  settled: Promise<void>;
}

export interface Probe {
  view: ProbeView;
  cancel(): void;
}
