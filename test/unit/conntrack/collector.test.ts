// The collector against a stand-in conntrack (test/fixtures/conntrack/fake-conntrack.sh) that
// replays the recorded output: process handling, readiness, loss accounting, errors. The
// real thing is exercised by the kernel tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DEFAULT_CONNTRACK_BUFFER_BYTES,
  destroyFlows,
  destroyFlowsArgs,
  startConntrack,
  type CollectorOptions,
} from '../../../src/conntrack/collector.js';
import type { FlowRecord } from '../../../src/conntrack/types.js';
import { FIXTURES, fixtureLines, ID } from './helpers.js';

const FAKE = join(FIXTURES, 'fake-conntrack.sh');

function fake(extra: string[], opts: CollectorOptions = {}) {
  return startConntrack({ conntrackBin: FAKE, extraArgs: extra, ...opts });
}

async function collect(h: ReturnType<typeof fake>): Promise<FlowRecord[]> {
  const out: FlowRecord[] = [];
  for await (const r of h.records) out.push(r);
  return out;
}

const hasIp = (() => {
  try {
    execaSync('ip', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe('startConntrack (stand-in conntrack)', () => {
  it('is ready on the NOTICE line, streams records, stops cleanly', async () => {
    const h = fake(['--fake-stdout', join(FIXTURES, 'events.txt')]);
    expect(h.command.slice(1, 5)).toEqual(['-E', '-b', String(DEFAULT_CONNTRACK_BUFFER_BYTES), '-o']);
    expect(h.command[5]).toBe('timestamp,id,extended,ktimestamp');
    await h.ready;
    expect(h.pid).toBeGreaterThan(0);
    expect(h.startedAtNs).toBeGreaterThan(0n);
    const records = collect(h);
    await expect.poll(() => h.stats().eventLines, { timeout: 5000 }).toBe(37);
    const exit = await h.stop();
    expect(exit.exitCode).toBe(0);
    const got = await records;
    expect(got.map((r) => r.id).sort()).toEqual(Object.values(ID).sort());
    expect(got.every((r) => r.end === 'destroy')).toBe(true);
    expect(h.loss()).toEqual({ overruns: 0, malformed: 0, orphanEvents: 0, gaps: 0, evicted: 0 });
    expect(h.stats()).toMatchObject({ reportedEvents: 37, bufferBytes: 2 * DEFAULT_CONNTRACK_BUFFER_BYTES, events: 37 });
    expect(h.error).toBeUndefined();
  });

  it('keeps a started collector running past the ready timeout', async () => {
    const h = fake(['--fake-stdout', join(FIXTURES, 'events.txt')], { readyTimeoutMs: 200 });
    await h.ready;
    await new Promise((r) => setTimeout(r, 600));
    expect(h.error).toBeUndefined();
    expect((await h.stop()).exitCode).toBe(0);
  });

  it('counts ENOBUFS warnings, lines conntrack printed that we never read, and a cut-off last line', async () => {
    const h = fake([
      '--fake-stdout', join(FIXTURES, 'events.txt'),
      '--fake-overruns', '3',
      '--fake-shown', '40',
      '--fake-tail', fixtureLines('events.txt')[0]!,
    ]);
    await h.ready;
    await expect.poll(() => h.loss().overruns, { timeout: 5000 }).toBe(3);
    await expect.poll(() => h.stats().eventLines, { timeout: 5000 }).toBe(37);
    await h.stop();
    // the cut-off line is malformed and counts as read: 40 shown − 38 read = 2 gaps
    expect(h.loss()).toEqual({ overruns: 3, malformed: 1, orphanEvents: 0, gaps: 2, evicted: 0 });
    expect(h.recentParseErrors()[0]?.reason).toBe('unterminated last line');
  });

  it('XML mode with the Service filter and onRecord; live flows are flushed on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksli-ct-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'partial.xml');
    // everything but the DESTROY of the 100 kB flow
    writeFileSync(file, fixtureLines('events.xml').filter((l) => !(l.includes('type="destroy"') && l.includes(`<id>${ID.tcp100k}<`))).join('\n') + '\n');
    const got: FlowRecord[] = [];
    const h = fake(['--fake-stdout', file, '--fake-shown', '36'], {
      format: 'xml',
      serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'],
      onRecord: (r) => got.push(r),
    });
    expect(h.command[5]).toBe('xml,timestamp,id,ktimestamp');
    await h.ready;
    await expect.poll(() => h.stats().eventLines, { timeout: 5000 }).toBe(36);
    await h.stop();
    expect(got.map((r) => [r.id, r.end])).toEqual([
      [ID.refused, 'destroy'],
      [ID.tcp5000, 'destroy'],
      [ID.udp4, 'destroy'],
      [ID.tcp6, 'destroy'],
      [ID.udp6, 'destroy'],
      [ID.tcp100k, 'flushed'],
    ]);
    expect(got[1]!.kernelStartNs).toBe(1795259978712736079n);
    expect(h.stats().filteredEvents).toBe(7);
    expect(h.loss().gaps).toBe(0);
  });

  it('reports conntrack exiting on its own', async () => {
    const h = fake(['--fake-stdout', join(FIXTURES, 'events.txt'), '--fake-exit']);
    await h.ready;
    const got = await collect(h); // ends without stop()
    expect(got).toHaveLength(7);
    expect(h.error?.message).toMatch(/exited unexpectedly \(exit code 0\)/);
  });

  it('rejects ready with conntrack stderr when it cannot open its socket', async () => {
    const h = fake(['--fake-fail']);
    await expect(h.ready).rejects.toThrow(/exited before it was ready \(exit code 1\)[\s\S]*Operation not permitted[\s\S]*Can't open netlink socket/);
    expect(h.error).toBeDefined();
    expect(await collect(h)).toEqual([]);
  });

  it('rejects ready when conntrack is missing', async () => {
    const h = startConntrack({ conntrackBin: '/nonexistent/conntrack' });
    await expect(h.ready).rejects.toThrow(/ENOENT/);
    await h.stop();
  });

  it('rejects ready after the timeout without a NOTICE line, and kills conntrack', async () => {
    const h = fake(['--fake-silent'], { readyTimeoutMs: 300 });
    await expect(h.ready).rejects.toThrow(/not ready after 300 ms/);
    const exit = await h.exited;
    expect(exit.signal).toBe('SIGKILL');
  });

  it.skipIf(!hasIp)('rejects ready when the namespace does not exist', async () => {
    const h = startConntrack({ netns: 'ksli-ct-no-such-namespace', conntrackBin: FAKE });
    await expect(h.ready).rejects.toThrow(/ksli-ct-no-such-namespace/);
  });

  it('validates options', () => {
    expect(() => startConntrack({ bufferBytes: 0 })).toThrow(/positive integer/);
    expect(() => startConntrack({ output: 'timestamp,extended' })).toThrow(/must include "id"/);
    expect(() => startConntrack({ format: 'xml', output: 'timestamp,id' })).toThrow(/does not match/);
  });
});

describe('destroyFlows', () => {
  it('builds conntrack -D arguments from the original tuple', () => {
    expect(destroyFlowsArgs({ origDst: '10.96.0.0/12', proto: 'tcp', origDstPort: 80 })).toEqual([
      '-D', '-f', 'ipv4', '-d', '10.96.0.0/12', '-p', 'tcp', '--dport', '80',
    ]);
    expect(destroyFlowsArgs({ origDst: 'fd00:10:96::10', zone: 7 })).toEqual(['-D', '-f', 'ipv6', '-d', 'fd00:10:96::10', '-w', '7']);
    expect(() => destroyFlowsArgs({})).toThrow(/without an address filter/);
    expect(() => destroyFlowsArgs({ origDst: '10.96.0.10', origDstPort: 80 })).toThrow(/needs proto/);
  });

  it('returns the number deleted, 0 included (conntrack exits 1 then)', async () => {
    expect(await destroyFlows(undefined, { origDst: '10.96.0.10' }, { conntrackBin: FAKE })).toBe(2);
    process.env.FAKE_DELETED = '0';
    try {
      expect(await destroyFlows(undefined, { origDst: '10.96.0.10' }, { conntrackBin: FAKE })).toBe(0);
    } finally {
      delete process.env.FAKE_DELETED;
    }
    await expect(destroyFlows(undefined, { origDst: '10.96.0.10' }, { conntrackBin: '/nonexistent/conntrack' })).rejects.toThrow(/ENOENT/);
  });
});
