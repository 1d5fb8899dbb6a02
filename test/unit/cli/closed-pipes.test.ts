// The CLI outlives a reader that went away: a write to a closed pipe (EPIPE) must not end
// the process before its clean-up, which here writes a file after the failed write.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const dir = await mkdtemp(join(tmpdir(), 'ksli-pipe-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

// a child whose stderr reader (head -c0) is gone before it writes; then its "teardown"
const script = (guard: boolean, out: string) => `
import { writeFileSync } from 'node:fs';
${guard ? `import { survivePipeClose } from ${JSON.stringify(join(import.meta.dirname, '../../../src/cli/closed-pipes.ts'))};\nsurvivePipeClose();` : ''}
setTimeout(() => {
  process.stderr.write('progress\\n');
  setTimeout(() => writeFileSync(${JSON.stringify(out)}, 'cleaned up'), 200);
}, 500);
`;

async function run(guard: boolean): Promise<string> {
  const out = join(dir, guard ? 'guarded' : 'bare');
  const file = join(dir, `${guard ? 'guarded' : 'bare'}.mts`);
  await writeFile(file, script(guard, out));
  await execa('bash', ['-c', `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(file)} 2>&1 | head -c0`], { reject: false, timeout: 30_000 });
  return readFile(out, 'utf8').catch(() => 'no clean-up');
}

describe('survivePipeClose', () => {
  it('without it Node ends on the EPIPE and the clean-up never runs; with it the clean-up runs', async () => {
    expect(await run(false)).toBe('no clean-up');
    expect(await run(true)).toBe('cleaned up');
  });
});
