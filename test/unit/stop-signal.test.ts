// A long-running command's clean-up survives the signals that start it: a SIGTERM while an
// execa child runs, and a second SIGTERM during the clean-up. With once-listeners (the old
// code) execa's signal-exit re-raised the signal and the process died before cleaning up.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const dir = await mkdtemp(join(tmpdir(), 'ksli-signal-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const helper = JSON.stringify(join(import.meta.dirname, '../../src/stop-signal.ts'));
const execaUrl = JSON.stringify(import.meta.resolve('execa'));
// the child: a child process of its own running, then SIGTERM twice; its "clean-up" writes a file
const script = (guarded: boolean, out: string) => `
import { writeFileSync } from 'node:fs';
import { execa } from ${execaUrl};
import { untilStopSignal } from ${helper};
await execa('true');
const cleanUp = async () => { await new Promise((r) => setTimeout(r, 500)); writeFileSync(${JSON.stringify(out)}, 'cleaned up'); };
${
  guarded
    ? `const stopped = untilStopSignal(cleanUp, (sig) => console.log(sig + ' again'));`
    : `const stopped = new Promise((resolve) => process.once('SIGTERM', () => void cleanUp().then(resolve)));`
}
const child = execa('sleep', ['30']);
child.catch(() => undefined);
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 200);
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 300);
await stopped;
child.kill();
console.log('exiting');
`;

async function run(guarded: boolean): Promise<{ cleanUp: string; exitCode: number | undefined; signal: string | undefined; stdout: string }> {
  const out = join(dir, guarded ? 'guarded' : 'bare');
  const file = join(dir, `${guarded ? 'guarded' : 'bare'}.mts`);
  await writeFile(file, script(guarded, out));
  const res = await execa(process.execPath, ['--import', 'tsx', file], { reject: false, timeout: 30_000, cwd: join(import.meta.dirname, '../..') });
  return { cleanUp: await readFile(out, 'utf8').catch(() => 'no clean-up'), exitCode: res.exitCode, signal: res.signal, stdout: String(res.stdout) };
}

describe('untilStopSignal', () => {
  it('with once-listeners the process dies before its clean-up; with it the clean-up runs and a second signal is reported', async () => {
    const bare = await run(false);
    expect(bare.cleanUp).toBe('no clean-up');
    expect(bare.signal, 'ended by the re-raised SIGTERM').toBe('SIGTERM');
    const guarded = await run(true);
    expect(guarded.cleanUp).toBe('cleaned up');
    expect(guarded.exitCode).toBe(0);
    expect(guarded.stdout).toContain('SIGTERM again');
    expect(guarded.stdout).toContain('exiting');
  });
});
