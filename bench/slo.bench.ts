// The wall time of the default profile — every suite, default workload — on the lab
// (bulk creation of Services: services.bench.ts).
import { execa } from 'execa';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { repoRoot } from '../src/lab/binaries.js';
import { labDown } from '../src/lab/lab.js';

export interface ProfileFigures {
  seconds: number;
  exitCode: number;
  tail: string;
}

/** `vitest run --project slo` with the default profile and workload on a fresh lab. */
export async function benchDefaultProfile(): Promise<ProfileFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bench-slo-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SLI_') && k !== 'KUBECONFIG') env[k] = v;
  const t0 = performance.now();
  try {
    const sub = execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'slo'], {
      cwd: repoRoot(),
      env: { ...env, SLI_PROVIDER: 'lab', SLI_PROFILE: 'default', KUBE_SLI_LAB_DIR: join(dir, 'lab'), SLI_REPORT_DIR: join(dir, 'report') },
      extendEnv: false,
      reject: false,
      all: true,
    });
    // each line stamped with the seconds since the start, as it arrives: where the time went
    const stamped: string[] = [];
    const decoder = new StringDecoder('utf8');
    let partial = '';
    sub.all?.on('data', (chunk: Buffer) => {
      const parts = (partial + decoder.write(chunk)).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) stamped.push(`${((performance.now() - t0) / 1000).toFixed(1).padStart(7)}s ${l}`);
    });
    const r = await sub;
    const all = String(r.all ?? '');
    // SLO_BENCH_LOG=<file> keeps the whole output (the kit's progress lines say where the time
    // went) and the report beside it (<file>.report.json: the waits, in the series' notes)
    if (process.env.SLO_BENCH_LOG) {
      await writeFile(process.env.SLO_BENCH_LOG, `${stamped.join('\n')}\n${partial}`);
      await copyFile(join(dir, 'report', 'report.json'), `${process.env.SLO_BENCH_LOG}.report.json`).catch(() => undefined);
    }
    const lines = all.split('\n');
    // the verdicts, and vitest's per-file and per-test durations (what dominates the wall time)
    return { seconds: (performance.now() - t0) / 1000, exitCode: r.exitCode ?? -1, tail: lines.filter((l) => /PASS|FAIL|INCONCLUSIVE|conformant|\.slo\.test\.ts|[✓×] .* \d+ms$/.test(l)).join('\n') };
  } finally {
    await labDown(join(dir, 'lab')).catch((e: unknown) => console.error(`lab down ${join(dir, 'lab')} failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}
