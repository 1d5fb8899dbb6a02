// Session heartbeat and `kube-sli gc` input: when a session counts as dead, how durations
// and flags are read, and which cluster gc picks when none is given. No cluster needed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDurationMs, parseGcArgs, resolveGcCluster } from '../../../src/cli/gc-command.js';
import { UsageError } from '../../../src/cli/exit-codes.js';
import type { KubeClients } from '../../../src/kube/clients.js';
import { HEARTBEAT_ANNOTATION, heartbeatTime, isStale, startHeartbeat } from '../../../src/kube/heartbeat.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const beat = (ms: number): Record<string, string> => ({ [HEARTBEAT_ANNOTATION]: ago(ms) });

describe('isStale', () => {
  it('a heartbeat younger than staleMs is fresh, older is stale', () => {
    expect(isStale(beat(10_000), NOW, 60_000)).toBe(false);
    expect(isStale(beat(60_000), NOW, 60_000)).toBe(false); // exactly staleMs: not yet
    expect(isStale(beat(60_001), NOW, 60_000)).toBe(true);
    expect(isStale(beat(5_000), new Date(NOW), 1_000)).toBe(true);
  });

  it('the heartbeat decides, not the creation time', () => {
    expect(isStale(beat(1_000), NOW, 60_000, ago(3_600_000))).toBe(false);
    expect(isStale(beat(120_000), NOW, 60_000, ago(1_000))).toBe(true);
  });

  it('without a heartbeat, a namespace older than staleMs is stale and a young one is not', () => {
    expect(isStale(undefined, NOW, 60_000, ago(61_000))).toBe(true);
    expect(isStale({}, NOW, 60_000, new Date(NOW - 61_000))).toBe(true);
    expect(isStale({ other: 'x' }, NOW, 60_000, ago(5_000))).toBe(false);
  });

  it('an unreadable heartbeat counts as none; neither heartbeat nor creation time: stale', () => {
    expect(isStale({ [HEARTBEAT_ANNOTATION]: 'yesterday-ish' }, NOW, 60_000, ago(5_000))).toBe(false);
    expect(isStale({ [HEARTBEAT_ANNOTATION]: 'yesterday-ish' }, NOW, 60_000, ago(90_000))).toBe(true);
    expect(isStale(undefined, NOW, 60_000)).toBe(true);
    expect(heartbeatTime({ [HEARTBEAT_ANNOTATION]: ago(0) })?.getTime()).toBe(NOW);
    expect(heartbeatTime({ [HEARTBEAT_ANNOTATION]: '' })).toBeUndefined();
  });
});

describe('startHeartbeat', () => {
  type Call = { name: string; body: unknown; options: unknown };
  const fake = (fail: (n: number) => boolean) => {
    const calls: Call[] = [];
    const core = {
      patchNamespace: async (p: { name: string; body: unknown }, options: unknown) => {
        calls.push({ name: p.name, body: p.body, options });
        if (fail(calls.length)) throw new k8s.ApiException(403, 'forbidden', { message: 'namespaces "x" is forbidden' }, {});
        return {};
      },
    };
    return { calls, clients: { core } as unknown as KubeClients };
  };

  it('stamps at once and every interval with a merge patch, until stopped', async () => {
    const { calls, clients } = fake(() => false);
    const hb = startHeartbeat(clients, 'sli-abc', { intervalMs: 20 });
    await hb.first;
    expect(hb.beats).toBe(1);
    expect(calls[0]!.name).toBe('sli-abc');
    const stamp = (calls[0]!.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[HEARTBEAT_ANNOTATION]!;
    expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(5_000);
    expect(hb.lastBeat).toBe(stamp);
    // the Content-Type header travels as middleware in the options
    expect(JSON.stringify(calls[0]!.options)).toContain('middleware');
    await new Promise((r) => setTimeout(r, 110));
    hb.stop();
    const n = calls.length;
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls.length).toBe(n);
    hb.stop(); // idempotent
  });

  it('keeps failures for diagnostics instead of throwing, and carries on', async () => {
    const { calls, clients } = fake((n) => n <= 2);
    const hb = startHeartbeat(clients, 'sli-abc', { intervalMs: 15 });
    await hb.first;
    expect(hb.beats).toBe(0);
    expect(hb.errors[0]?.message).toMatch(/^403: namespaces "x" is forbidden/);
    await new Promise((r) => setTimeout(r, 80));
    hb.stop();
    expect(hb.beats).toBeGreaterThan(0);
    expect(hb.errors).toHaveLength(2);
    expect(calls.length).toBeGreaterThan(2);
  });

  it('refuses a non-positive interval', () => {
    expect(() => startHeartbeat({} as KubeClients, 'x', { intervalMs: 0 })).toThrow(RangeError);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['90s', 90_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['0.25s', 250],
    [' 60s ', 60_000],
  ])('%s = %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each([
    ['60', /"60" is not a duration.*add a unit, e\.g\. 60s/],
    ['', /empty/],
    ['5 minutes', /not a duration/],
    ['10d', /units: ns, us, ms, s, m, h/],
    ['-5s', /not a duration/],
    ['s', /not a duration/],
  ])('%j is refused', (text, message) => {
    expect(() => parseDurationMs(text, '--stale')).toThrow(UsageError);
    expect(() => parseDurationMs(text, '--stale')).toThrow(message);
  });
});

describe('kube-sli gc flags', () => {
  it('defaults: stale 60 s, timeout 2 m, no session, not all, not dry', () => {
    expect(parseGcArgs([])).toEqual({ help: false, all: false, dryRun: false, staleMs: 60_000, timeoutMs: 120_000 });
  });

  it('reads every flag', () => {
    expect(parseGcArgs(['--kubeconfig', '/k', '--session', 'mf3k2q-a1b2c3', '--stale', '90s', '--timeout', '5m', '--dry-run'])).toEqual({
      help: false,
      all: false,
      dryRun: true,
      kubeconfig: '/k',
      session: 'mf3k2q-a1b2c3',
      staleMs: 90_000,
      timeoutMs: 300_000,
    });
    expect(parseGcArgs(['--all']).all).toBe(true);
    expect(parseGcArgs(['--help']).help).toBe(true);
  });

  it.each([
    [['--session', 'a', '--all'], /--session and --all exclude each other/],
    [['--session', 'has space'], /--session "has space" is not a session id/],
    [['--session=-x'], /--session "-x" is not a session id/],
    [['--session', 'x'.repeat(64)], /is not a session id/],
    [['--stale', '60'], /--stale "60" is not a duration/],
    [['--stale', '0s'], /--stale "0s" must be longer than 0/],
    [['--timeout', 'forever'], /--timeout "forever" is not a duration/],
    [['--kubeconfig', ''], /--kubeconfig must not be empty/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['leftover'], /Unexpected argument 'leftover'/],
    [['--stale'], /argument missing/],
  ])('%j is refused with a UsageError', (argv, message) => {
    expect(() => parseGcArgs(argv)).toThrow(UsageError);
    expect(() => parseGcArgs(argv)).toThrow(message);
  });
});

describe('kube-sli gc: which cluster', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const tmp = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'ksli-gc-unit-'));
    dirs.push(d);
    return d;
  };

  it('--kubeconfig wins, and must exist', async () => {
    const d = await tmp();
    expect(await resolveGcCluster(d, {})).toEqual({ kubeconfig: d, source: '--kubeconfig' });
    await expect(resolveGcCluster(join(d, 'nope'), {})).rejects.toThrow(/--kubeconfig .*nope: no such readable file/);
  });

  it('then KUBECONFIG (one existing file: that file; several: client-node merges them)', async () => {
    const d = await tmp();
    const env = { KUBECONFIG: `${join(d, 'missing')}:${d}`, HOME: d };
    expect(await resolveGcCluster(undefined, env)).toEqual({ kubeconfig: d, source: 'KUBECONFIG' });
    await expect(resolveGcCluster(undefined, { KUBECONFIG: join(d, 'missing') })).rejects.toThrow(/names no readable file/);
  });

  it('with nothing configured and no lab: a UsageError naming the fixes', async () => {
    const home = await tmp();
    const lab = await tmp();
    const err = await resolveGcCluster(undefined, { HOME: home, KUBE_SLI_LAB_DIR: lab }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/no cluster to clean \(KUBECONFIG is not set; no .*\.kube\/config; no lab in .*\)\. Fix: pass --kubeconfig <file>, set KUBECONFIG/);
  });
});
