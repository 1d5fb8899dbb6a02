import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBpfFilter, buildTcpdumpCommand, startCapture } from '../../../src/capture/collector.js';
import { PcapFormatError } from '../../../src/capture/pcap.js';
import type { CaptureConnection } from '../../../src/capture/types.js';
import { FIXTURES, fixture } from './helpers.js';

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_TCPDUMP = has('tcpdump', ['--version']);
const IS_ROOT = process.getuid?.() === 0;

const dir = mkdtempSync(join(tmpdir(), 'ksli-cap-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** an executable that behaves like tcpdump streaming `pcap` (see fake-tcpdump.mjs) */
function fakeTcpdump(pcap: string, ...flags: string[]): string {
  const path = join(dir, `tcpdump-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    `#!/bin/sh\nexec "${process.execPath}" "${FIXTURES}fake-tcpdump.mjs" "${pcap}" ${flags.join(' ')} "$@"\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

async function collect(it: AsyncIterable<CaptureConnection>): Promise<CaptureConnection[]> {
  const out: CaptureConnection[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('buildBpfFilter', () => {
  it('builds one clause per family', () => {
    expect(buildBpfFilter(['10.96.0.0/12'])).toBe(
      '(ip and (net 10.96.0.0/12) and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)',
    );
    expect(buildBpfFilter(['fd00:10:96::/112'])).toBe(
      '(ip6 and (net fd00:10:96::/112) and tcp and (ip6[6] != 6 or ip6[53] & 0x07 != 0))',
    );
    expect(buildBpfFilter(['10.96.0.0/12', '172.20.0.0/16', 'fd00:10:96::/112', '10.96.0.10'])).toBe(
      '(ip and (net 10.96.0.0/12 or net 172.20.0.0/16 or net 10.96.0.10/32) and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0)' +
        ' or (ip6 and (net fd00:10:96::/112) and tcp and (ip6[6] != 6 or ip6[53] & 0x07 != 0))',
    );
    expect(() => buildBpfFilter([])).toThrow(/at least one service CIDR/);
  });

  it.runIf(HAVE_TCPDUMP)('compiles with libpcap for every link type we read', () => {
    const filter = buildBpfFilter(['10.96.0.0/12', 'fd00:10:96::/112']);
    for (const dlt of ['EN10MB', 'LINUX_SLL', 'LINUX_SLL2', 'RAW']) {
      const code = execFileSync('tcpdump', ['-y', dlt, '-d', filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(code, dlt).toMatch(/ret\s+#0/);
    }
    // why IPv6 needs its own clause: libpcap's tcp[] accessor is IPv4-only
    let msg = '';
    try {
      execFileSync('tcpdump', ['-y', 'EN10MB', '-d', 'ip6 and tcp[tcpflags] & tcp-syn != 0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      msg = String((e as { stderr?: string }).stderr);
    }
    expect(msg).toMatch(/rejects all packets/);
  });
});

describe('startCapture: tcpdump dying after a good start', () => {
  it('sets error so health checks see it, and ends the stream with it', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: fakeTcpdump(`${FIXTURES}v4-any-sll2.pcap`) });
    await h.ready;
    const all = collect(h.connections);
    process.kill(h.pid!, 'SIGKILL');
    await expect(all).rejects.toThrow(/exited unexpectedly \(SIGKILL\)/);
    expect(h.error?.message).toMatch(/exited unexpectedly \(SIGKILL\)/);
  });

  it('leaves error unset when stopped on purpose', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: fakeTcpdump(`${FIXTURES}v4-any-sll2.pcap`) });
    await h.ready;
    await h.stop();
    expect(h.error).toBeUndefined();
  });
});

describe('buildTcpdumpCommand', () => {
  it('runs tcpdump with nanosecond stamps to stdout, optionally in a netns', () => {
    const filter = buildBpfFilter(['10.96.0.0/12']);
    expect(buildTcpdumpCommand({ serviceCidrs: ['10.96.0.0/12'] })).toEqual([
      'tcpdump', '-i', 'any', '-n', '-U', '--time-stamp-precision=nano', '-s', '256', '-B', '16384', '--immediate-mode', '-w', '-', filter,
    ]);
    expect(
      buildTcpdumpCommand({ serviceCidrs: ['10.96.0.0/12'], netns: 'node-1', iface: 'eth0', immediate: false, linkType: 'LINUX_SLL', snaplen: 128, bufferKiB: 4096 }),
    ).toEqual([
      'ip', 'netns', 'exec', 'node-1', 'tcpdump', '-i', 'eth0', '-n', '-U', '--time-stamp-precision=nano', '-s', '128', '-B', '4096', '-y', 'LINUX_SLL', '-w', '-', filter,
    ]);
  });
});

describe('startCapture (with a stand-in tcpdump)', () => {
  it('becomes ready, streams connections and drains everything on stop()', async () => {
    // the replayed capture is old: keep wall-clock idle eviction from touching it
    const h = startCapture({
      serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'],
      tcpdumpPath: fakeTcpdump(`${FIXTURES}v4-any-sll2.pcap`, '--fake-chunk=7'),
      idleTimeoutMs: 1e12,
    });
    await h.ready;
    expect(h.linkType).toBe('LINUX_SLL2 (Linux cooked v2)');
    expect(h.pid).toBeGreaterThan(0);
    const received = collect(h.connections);
    await expect.poll(() => h.stats.packets, { timeout: 10_000 }).toBe(20);
    await h.stop();
    const conns = await received;
    expect(conns).toHaveLength(5);
    expect(conns.every((c) => c.synAckNs !== undefined && c.endKind === 'FIN')).toBe(true);
    expect(h.stats).toMatchObject({ packets: 20, vipSeenOnWire: 5, malformed: 0, open: 0, kernel: { captured: 20, receivedByFilter: 20, droppedByKernel: 0 } });
    expect(h.error).toBeUndefined();
    await h.stop(); // idempotent
  });

  it('delivers to onConnection when given', async () => {
    const got: CaptureConnection[] = [];
    const h = startCapture({ serviceCidrs: ['fd00:10:96::/112'], tcpdumpPath: fakeTcpdump(`${FIXTURES}v6-eth.pcap`), onConnection: (c) => got.push(c), idleTimeoutMs: 1e12 });
    await h.ready;
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(5);
    await h.stop();
    expect(got.map((c) => c.family)).toEqual([6, 6, 6, 6, 6]);
  });

  it('rejects ready with tcpdump stderr when tcpdump fails', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: fakeTcpdump(`${FIXTURES}v4-eth.pcap`, '--fake-fail') });
    await expect(h.ready).rejects.toThrow(/exited \(code 1\) before listening: tcpdump: ksli-nosuch0: No such device exists/);
    await h.stop();
    await expect(collect(h.connections)).rejects.toThrow(/No such device/);
  });

  it('rejects ready when tcpdump never says it is listening', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: fakeTcpdump(`${FIXTURES}v4-eth.pcap`, '--fake-silent'), readyTimeoutMs: 300 });
    await expect(h.ready).rejects.toThrow(/did not start listening within 300 ms/);
    await h.stop();
  });

  it('rejects ready when the program cannot be started', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: join(dir, 'no-such-tcpdump') });
    await expect(h.ready).rejects.toThrow(/could not be started|exited/);
    await h.stop();
  });

  it('reports a stream it cannot read as an error object, not a crash', async () => {
    const bad = Buffer.from(fixture('v4-eth.pcap'));
    bad.writeUInt32LE(127, 20);
    const path = join(dir, 'radiotap.pcap');
    writeFileSync(path, bad);
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], tcpdumpPath: fakeTcpdump(path) });
    await h.ready;
    await expect.poll(() => h.error, { timeout: 10_000 }).toBeInstanceOf(PcapFormatError);
    await h.stop();
    expect(h.error?.message).toMatch(/unsupported pcap link type 127/);
    await expect(collect(h.connections)).rejects.toBeInstanceOf(PcapFormatError);
  });
});

describe.runIf(HAVE_TCPDUMP && IS_ROOT)('startCapture (real tcpdump, errors only)', () => {
  it('rejects ready naming a missing interface', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], iface: 'ksli-nosuch0' });
    await expect(h.ready).rejects.toThrow(/ksli-nosuch0.*(No such device|doesn't exist)/s);
    await h.stop();
  });

  it('rejects ready naming a missing network namespace', async () => {
    const h = startCapture({ serviceCidrs: ['10.96.0.0/12'], netns: 'ksli-cap-does-not-exist' });
    await expect(h.ready).rejects.toThrow(/Cannot open network namespace "ksli-cap-does-not-exist"/);
    await h.stop();
  });
});
