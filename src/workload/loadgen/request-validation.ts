// Validation of POST /runs and POST /probes bodies: JSON Schemas checked by ajv (defaults
// filled in), then the two rules a schema cannot say clearly (connections or durationMs;
// the number of stream intervals). Every error names the field and what to give instead,
// e.g. `targets[0].port must be a positive integer, at most 65535 (got 70000)`.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MAX_RESPONSE_BYTES } from '../protocol.js';
import { LOADGEN_LIMITS as L } from './limits.js';
import type { HttpRunSpec, ProbeSpec, RequestsRunSpec, RunSpec, StreamRunSpec, UdpRunSpec } from './types.js';

export class ValidationError extends Error {}

/**
 * Schema annotations for messages: `must` completes "<field> must …"; `whenMissing` is the
 * fix for a required field left out (without it, the `must` text is used).
 */
interface Annotated {
  must?: string;
  whenMissing?: string;
}

type Schema = Record<string, unknown> & Annotated;

const positiveInt = (max: number, dflt?: number): Schema => ({
  type: 'integer',
  minimum: 1,
  maximum: max,
  must: `be a positive integer, at most ${max}`,
  ...(dflt !== undefined ? { default: dflt } : {}),
});

const hostSchema: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  // goes into a connect() call and a Host header: no whitespace, no path
  pattern: '^[^\\s/]+$',
  must: 'be an IP address or DNS name, e.g. "10.96.0.10"',
};

const portSchema: Schema = { ...positiveInt(65535), whenMissing: 'give a TCP port 1-65535' };

const targetsSchema: Schema = {
  type: 'array',
  minItems: 1,
  maxItems: L.targets,
  items: {
    type: 'object',
    properties: { host: hostSchema, port: portSchema },
    required: ['host', 'port'],
    additionalProperties: false,
    must: 'be a {"host","port"} object',
  },
  must: `be an array of 1 to ${L.targets} {"host","port"} objects`,
};

const pathSchema = (dflt: string): Schema => ({
  type: 'string',
  // the path goes verbatim into the request line: no whitespace or control characters
  pattern: '^/[^\\s\\x00-\\x1f\\x7f]*$',
  maxLength: L.pathLength,
  default: dflt,
  must: `start with "/", have no spaces or control characters and be at most ${L.pathLength} characters, e.g. "/bytes/1000"`,
});

const modeSchema: Schema = {
  type: 'object',
  properties: { mode: { enum: ['requests', 'stream', 'http', 'udp'], must: 'be "requests", "stream", "http" or "udp"' } },
  required: ['mode'],
  must: 'be a JSON object',
};

const requestsSchema: Schema = {
  type: 'object',
  properties: {
    mode: { const: 'requests' },
    targets: targetsSchema,
    connections: positiveInt(L.connections),
    concurrency: positiveInt(L.concurrency, 1),
    path: pathSchema('/bytes/1000'),
    timeoutMs: positiveInt(L.timeoutMs, 10_000),
    durationMs: positiveInt(L.durationMs),
  },
  required: ['mode', 'targets'],
  additionalProperties: false,
  must: 'be a JSON object',
};

const streamSchema: Schema = {
  type: 'object',
  properties: {
    mode: { const: 'stream' },
    targets: targetsSchema,
    streams: { ...positiveInt(L.streams), whenMissing: 'give how many concurrent streams to open' },
    durationMs: { ...positiveInt(L.durationMs), whenMissing: 'give how long each stream reads, in ms' },
    intervalMs: positiveInt(L.durationMs, 1000),
    path: pathSchema(`/bytes/${MAX_RESPONSE_BYTES}`),
    connectTimeoutMs: positiveInt(L.connectTimeoutMs, 5000),
  },
  required: ['mode', 'targets', 'streams', 'durationMs'],
  additionalProperties: false,
  must: 'be a JSON object',
};

const httpSchema: Schema = {
  type: 'object',
  properties: {
    mode: { const: 'http' },
    targets: { ...targetsSchema, maxItems: 1, must: 'be an array of one {"host","port"} object' },
    connections: positiveInt(L.concurrency, 1),
    keepAlive: { type: 'boolean', default: true, must: 'be true or false' },
    ratePerSecond: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: L.ratePerSecond,
      must: `be a number of requests per second above 0 and at most ${L.ratePerSecond} (what one loadgen keeps on schedule); spread a higher rate over more loadgens`,
    },
    durationMs: { ...positiveInt(L.durationMs), whenMissing: 'give how long the run sends requests, in ms' },
    path: pathSchema('/bytes/100'),
    timeoutMs: positiveInt(L.timeoutMs, 10_000),
  },
  required: ['mode', 'targets', 'durationMs'],
  additionalProperties: false,
  must: 'be a JSON object',
};

const udpSchema: Schema = {
  type: 'object',
  properties: {
    mode: { const: 'udp' },
    targets: targetsSchema,
    exchanges: { ...positiveInt(L.udpExchanges), whenMissing: 'give how many request/response exchanges to make' },
    rate: { ...positiveInt(L.udpRate), whenMissing: 'give the exchanges per second' },
    concurrency: positiveInt(L.concurrency, 256),
    timeoutMs: positiveInt(L.udpTimeoutMs, 1000),
    payloadBytes: positiveInt(L.udpPayloadBytes, 32),
    portFirst: { type: 'integer', minimum: 1024, maximum: 65535, default: 20000, must: 'be a port from 1024 to 65535' },
    portCount: { type: 'integer', minimum: 1, maximum: 64512, default: 40000, must: 'be a positive integer, at most 64512' },
  },
  required: ['mode', 'targets', 'exchanges', 'rate'],
  additionalProperties: false,
  must: 'be a JSON object',
};

const probeSchema: Schema = {
  type: 'object',
  properties: {
    host: hostSchema,
    port: portSchema,
    timeoutMs: positiveInt(L.durationMs, 60_000),
    intervalMs: positiveInt(L.probeIntervalMs, 10),
    connectTimeoutMs: positiveInt(L.connectTimeoutMs, 1000),
  },
  required: ['host', 'port'],
  additionalProperties: false,
  must: 'be a JSON object',
};

// verbose: errors carry their schema, whose `must` and `whenMissing` make the message
const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, verbose: true });
ajv.addVocabulary(['must', 'whenMissing']);
const validators = {
  mode: ajv.compile(modeSchema),
  requests: ajv.compile<RequestsRunSpec>(requestsSchema),
  stream: ajv.compile<StreamRunSpec>(streamSchema),
  http: ajv.compile<HttpRunSpec>(httpSchema),
  udp: ajv.compile<UdpRunSpec>(udpSchema),
  probe: ajv.compile<ProbeSpec>(probeSchema),
};

const SHOWN_CHARS = 80;
const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
};

/** `/targets/0/port` → `targets[0].port`; the body itself is "the request body". */
function label(pointer: string): string {
  if (pointer === '') return 'the request body';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

function valueAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const p of pointer.split('/').slice(1)) v = (v as Record<string, unknown> | undefined)?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/** The first ajv error as a sentence that names the field and the fix. */
function explain(e: ErrorObject, body: unknown, what: string): string {
  const schema = e.parentSchema as Annotated | undefined;
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const field = label(`${e.instancePath}/${missing}`);
    const prop = ((e.parentSchema as { properties?: Record<string, Annotated> }).properties ?? {})[missing];
    if (prop?.whenMissing !== undefined) return `${field} is required: ${prop.whenMissing}`;
    return `${field} must ${prop?.must ?? 'be given'} (got nothing)`;
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
    const where = e.instancePath === '' ? what : label(e.instancePath);
    return `unknown field "${extra}" for ${where}; allowed: ${allowed.join(', ')}`;
  }
  const field = label(e.instancePath);
  const got = show(valueAt(body, e.instancePath));
  return `${field} must ${schema?.must ?? e.message ?? 'be valid'} (got ${got})`;
}

function check<T>(validate: ValidateFunction<T>, body: unknown, what: string): T {
  if (!validate(body)) throw new ValidationError(explain(validate.errors![0]!, body, what));
  return body;
}

/** A copy: ajv writes the defaults into what it validates. */
const copy = (body: unknown): unknown => (typeof body === 'object' && body !== null ? structuredClone(body) : body);

export function parseRunSpec(input: unknown): RunSpec {
  const body = copy(input);
  const { mode } = check(validators.mode, body, 'the request body') as { mode: RunSpec['mode'] };
  if (mode === 'requests') {
    const spec = check(validators.requests, body, 'mode "requests"');
    if (spec.connections === undefined && spec.durationMs === undefined) {
      throw new ValidationError('connections is required unless durationMs is given: give how many connections to make');
    }
    return spec;
  }
  if (mode === 'http') {
    const spec = check(validators.http, body, 'mode "http"');
    if (spec.ratePerSecond !== undefined && !spec.keepAlive) {
      throw new ValidationError('keepAlive must be true when ratePerSecond is given: the open loop keeps wrk2\'s schedule on kept-alive connections');
    }
    const due = spec.ratePerSecond === undefined ? 0 : Math.ceil((spec.ratePerSecond * spec.durationMs) / 1000);
    if (due > L.connections) {
      throw new ValidationError(`ratePerSecond ${spec.ratePerSecond} over durationMs ${spec.durationMs} makes ${due} requests; at most ${L.connections}: shorten durationMs`);
    }
    return spec;
  }
  if (mode === 'udp') {
    const spec = check(validators.udp, body, 'mode "udp"');
    if (spec.portFirst + spec.portCount - 1 > 65535) {
      throw new ValidationError(`portFirst ${spec.portFirst} + portCount ${spec.portCount} runs past port 65535: lower portCount to at most ${65536 - spec.portFirst}`);
    }
    return spec;
  }
  const spec = check(validators.stream, body, 'mode "stream"');
  const intervals = Math.ceil(spec.durationMs / spec.intervalMs);
  if (intervals > L.intervals) {
    throw new ValidationError(
      `intervalMs ${spec.intervalMs} gives ${intervals} intervals over durationMs ${spec.durationMs}; at most ${L.intervals}: raise intervalMs`,
    );
  }
  return spec;
}

export function parseProbeSpec(input: unknown): ProbeSpec {
  return check(validators.probe, copy(input), 'a probe');
}
