// kube-sli-ct-events: how the collector finds or builds it, and the command it runs. The
// reader itself runs against the kernel in test/kernel/conntrack-filter.test.ts.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { classifyStderrLine, startConntrack } from '../../../src/conntrack/collector.js';
import { NATIVE_READER_ENV, nativeReaderCachePath, resolveNativeReader } from '../../../src/conntrack/native-reader.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ksli-ctev-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const canBuild = (() => {
  try {
    execaSync('cc', ['--version']);
    return execaSync('sh', ['-c', 'ldconfig -p | grep -q libnetfilter_conntrack.so.3'], { reject: false }).exitCode === 0;
  } catch {
    return false;
  }
})();

describe('resolveNativeReader', () => {
  it('uses an executable named by KUBE_SLI_CT_EVENTS_BIN', async () => {
    const bin = join(tempDir(), 'reader');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    expect(await resolveNativeReader({ env: { [NATIVE_READER_ENV]: bin } })).toEqual({ ok: true, bin, source: 'env' });
  });

  it('names the variable and the fix when KUBE_SLI_CT_EVENTS_BIN is not executable', async () => {
    const r = await resolveNativeReader({ env: { [NATIVE_READER_ENV]: '/nonexistent/kube-sli-ct-events' } });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/KUBE_SLI_CT_EVENTS_BIN=\/nonexistent\/kube-sli-ct-events is not an executable file: unset it/) });
  });

  it('says what to install when it cannot compile', async () => {
    const r = await resolveNativeReader({ env: {}, cacheDir: tempDir(), cc: 'false' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/cannot build .*ct-events\.c with false.*apt-get install gcc libc6-dev libnetfilter-conntrack3.*KUBE_SLI_CT_EVENTS_BIN/s);
  });

  it('keys the cache by the source, so an edited source is rebuilt', () => {
    const dir = tempDir();
    const src = join(dir, 'a.c');
    writeFileSync(src, 'int main(void) { return 0; }\n');
    const first = nativeReaderCachePath({ env: {}, cacheDir: dir, sourcePath: src });
    writeFileSync(src, 'int main(void) { return 1; }\n');
    expect(nativeReaderCachePath({ env: {}, cacheDir: dir, sourcePath: src })).not.toBe(first);
    expect(first).toMatch(/kube-sli-ct-events-[0-9a-f]{16}$/);
  });

  it.runIf(canBuild)('builds the reader once, then reuses the cached binary', async () => {
    const cacheDir = tempDir();
    const built = await resolveNativeReader({ env: {}, cacheDir });
    expect(built).toMatchObject({ ok: true, source: 'built' });
    expect(built.ok && existsSync(built.bin)).toBe(true);
    // a usage error, without touching the kernel
    const usage = execaSync(built.ok ? built.bin : '', ['--dst', '10.96.0.0/33'], { reject: false });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(/--dst 10\.96\.0\.0\/33: not an IPv4 or IPv6 address or CIDR/);
    const mixed = execaSync(built.ok ? built.bin : '', ['--dst', '10.96.0.0/12', '--dst', 'fd00::/64'], { reject: false });
    expect(mixed.exitCode).toBe(2);
    expect(mixed.stderr).toMatch(/both IPv4 and IPv6 cannot be filtered together; give one family/);
    expect(await resolveNativeReader({ env: {}, cacheDir })).toEqual({ ok: true, bin: built.ok ? built.bin : '', source: 'cache' });
  });
});

describe('startConntrack with kube-sli-ct-events', () => {
  it('runs the reader with the buffer and one kernel filter per Service CIDR', async () => {
    const h = startConntrack({ nativeReader: '/nonexistent/kube-sli-ct-events', serviceCidrs: ['10.96.0.0/12', '10.100.0.0/16'], bufferBytes: 4096 });
    expect(h.command).toEqual(['/nonexistent/kube-sli-ct-events', '--buffer', '4096', '--dst', '10.96.0.0/12', '--dst', '10.100.0.0/16']);
    expect(h.stats()).toMatchObject({ reader: 'kube-sli-ct-events', eventSocketBuffer: true, kernelFilter: ['10.96.0.0/12', '10.100.0.0/16'] });
    expect(h.stats().kernelFilterSkipped).toBeUndefined();
    await expect(h.ready).rejects.toThrow(/ENOENT/);
  });

  it('runs dual-stack Service CIDRs unfiltered, and says why', async () => {
    const h = startConntrack({ nativeReader: '/nonexistent/kube-sli-ct-events', serviceCidrs: ['10.96.0.0/12', 'fd00:10:96::/112'], bufferBytes: 4096 });
    expect(h.command).toEqual(['/nonexistent/kube-sli-ct-events', '--buffer', '4096']);
    expect(h.stats()).toMatchObject({ kernelFilter: [], kernelFilterSkipped: expect.stringMatching(/both families/) });
    await expect(h.ready).rejects.toThrow(/ENOENT/);
  });

  it('passes no filter when asked not to, and runs inside the namespace', async () => {
    const h = startConntrack({ nativeReader: '/x/reader', netns: 'ksli-nope', serviceCidrs: ['10.96.0.0/12'], kernelFilter: false, ipBin: '/nonexistent/ip' });
    expect(h.command).toEqual(['/nonexistent/ip', 'netns', 'exec', 'ksli-nope', '/x/reader', '--buffer', '67108864']);
    expect(h.stats().kernelFilter).toEqual([]);
    await expect(h.ready).rejects.toThrow();
  });

  it('refuses conntrack-only options', () => {
    expect(() => startConntrack({ nativeReader: '/x/reader', format: 'xml' })).toThrow(/text format with the default output only/);
    expect(() => startConntrack({ nativeReader: '/x/reader', extraArgs: ['-p', 'tcp'] })).toThrow(/no extraArgs/);
  });

  it('reports conntrack -E as a reader whose buffer figure is not the event socket\'s', async () => {
    const h = startConntrack({ conntrackBin: '/nonexistent/conntrack', serviceCidrs: ['10.96.0.0/12'] });
    expect(h.stats()).toMatchObject({ reader: 'conntrack', eventSocketBuffer: false, kernelFilter: [] });
    await expect(h.ready).rejects.toThrow(/ENOENT/);
  });

  it('reads the reader\'s exit summary like conntrack\'s', () => {
    expect(classifyStderrLine('kube-sli-ct-events: 12 flow events have been shown.')).toEqual({ kind: 'summary', events: 12 });
    expect(classifyStderrLine('conntrack v1.4.7 (conntrack-tools): 37 flow events have been shown.')).toEqual({ kind: 'summary', events: 37 });
  });
});
