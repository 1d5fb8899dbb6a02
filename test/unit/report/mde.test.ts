// The resolution bench of `kube-sli ab` (bench/ab-mde.bench.ts, src/report/mde.ts): size
// arguments, the injected rules and wrapper, and the tally of recorded runs.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { mdeLines, shimScript, slowRules, wrapperScript } from '../../../bench/ab-mde.bench.js';
import { readReport } from '../../../src/report/io.js';
import { calibrationRows, formatSize, gateFalseAlarms, MDE_SLIS, mdeOf, parseSize, sliRows, tallyMde, type InjectionSize, type MdeRun, type SizeTally } from '../../../src/report/mde.js';
import type { ComparisonDocument } from '../../../src/report/types.js';
import { compareRounds } from '../../../src/report/rounds.js';

describe('size arguments', () => {
  it('reads rules=<N> and sync=<D>ms and prints them back', () => {
    expect(parseSize('rules=3000')).toEqual({ kind: 'rules', amount: 3000 });
    expect(parseSize('sync=200ms')).toEqual({ kind: 'sync', amount: 200 });
    expect(formatSize(parseSize('sync=50ms'))).toBe('sync=50ms');
  });
  it.each(['rules=0', 'rules=-3', 'sync=200', 'delay=5ms', '3000', 'rules=1e3'])('refuses %s, naming it and the fix', (s) => {
    expect(() => parseSize(s)).toThrow(new RegExp(`size "${s}".*rules=3000 or sync=200ms`));
  });
});

describe('the injected rules', () => {
  it('rules=0 only removes the table (created first so that the delete never fails)', () => {
    expect(slowRules(0)).toBe('table inet ksli_slow\ndelete table inet ksli_slow\n');
  });
  it('rules=N: N distinct never-matching rules behind a jump taken by new connections only, on prerouting and output before kube-proxy (its earliest: dstnat-10 = -110)', () => {
    const text = slowRules(300);
    const rules = text.split('\n').filter((l) => /^\s+ip daddr 198\.18\.\d+\.\d+ counter$/.test(l));
    expect(rules).toHaveLength(300);
    expect(new Set(rules).size).toBe(300);
    expect(text).toMatch(/hook prerouting priority -150;/);
    expect(text).toMatch(/hook output priority -150;/);
    expect(text.match(/ct state new jump slow/g)).toHaveLength(2);
    expect(text.startsWith('table inet ksli_slow\ndelete table inet ksli_slow\ntable inet ksli_slow {')).toBe(true);
  });
});

describe('the kube-proxy wrapper', () => {
  async function script(body: string, name = 'kube-proxy'): Promise<{ dir: string; path: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'ksli-mde-t-'));
    const path = join(dir, name);
    await writeFile(path, body);
    await chmod(path, 0o755);
    return { dir, path };
  }

  it('passes --version and --write-config-to straight to the real binary (exec under its own name: the lab binary dispatches on it), installing nothing', async () => {
    const real = await script('#!/bin/bash\necho "args=$*"\n', 'real');
    const w = await script(wrapperScript({ realKubeProxy: real.path, nft: '/nonexistent/nft', rulesFile: '/nonexistent.nft' }));
    try {
      expect((await execa(w.path, ['--version'])).stdout).toBe('args=--version');
      expect((await execa(w.path, ['--config=/c', '--write-config-to=/tmp/x'])).stdout).toBe('args=--config=/c --write-config-to=/tmp/x');
      expect(await readFile(w.path, 'utf8')).toContain(`exec -a "$0" '${real.path}' "$@"`);
    } finally {
      await rm(w.dir, { recursive: true, force: true });
      await rm(real.dir, { recursive: true, force: true });
    }
  });

  it('refuses to install rules outside a lab node namespace and never runs the real binary', async () => {
    const marker = join(tmpdir(), `ksli-mde-ran-${process.pid}`);
    const real = await script(`#!/bin/bash\ntouch ${marker}\n`, 'real');
    const w = await script(wrapperScript({ realKubeProxy: real.path, nft: '/nonexistent/nft', rulesFile: '/nonexistent.nft' }));
    try {
      const r = await execa(w.path, ['--config=/x'], { reject: false });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/refusing to install nftables rules outside a lab node namespace/);
      await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(w.dir, { recursive: true, force: true });
      await rm(real.dir, { recursive: true, force: true });
      await rm(marker, { force: true });
    }
  });

  it('the sync shim waits the given time, then runs the real tool with the same arguments', async () => {
    const s = await script(shimScript('/bin/echo', 120), 'nft');
    try {
      const t0 = performance.now();
      const r = await execa(s.path, ['-f', '-']);
      expect(r.stdout).toBe('-f -');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(120);
    } finally {
      await rm(s.dir, { recursive: true, force: true });
    }
  });
});

describe('the minimum detectable effect', () => {
  const t = (amount: number, k: number, n: number): SizeTally => ({ size: { kind: 'rules', amount }, k, n, missing: 0, changes: [amount / 10_000] });

  it('is the smallest size flagged in at least 9 of 10 runs, whatever the order given', () => {
    const m = mdeOf([t(4000, 10, 10), t(1000, 9, 10), t(500, 8, 10)]);
    expect(m).toEqual({ reached: true, size: { kind: 'rules', amount: 1000 }, k: 9, n: 10, effect: 0.1 });
  });
  it('is not reached with fewer than 10 runs, even when every run flagged', () => {
    const m = mdeOf([t(1000, 1, 1)]);
    expect(m.reached).toBe(false);
    expect(m.reached ? '' : m.why).toBe('not reached at n=1 (needs 10 runs a size; rules=1000 was flagged 1 of 1)');
  });
  it('is not reached when no size is flagged often enough, naming the largest', () => {
    const m = mdeOf([t(500, 2, 10), t(4000, 8, 10)]);
    expect(m.reached ? '' : m.why).toBe('not reached: no size was flagged in 9 of 10 runs (largest rules=4000: 8 of 10)');
  });
  it('counts the gate itself failing in A/A runs (exit 1), per suite', () => {
    const cmp = { rows: [] } as never;
    const g = gateFalseAlarms([
      { suite: 'a', exitCode: 1, minutes: 1, cmp },
      { suite: 'a', exitCode: 0, minutes: 1, cmp },
      { suite: 'a', size: { kind: 'rules', amount: 5 }, exitCode: 1, minutes: 1, cmp },
    ]);
    expect(g).toEqual([{ suite: 'a', k: 1, n: 2 }]);
  });
});

const KEP3453 = fileURLToPath(new URL('../../fixtures/ab/kep3453/forward/', import.meta.url));
const side = async (s: string) => Promise.all((await readdir(KEP3453)).filter((f) => f.endsWith(`-${s}.report.json`)).sort().map((f) => readReport(join(KEP3453, f))));
const off = await side('base');
const on = await side('candidate');

describe('the tally, on recorded rounds of kube-sli ab (KEP-3453, test/fixtures/ab/kep3453/)', () => {
  const suite = 'suites/programming-latency.slo.test.ts';
  const sync = MDE_SLIS.find((s) => s.kind === 'sync')!;
  // the gate off is ~2 s slower per sync: as an "injected" run it is a slowdown ab flags, the other way round an improvement
  const slower = compareRounds(on, off);
  const faster = compareRounds(off, on);

  it('finds the +1-Service prober p50 row in the recorded comparison', () => {
    const rows = sliRows(sync, slower);
    expect(rows.map((r) => `${r.sli}{${r.source},case=${r.labels.case}} ${r.statistic}`)).toEqual(['network_programming_latency_seconds{prober,case=one-more-service} p50']);
    expect(rows[0]!.verdict).toBe('regression');
    expect(sliRows(sync, faster)[0]!.verdict).toBe('improvement');
  });

  it('counts a regression as a detection, an improvement not; an A/A row significant either way as a false alarm', () => {
    const size = { kind: 'sync', amount: 100 } as const;
    const [row] = tallyMde(
      [
        { suite, size, exitCode: 1, minutes: 30, cmp: slower },
        { suite, size, exitCode: 0, minutes: 30, cmp: faster },
        { suite, exitCode: 0, minutes: 30, cmp: faster },
      ],
      [sync],
    );
    expect(row!.sizes).toEqual([expect.objectContaining({ size, n: 2, k: 1, missing: 0 })]);
    expect(row!.aa).toMatchObject({ n: 1, k: 1 });
    expect(row!.mde).toEqual({ reached: false, why: 'not reached at n=2 (needs 10 runs a size)' });
  });

  it('a run of another suite does not count for the SLI; a run of its suite without the row is counted as missing', () => {
    const noRow = { ...slower, rows: slower.rows.filter((r) => r.sli !== sync.sli) };
    const [row] = tallyMde(
      [
        { suite, size: { kind: 'sync', amount: 100 }, exitCode: 1, minutes: 1, cmp: slower },
        { suite, size: { kind: 'sync', amount: 100 }, exitCode: 0, minutes: 1, cmp: noRow },
        { suite: 'suites/first-packet-latency.slo.test.ts', exitCode: 1, minutes: 1, cmp: slower },
      ],
      [sync],
    );
    expect(row!.sizes[0]).toMatchObject({ n: 1, k: 1, missing: 1 });
    expect(row!.aa).toMatchObject({ n: 0, k: 0 });
  });

  it('calibrates without ab: each run against the mean of the base runs of its suite', () => {
    const rows = calibrationRows([
      { suite, report: on[0]! },
      { suite, size: { kind: 'sync', amount: 100 }, report: off[0]! },
      { suite, report: on[1]! },
    ]).filter((r) => r.seriesId.includes('one-more-service'));
    expect(rows).toHaveLength(3);
    const base = [rows[0]!.value!, rows[2]!.value!];
    const mean = (base[0]! + base[1]!) / 2;
    expect(rows[1]!.change).toBeCloseTo(rows[1]!.value! / mean - 1, 12);
    expect(rows[1]!.change!).toBeGreaterThan(0.5);
    expect(rows[1]!.samples).toBe(off[0]!.series.find((s) => s.id === rows[1]!.seriesId)!.summary.count);
  });
});

describe('the tally of the recorded bench smoke (test/fixtures/ab/mde/: 1 A/A run, 1 run of rules=500)', async () => {
  const dir = fileURLToPath(new URL('../../fixtures/ab/mde/', import.meta.url));
  const runs: MdeRun[] = [];
  for (const d of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const meta = JSON.parse(await readFile(join(dir, d, 'run.json'), 'utf8')) as { size: InjectionSize | null; suite: string; exitCode: number; minutes: number };
    const cmp = JSON.parse(await readFile(join(dir, d, 'compare.json'), 'utf8')) as ComparisonDocument;
    runs.push({ ...(meta.size ? { size: meta.size } : {}), suite: meta.suite, exitCode: meta.exitCode, minutes: meta.minutes, cmp });
  }
  const rows = tallyMde(runs);

  it('has one first-packet row: the A/A run not flagged, the injected run flagged (a +62 % p50 regression every round agreed on)', () => {
    expect(rows.map((r) => r.key)).toEqual(['first_packet_latency_seconds{source="capture",services="100"} p50']);
    const [row] = rows;
    expect(row!.aa).toMatchObject({ n: 1, k: 0, missing: 0 });
    expect(row!.sizes).toHaveLength(1);
    expect(row!.sizes[0]).toMatchObject({ size: { kind: 'rules', amount: 500 }, n: 1, k: 1, missing: 0 });
    expect(row!.sizes[0]!.changes[0]).toBeCloseTo(0.622, 3);
  });

  it('reaches no MDE at n = 1, and says so; the A/A gate did not fail; minutes per A/B from the runs', () => {
    const { lines } = mdeLines(runs, rows);
    expect(lines[0]).toContain('MDE not reached at n=1 (needs 10 runs a size; rules=500 was flagged 1 of 1)');
    expect(lines[0]).toContain('A/A false alarms 0 of 1');
    expect(gateFalseAlarms(runs)).toEqual([{ suite: 'suites/first-packet-latency.slo.test.ts', k: 0, n: 1 }]);
    expect(lines.at(-1)).toMatch(/^ab: minutes per A\/B .*: median 7\.2, max 7\.3 over 2 runs/);
  });

  it('the same runs, had they been ten each, would put the MDE at rules=500', () => {
    const ten = [...Array(10).keys()].flatMap(() => runs);
    const [row] = tallyMde(ten);
    expect(row!.mde).toMatchObject({ reached: true, size: { kind: 'rules', amount: 500 }, k: 10, n: 10 });
  });
});
