// In-cluster load generator / prober. Client pods run this as a long-lived HTTP control
// server and the runner drives it through the API server's pods/proxy subresource, so
// every interaction is one small JSON request/response: start a run or probe (202 + id),
// poll it (paged results), cancel it. Results stay in memory until evicted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClientConnectionResult, oneConnection, ResponseTracker } from './client.js';
import { epochNsAt, nowEpochNs } from './clock.js';
import { checkTargets, ConfinementError, confineTo } from './confine.js';
import { controlAuthProblem, validateControlToken } from './control-auth.js';
import { MAX_RESPONSE_BYTES, requestFor } from './protocol.js';

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
  probeIntervalMs: 60_000,
  pathLength: 2048,
  /** completed runs, and completed probes, kept for GET */
  retained: 32,
  /** results kept across completed runs; older completed runs are evicted beyond it */
  retainedResults: 1_000_000,
  runningRuns: 16,
  runningProbes: 256,
  pageSize: 100_000,
  bodyBytes: 64 * 1024,
} as const;

const DEFAULT_PAGE = 10_000;
const STREAM_CONNECTIONS_KEPT = 64;
const STREAM_ERRORS_KEPT = 10;
// a refused stream must not spin: one reconnect per stream per this many ms at most
const RECONNECT_DELAY_MS = 20;
// a probe against a black hole would otherwise pile up connectTimeoutMs/intervalMs SYNs
const PROBE_MAX_IN_FLIGHT = 64;

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

export type RunSpec = RequestsRunSpec | StreamRunSpec;

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
  summary: RequestsSummary | StreamSummary;
  /** results held so far; page with ?since=next until next === total and state is done */
  total: number;
  next: number;
  results: LoadgenConnectionResult[] | StreamRecord[];
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

export class ValidationError extends Error {}

// ---------------------------------------------------------------- validation

type Json = Record<string, unknown>;

const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

function int(o: Json, field: string, opts: { max: number; dflt?: number; label?: string }): number | undefined {
  const v = o[field];
  const label = opts.label ?? field;
  if (v === undefined) return opts.dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > opts.max) {
    throw new ValidationError(`${label} must be a positive integer, at most ${opts.max} (got ${show(v)})`);
  }
  return v;
}

function required<T>(v: T | undefined, field: string, hint: string): T {
  if (v === undefined) throw new ValidationError(`${field} is required: ${hint}`);
  return v;
}

function onlyFields(o: Json, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ValidationError(`unknown field "${k}" for ${what}; allowed: ${allowed.join(', ')}`);
  }
}

function host(v: unknown, label: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 255 || /[\s/]/.test(v)) {
    throw new ValidationError(`${label} must be an IP address or DNS name, e.g. "10.96.0.10" (got ${show(v)})`);
  }
  return v;
}

function object(v: unknown, label: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ValidationError(`${label} must be a JSON object (got ${show(v)})`);
  }
  return v as Json;
}

function targets(v: unknown): Target[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > LOADGEN_LIMITS.targets) {
    throw new ValidationError(
      `targets must be an array of 1 to ${LOADGEN_LIMITS.targets} {"host","port"} objects (got ${Array.isArray(v) ? `${v.length} entries` : show(v)})`,
    );
  }
  return v.map((t, i) => {
    const o = object(t, `targets[${i}]`);
    onlyFields(o, ['host', 'port'], `targets[${i}]`);
    return {
      host: host(o.host, `targets[${i}].host`),
      port: required(int(o, 'port', { max: 65535, label: `targets[${i}].port` }), `targets[${i}].port`, 'give a TCP port 1-65535'),
    };
  });
}

function path(o: Json, dflt: string): string {
  const v = o.path ?? dflt;
  // the path goes verbatim into the request line: no whitespace or control characters
  if (typeof v !== 'string' || !v.startsWith('/') || v.length > LOADGEN_LIMITS.pathLength || /[\s\x00-\x1f\x7f]/.test(v)) {
    throw new ValidationError(
      `path must start with "/", have no spaces or control characters and be at most ${LOADGEN_LIMITS.pathLength} characters, e.g. "/bytes/1000" (got ${show(o.path)})`,
    );
  }
  return v;
}

const REQUESTS_FIELDS = ['mode', 'targets', 'connections', 'concurrency', 'path', 'timeoutMs', 'durationMs'] as const;
const STREAM_FIELDS = ['mode', 'targets', 'streams', 'durationMs', 'intervalMs', 'path', 'connectTimeoutMs'] as const;
const PROBE_FIELDS = ['host', 'port', 'timeoutMs', 'intervalMs', 'connectTimeoutMs'] as const;

export function parseRunSpec(body: unknown): RunSpec {
  const o = object(body, 'the request body');
  const L = LOADGEN_LIMITS;
  if (o.mode === 'requests') {
    onlyFields(o, REQUESTS_FIELDS, 'mode "requests"');
    const durationMs = int(o, 'durationMs', { max: L.durationMs });
    const connections = int(o, 'connections', { max: L.connections });
    if (connections === undefined && durationMs === undefined) {
      throw new ValidationError('connections is required unless durationMs is given: give how many connections to make');
    }
    const spec: RequestsRunSpec = {
      mode: 'requests',
      targets: targets(o.targets),
      concurrency: int(o, 'concurrency', { max: L.concurrency, dflt: 1 })!,
      path: path(o, '/bytes/1000'),
      timeoutMs: int(o, 'timeoutMs', { max: L.timeoutMs, dflt: 10_000 })!,
    };
    if (connections !== undefined) spec.connections = connections;
    if (durationMs !== undefined) spec.durationMs = durationMs;
    return spec;
  }
  if (o.mode === 'stream') {
    onlyFields(o, STREAM_FIELDS, 'mode "stream"');
    const durationMs = required(int(o, 'durationMs', { max: L.durationMs }), 'durationMs', 'give how long each stream reads, in ms');
    const intervalMs = int(o, 'intervalMs', { max: L.durationMs, dflt: 1000 })!;
    if (Math.ceil(durationMs / intervalMs) > L.intervals) {
      throw new ValidationError(
        `intervalMs ${intervalMs} gives ${Math.ceil(durationMs / intervalMs)} intervals over durationMs ${durationMs}; at most ${L.intervals}: raise intervalMs`,
      );
    }
    return {
      mode: 'stream',
      targets: targets(o.targets),
      streams: required(int(o, 'streams', { max: L.streams }), 'streams', 'give how many concurrent streams to open'),
      durationMs,
      intervalMs,
      path: path(o, `/bytes/${MAX_RESPONSE_BYTES}`),
      connectTimeoutMs: int(o, 'connectTimeoutMs', { max: L.connectTimeoutMs, dflt: 5000 })!,
    };
  }
  throw new ValidationError(`mode must be "requests" or "stream" (got ${show(o.mode)})`);
}

export function parseProbeSpec(body: unknown): ProbeSpec {
  const o = object(body, 'the request body');
  onlyFields(o, PROBE_FIELDS, 'a probe');
  const L = LOADGEN_LIMITS;
  return {
    host: host(o.host, 'host'),
    port: required(int(o, 'port', { max: 65535 }), 'port', 'give a TCP port 1-65535'),
    timeoutMs: int(o, 'timeoutMs', { max: L.durationMs, dflt: 60_000 })!,
    intervalMs: int(o, 'intervalMs', { max: L.probeIntervalMs, dflt: 10 })!,
    connectTimeoutMs: int(o, 'connectTimeoutMs', { max: L.connectTimeoutMs, dflt: 1000 })!,
  };
}

// ---------------------------------------------------------------- runs

interface Run {
  id: string;
  spec: RunSpec;
  state: RunState;
  startedNs: string;
  endedNs?: string;
  stoppedBy?: StoppedBy;
  results: LoadgenConnectionResult[] | StreamRecord[];
  summary(): RequestsSummary | StreamSummary;
  controller: AbortController;
  settled: Promise<void>;
}

/**
 * Calls fn once hrtime reaches deadline. Node timers run on the loop's cached ms clock
 * and can fire a little early; re-arming keeps "after durationMs" true on hrtime, which
 * is what every recorded timestamp uses.
 */
function at(deadline: bigint, fn: () => void): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - process.hrtime.bigint();
    if (left <= 0n) return fn();
    timer = setTimeout(arm, Math.ceil(Number(left) / 1e6));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

function newController(): AbortController {
  const c = new AbortController();
  // one listener per in-flight connection: up to concurrency/streams of them
  setMaxListeners(0, c.signal);
  return c;
}

function startRequestsRun(id: string, spec: RequestsRunSpec): Run {
  const controller = newController();
  const results: LoadgenConnectionResult[] = [];
  const counts: RequestsSummary = { ok: 0, failed: 0, cancelled: 0 };
  const limit = spec.connections ?? LOADGEN_LIMITS.connections;
  const deadline = spec.durationMs === undefined ? undefined : process.hrtime.bigint() + BigInt(spec.durationMs) * 1_000_000n;
  const run: Run = {
    id,
    spec,
    state: 'running',
    startedNs: String(nowEpochNs()),
    results,
    summary: () => ({ ...counts }),
    controller,
    settled: Promise.resolve(),
  };
  let next = 0;
  const stop = (why: StoppedBy): void => void (run.stoppedBy ??= why);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (controller.signal.aborted) return stop('cancelled');
      if (next >= limit) return stop(spec.connections === undefined ? 'limit' : 'connections');
      if (deadline !== undefined && process.hrtime.bigint() >= deadline) return stop('duration');
      const seq = next++;
      const target = seq % spec.targets.length;
      const t = spec.targets[target]!;
      const r = await oneConnection({ host: t.host, port: t.port, path: spec.path, timeoutMs: spec.timeoutMs }, seq, controller.signal);
      if (r.error === undefined) counts.ok++;
      else if (controller.signal.aborted && r.error === 'cancelled') counts.cancelled++;
      else counts.failed++;
      results.push({ ...r, target });
    }
  };
  run.settled = Promise.all(Array.from({ length: Math.min(spec.concurrency, limit) }, worker)).then(() => undefined);
  return run;
}

function startStreamRun(id: string, spec: StreamRunSpec): Run {
  const controller = newController();
  const signal = controller.signal;
  const t0 = process.hrtime.bigint();
  const nIntervals = Math.ceil(spec.durationMs / spec.intervalMs);
  const intervalNs = BigInt(spec.intervalMs) * 1_000_000n;
  // late bytes (between the deadline and the close) land in the last interval
  const slot = (): number => Math.min(nIntervals - 1, Number((process.hrtime.bigint() - t0) / intervalNs));

  const records: StreamRecord[] = Array.from({ length: spec.streams }, (_, j) => ({
    stream: j,
    target: j % spec.targets.length,
    startNs: String(epochNsAt(t0)),
    bytesReceived: 0,
    intervals: new Array<number>(nIntervals).fill(0),
    reconnects: 0,
    failures: 0,
    errors: [],
    connections: [],
  }));

  const stream = async (rec: StreamRecord): Promise<void> => {
    const target = spec.targets[rec.target]!;
    const onBytes = (n: number): void => {
      rec.bytesReceived += n;
      rec.intervals[slot()]! += n;
    };
    const onStart = (c: StreamConnection): void => {
      if (rec.connections.length < STREAM_CONNECTIONS_KEPT) rec.connections.push(c);
    };
    const startHr = process.hrtime.bigint();
    rec.startNs = String(epochNsAt(startHr));
    while (!signal.aborted) {
      const c = await streamConnection(target, spec, signal, onBytes, onStart);
      if (rec.localPort === undefined && c.localPort !== undefined) {
        rec.localAddr = c.localAddr;
        rec.localPort = c.localPort;
        rec.connectSeconds = c.connectSeconds;
      }
      if (c.end === 'failed') {
        rec.failures++;
        rec.error = c.error;
        if (rec.errors.length < STREAM_ERRORS_KEPT) rec.errors.push(c.error!);
      }
      if (signal.aborted) break;
      await sleep(RECONNECT_DELAY_MS, undefined, { signal }).catch(() => undefined);
      if (!signal.aborted) rec.reconnects++;
    }
    rec.seconds = Number(process.hrtime.bigint() - startHr) / 1e9;
  };

  const timer = at(t0 + BigInt(spec.durationMs) * 1_000_000n, () => {
    run.stoppedBy ??= 'duration';
    controller.abort();
  });
  const run: Run = {
    id,
    spec,
    state: 'running',
    startedNs: String(epochNsAt(t0)),
    results: records,
    summary: () => {
      const s: StreamSummary = { ok: 0, failed: 0, reconnects: 0, failures: 0, bytesReceived: 0 };
      for (const r of records) {
        if (r.failures) s.failed++;
        else s.ok++;
        s.reconnects += r.reconnects;
        s.failures += r.failures;
        s.bytesReceived += r.bytesReceived;
      }
      return s;
    },
    controller,
    settled: Promise.all(records.map(stream)).then(() => timer.clear()),
  };
  return run;
}

/** One connection of a stream: read until the run stops, the body ends, or it fails. */
function streamConnection(
  target: Target,
  spec: StreamRunSpec,
  signal: AbortSignal,
  onBytes: (n: number) => void,
  onStart: (c: StreamConnection) => void,
): Promise<StreamConnection> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const c: StreamConnection = { startNs: String(epochNsAt(t0)), bytesReceived: 0 };
    onStart(c);
    const sock = net.connect({ host: target.host, port: target.port, noDelay: true });
    let stopped = false;
    let complete = false;
    let error: string | undefined;
    let statusLine = '';
    const body = new ResponseTracker();
    const connectTimer = setTimeout(
      () => sock.destroy(new Error(`connect timed out after ${spec.connectTimeoutMs} ms`)),
      spec.connectTimeoutMs,
    );
    // The client closes first. With the body still arriving, the kernel answers that
    // close with a RST rather than a FIN; either way the server side does not linger.
    const onAbort = (): void => {
      stopped = true;
      sock.destroy();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      c.connectSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      c.localAddr = sock.localAddress;
      c.localPort = sock.localPort;
      sock.write(requestFor(spec.path, target.host));
    });
    sock.on('data', (d: Buffer) => {
      c.bytesReceived += d.length;
      onBytes(d.length);
      if (!statusLine.includes('\r\n')) {
        statusLine += d.subarray(0, 256).toString('latin1');
        const m = /^HTTP\/1\.\d (\d{3})/.exec(statusLine);
        if (m && m[1] !== '200') return void sock.destroy(new Error(`HTTP ${m[1]} for ${spec.path}`));
        if (statusLine.includes('\r\n') && !m) return void sock.destroy(new Error('not an HTTP response'));
      }
      if (body.add(d)) {
        complete = true;
        sock.destroy();
      }
    });
    sock.once('end', () => sock.destroy());
    sock.once('error', (e) => {
      error = e.message;
    });
    sock.once('close', () => {
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      c.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (error !== undefined) {
        c.end = 'failed';
        c.error = error;
      } else if (stopped) c.end = 'stopped';
      else if (complete) c.end = 'complete';
      else {
        c.end = 'failed';
        c.error = `server closed the connection after ${c.bytesReceived} bytes, before the response was complete`;
      }
      resolve(c);
    });
  });
}

// ---------------------------------------------------------------- probes

interface Probe {
  view: ProbeView;
  cancel(): void;
}

function startProbe(id: string, spec: ProbeSpec, onDone: () => void): Probe {
  const t0 = process.hrtime.bigint();
  const view: ProbeView = { id, ...spec, state: 'running', startedNs: String(epochNsAt(t0)), attempts: 0 };
  const inFlight = new Set<net.Socket>();
  const finish = (state: ProbeState): void => {
    if (view.state !== 'running') return;
    view.state = state;
    view.endedNs = String(nowEpochNs());
    clearInterval(ticker);
    deadline.clear();
    for (const s of inFlight) s.destroy();
    onDone();
  };
  // Attempts overlap (a new one every intervalMs, each bounded by connectTimeoutMs), so a
  // SYN lost to a black hole does not blind the probe for a whole connect timeout.
  const attempt = (): void => {
    if (view.state !== 'running' || inFlight.size >= PROBE_MAX_IN_FLIGHT) return;
    view.attempts++;
    const a0 = process.hrtime.bigint();
    view.firstAttemptNs ??= String(epochNsAt(a0));
    const sock = net.connect({ host: spec.host, port: spec.port });
    inFlight.add(sock);
    const timer = setTimeout(() => sock.destroy(new Error(`connect timed out after ${spec.connectTimeoutMs} ms`)), spec.connectTimeoutMs);
    sock.once('connect', () => {
      const t = process.hrtime.bigint();
      if (view.state === 'running') {
        view.firstSuccessNs = String(epochNsAt(t));
        view.connectSeconds = Number(t - a0) / 1e9;
        finish('succeeded');
      }
      sock.destroy();
    });
    sock.once('error', (e) => {
      if (view.state === 'running') view.lastError = e.message;
    });
    sock.once('close', () => {
      clearTimeout(timer);
      inFlight.delete(sock);
    });
  };
  const ticker = setInterval(attempt, spec.intervalMs);
  const deadline = at(t0 + BigInt(spec.timeoutMs) * 1_000_000n, () => finish('timedout'));
  attempt();
  return { view, cancel: () => finish('cancelled') };
}

// ---------------------------------------------------------------- HTTP

export interface LoadgenHandle {
  port: number;
  url: string;
  close(): Promise<void>;
}

const ENDPOINTS =
  'GET /healthz, GET /time, POST /runs, GET /runs/:id[?since=K&limit=N], DELETE /runs/:id, POST /probes, GET /probes/:id, DELETE /probes/:id';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    // over the limit: answer 413 now and let the rest of the body drain unread
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > LOADGEN_LIMITS.bodyBytes) reject(new HttpError(413, `request body over ${LOADGEN_LIMITS.bodyBytes} bytes`));
      else parts.push(d);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
      } catch (e) {
        reject(new HttpError(400, `the request body must be JSON: ${(e as Error).message}`));
      }
    });
  });
}

function pageParam(url: URL, name: string, dflt: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > max) throw new HttpError(400, `${name} must be an integer from 0 to ${max} (got "${raw}")`);
  return n;
}

/** The request's JSON body through a validator; a ValidationError becomes a 400. */
async function parseBody<T>(req: http.IncomingMessage, parse: (body: unknown) => T): Promise<T> {
  try {
    return parse(await readJson(req));
  } catch (e) {
    if (e instanceof ValidationError) throw new HttpError(400, e.message);
    throw e;
  }
}

export interface LoadgenOptions {
  port: number;
  host?: string;
  /** the per-fleet secret every request but /healthz must carry (control-auth.ts) */
  token: string;
  /** the only ranges it connects to: the cluster's Service and pod CIDRs (confine.ts) */
  allow: readonly string[];
}

export async function startLoadgen(opts: LoadgenOptions): Promise<LoadgenHandle> {
  const token = validateControlToken(opts.token);
  const confinement = confineTo(opts.allow);
  const confined = (spec: RunSpec | ProbeSpec): void => {
    try {
      checkTargets(confinement, spec);
    } catch (e) {
      throw e instanceof ConfinementError ? new HttpError(403, e.message) : e;
    }
  };
  const runs = new Map<string, Run>();
  const probes = new Map<string, Probe>();
  let runSeq = 0;
  let probeSeq = 0;

  // Map order is creation order: the oldest completed entries go first.
  const evict = (): void => {
    let completedRuns = 0;
    let results = 0;
    for (const r of runs.values()) {
      if (r.state === 'done') {
        completedRuns++;
        results += r.results.length;
      }
    }
    for (const [id, r] of runs) {
      if (completedRuns <= 1) break;
      if (r.state !== 'done') continue;
      if (completedRuns <= LOADGEN_LIMITS.retained && results <= LOADGEN_LIMITS.retainedResults) break;
      runs.delete(id);
      completedRuns--;
      results -= r.results.length;
    }
    let completedProbes = [...probes.values()].filter((p) => p.view.state !== 'running').length;
    for (const [id, p] of probes) {
      if (completedProbes <= LOADGEN_LIMITS.retained) break;
      if (p.view.state === 'running') continue;
      probes.delete(id);
      completedProbes--;
    }
  };

  const runView = (r: Run, since: number, limit: number): RunView => {
    const results = r.results.slice(since, since + limit) as RunView['results'];
    const v: RunView = {
      id: r.id,
      mode: r.spec.mode,
      state: r.state,
      spec: r.spec,
      startedNs: r.startedNs,
      summary: r.summary(),
      total: r.results.length,
      next: Math.min(since, r.results.length) + results.length,
      results,
    };
    if (r.endedNs !== undefined) v.endedNs = r.endedNs;
    if (r.stoppedBy !== undefined) v.stoppedBy = r.stoppedBy;
    return v;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://loadgen');
    const denied = controlAuthProblem(req, url.pathname, token);
    if (denied) throw new HttpError(401, denied);
    const method = req.method ?? 'GET';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpError(405, `${method} ${url.pathname}: use ${methods.join(' or ')}`);
    };
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (p === '/healthz') {
      allow('GET');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (p === '/time') {
      allow('GET');
      json(200, { epochNs: String(nowEpochNs()) });
    } else if (p === '/runs') {
      allow('POST');
      const spec = await parseBody(req, parseRunSpec);
      confined(spec);
      const running = [...runs.values()].filter((r) => r.state === 'running').length;
      if (running >= LOADGEN_LIMITS.runningRuns) {
        throw new HttpError(429, `${running} runs are running (at most ${LOADGEN_LIMITS.runningRuns}): wait for one or DELETE it`);
      }
      const id = `r${++runSeq}`;
      const run = spec.mode === 'requests' ? startRequestsRun(id, spec) : startStreamRun(id, spec);
      runs.set(id, run);
      void run.settled.then(() => {
        run.state = 'done';
        run.endedNs = String(nowEpochNs());
        evict();
      });
      json(202, { id });
    } else if ((m = /^\/runs\/([^/]+)$/.exec(p))) {
      allow('GET', 'DELETE');
      const run = runs.get(m[1]!);
      if (!run) throw new HttpError(404, `no run "${m[1]}" (unknown, or evicted: only the last ${LOADGEN_LIMITS.retained} completed runs are kept)`);
      if (method === 'DELETE') {
        if (run.state === 'running') run.stoppedBy ??= 'cancelled';
        run.controller.abort();
        await run.settled;
        // settled's own .then (state done) ran first: it was attached before this await
        const { results: _r, next: _n, ...rest } = runView(run, 0, 0);
        json(200, rest);
      } else {
        const since = pageParam(url, 'since', 0, Number.MAX_SAFE_INTEGER);
        const limit = pageParam(url, 'limit', DEFAULT_PAGE, LOADGEN_LIMITS.pageSize);
        json(200, runView(run, since, limit));
      }
    } else if (p === '/probes') {
      allow('POST');
      const spec = await parseBody(req, parseProbeSpec);
      confined(spec);
      const running = [...probes.values()].filter((x) => x.view.state === 'running').length;
      if (running >= LOADGEN_LIMITS.runningProbes) {
        throw new HttpError(429, `${running} probes are running (at most ${LOADGEN_LIMITS.runningProbes}): wait for one or DELETE it`);
      }
      const id = `p${++probeSeq}`;
      probes.set(id, startProbe(id, spec, evict));
      json(202, { id });
    } else if ((m = /^\/probes\/([^/]+)$/.exec(p))) {
      allow('GET', 'DELETE');
      const probe = probes.get(m[1]!);
      if (!probe) throw new HttpError(404, `no probe "${m[1]}" (unknown, or evicted: only the last ${LOADGEN_LIMITS.retained} completed probes are kept)`);
      if (method === 'DELETE') probe.cancel();
      json(200, probe.view);
    } else {
      throw new HttpError(404, `no ${method} ${p}; endpoints: ${ENDPOINTS}`);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (e as Error).message }) + '\n');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    port: addr.port,
    url: `http://${shown}:${addr.port}`,
    close: async () => {
      for (const p of probes.values()) p.cancel();
      for (const r of runs.values()) r.controller.abort();
      await Promise.all([...runs.values()].map((r) => r.settled));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
