// The exit code of a run that could not measure: a test that ended on an InfrastructureError
// (here a real refused connection, retried until its deadline) makes the kube-sli reporter
// exit 3 and print the cause; an ordinary failure stays 1. A child vitest, no cluster.
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/lab/binaries.js';

const VITEST = join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A loopback port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function runFixture(mode: 'infra' | 'fail'): Promise<{ exitCode: number; output: string }> {
  const reportDir = mkdtempSync(join(tmpdir(), 'ksli-infra-report-'));
  dirs.push(reportDir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_ENV') env[k] = v;
  const r = await execa(process.execPath, [VITEST, 'run', '--config', 'test/unit/report/support/infra-exit.config.ts'], {
    cwd: repoRoot(),
    env: { ...env, FIXTURE_MODE: mode, CLOSED_PORT: String(await closedPort()), SLI_REPORT_DIR: reportDir },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.all ?? '') };
}

describe('exit code of a run that could not measure', () => {
  it('3, with the cause: a read through the proxy that failed until its deadline', async () => {
    const r = await runFixture('infra');
    expect(r.exitCode, r.output).toBe(3);
    expect(r.output).toMatch(/kube-sli: infrastructure error, exit 3/);
    expect(r.output).toMatch(/a scale point whose prober cannot be read: GET pod ns\/prober-0:8090\/probes\/p1 through the API server's proxy failed \d+ times in [\d.]+ s \(the next attempt would start after the 1.5 s deadline\): \d+× connect ECONNREFUSED 127.0.0.1:\d+; last: /);
    expect(r.output).toMatch(/ECONNREFUSED/);
  }, 60_000);

  it('1 for an ordinary failure', async () => {
    const r = await runFixture('fail');
    expect(r.exitCode, r.output).toBe(1);
    expect(r.output).not.toMatch(/infrastructure error/);
  }, 60_000);
});
