// Request validation of the loadgen (src/workload/loadgen/request-validation.ts): the JSON
// Schemas (ajv) fill the defaults, and every error names the bad field and the fix.
import { describe, expect, it } from 'vitest';
import { LOADGEN_LIMITS, parseProbeSpec, parseRunSpec, ValidationError } from '../../../src/workload/loadgen.js';

const T = { host: '10.96.0.10', port: 80 };

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error('no ValidationError');
}

describe('parseRunSpec', () => {
  it('fills the defaults of a requests run and leaves the input untouched', () => {
    const body = { mode: 'requests', targets: [T], connections: 5 };
    expect(parseRunSpec(body)).toEqual({ mode: 'requests', targets: [T], connections: 5, concurrency: 1, path: '/bytes/1000', timeoutMs: 10_000 });
    expect(body).toEqual({ mode: 'requests', targets: [T], connections: 5 });
  });

  it('fills the defaults of an http run (closed loop, kept-alive, one connection)', () => {
    expect(parseRunSpec({ mode: 'http', targets: [T], durationMs: 1000 })).toEqual({ mode: 'http', targets: [T], durationMs: 1000, connections: 1, keepAlive: true, path: '/bytes/100', timeoutMs: 10_000 });
  });

  it('fills the defaults of a stream run', () => {
    expect(parseRunSpec({ mode: 'stream', targets: [T], streams: 2, durationMs: 3000 })).toMatchObject({
      intervalMs: 1000,
      connectTimeoutMs: 5000,
      path: expect.stringMatching(/^\/bytes\/\d+$/),
    });
  });

  // [body, the field named, the fix the message gives]
  it.each([
    [{ targets: [T] }, 'mode', 'must be "requests", "stream", "http" or "udp" (got nothing)'],
    [{ mode: 'requests', targets: [T], connections: 1.5 }, 'connections', `must be a positive integer, at most ${LOADGEN_LIMITS.connections} (got 1.5)`],
    [{ mode: 'requests', targets: [T], connections: 1, timeoutMs: 0 }, 'timeoutMs', `must be a positive integer, at most ${LOADGEN_LIMITS.timeoutMs} (got 0)`],
    [{ mode: 'requests', connections: 1 }, 'targets', `must be an array of 1 to ${LOADGEN_LIMITS.targets} {"host","port"} objects (got nothing)`],
    [{ mode: 'requests', targets: 'x', connections: 1 }, 'targets', 'must be an array of 1 to 64'],
    [{ mode: 'requests', targets: Array(65).fill(T), connections: 1 }, 'targets', 'must be an array of 1 to 64 {"host","port"} objects (got [{"host"'],
    [{ mode: 'requests', targets: [T, 'x'], connections: 1 }, 'targets[1]', 'must be a {"host","port"} object (got "x")'],
    [{ mode: 'requests', targets: [{ host: 'a b', port: 80 }], connections: 1 }, 'targets[0].host', 'must be an IP address or DNS name, e.g. "10.96.0.10" (got "a b")'],
    [{ mode: 'requests', targets: [{ host: '10.96.0.10' }], connections: 1 }, 'targets[0].port', 'is required: give a TCP port 1-65535'],
    [{ mode: 'requests', targets: [{ ...T, proto: 'tcp' }], connections: 1 }, 'unknown field "proto" for targets[0]', 'allowed: host, port'],
    [{ mode: 'requests', targets: [T], connections: 1, path: `/${'a'.repeat(LOADGEN_LIMITS.pathLength)}` }, 'path', `be at most ${LOADGEN_LIMITS.pathLength} characters, e.g. "/bytes/1000"`],
    [{ mode: 'requests', targets: [T], connections: 1, path: '/a\u0001' }, 'path', 'must start with "/", have no spaces or control characters'],
    [{ mode: 'stream', targets: [T], durationMs: 1000 }, 'streams', 'is required: give how many concurrent streams to open'],
    [{ mode: 'stream', targets: [T], streams: 1, durationMs: 1000, concurrency: 4 }, 'unknown field "concurrency" for mode "stream"', 'allowed: mode, targets, streams, durationMs, intervalMs, path, connectTimeoutMs'],
    [{ mode: 'stream', targets: [T], streams: 1, durationMs: 1000, intervalMs: 'fast' }, 'intervalMs', 'must be a positive integer'],
    [{ mode: 'http', targets: [T], durationMs: 1000, ratePerSecond: LOADGEN_LIMITS.ratePerSecond + 1 }, 'ratePerSecond', `at most ${LOADGEN_LIMITS.ratePerSecond} (what one loadgen keeps on schedule)`],
    [{ mode: 'http', targets: [T, T], durationMs: 1000 }, 'targets', 'must be an array of one {"host","port"} object'],
    [{ mode: 'http', targets: [T], durationMs: 1000, ratePerSecond: 100, keepAlive: false }, 'keepAlive', 'must be true when ratePerSecond is given'],
    [{ mode: 'http', targets: [T] }, 'durationMs', 'is required: give how long the run sends requests, in ms'],
    [null, 'the request body', 'must be a JSON object (got null)'],
  ])('%j: names %s and the fix', (body, field, fix) => {
    const message = error(() => parseRunSpec(body));
    expect(message.startsWith(field)).toBe(true);
    expect(message).toContain(fix);
  });

  it('shortens a long bad value in the message', () => {
    const message = error(() => parseRunSpec({ mode: 'requests', targets: [{ host: 'h '.repeat(200), port: 1 }], connections: 1 }));
    expect(message).toMatch(/^targets\[0\]\.host must be .* \(got "h h .*…\)$/);
    expect(message.length).toBeLessThan(200);
  });
});

describe('parseProbeSpec', () => {
  it('fills the defaults', () => {
    expect(parseProbeSpec(T)).toEqual({ ...T, timeoutMs: 60_000, intervalMs: 10, connectTimeoutMs: 1000 });
  });

  it.each([
    [{ host: '', port: 80 }, 'host', 'must be an IP address or DNS name, e.g. "10.96.0.10" (got "")'],
    [{ host: 'x', port: 65536 }, 'port', 'must be a positive integer, at most 65535 (got 65536)'],
    [{ host: 'x', port: 80, connectTimeoutMs: 60_001 }, 'connectTimeoutMs', `at most ${LOADGEN_LIMITS.connectTimeoutMs} (got 60001)`],
    [{ host: 'x', port: 80, mode: 'requests' }, 'unknown field "mode" for a probe', 'allowed: host, port, timeoutMs, intervalMs, connectTimeoutMs'],
    ['10.96.0.10:80', 'the request body', 'must be a JSON object (got "10.96.0.10:80")'],
  ])('%j: names %s and the fix', (body, field, fix) => {
    const message = error(() => parseProbeSpec(body));
    expect(message.startsWith(field)).toBe(true);
    expect(message).toContain(fix);
  });
});
