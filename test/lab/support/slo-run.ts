// Running the SLO suites as a user does: a child `vitest run --project slo`, with its own
// environment (none of the parent's cluster or workload knobs) and its own report dir.
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../../../src/lab/binaries.js';

const WORKLOAD_KNOBS = ['SERVICES', 'CLIENTS', 'CONN_PER_CLIENT', 'CLIENT_CONCURRENCY', 'ENDPOINTS_PER_SERVICE', 'STREAM_SECONDS', 'BIG_SERVICE_ENDPOINTS', 'NETREADY_PODS', 'NETREADY_RATE', 'NETREADY_FLUX_RATE', 'NETREADY_FLUX_SECONDS', 'OVERHEAD_SECONDS', 'OVERHEAD_CONCURRENCY', 'OVERHEAD_HOST_PORT', 'OVERHEAD_RATE_FRACTION', 'OVERHEAD_RATE', 'OVERHEAD_NODE_PORT', 'UDP_RATE', 'UDP_EXCHANGES', 'UDP_TIMEOUT_MS'];

/** The parent's environment minus what would steer the child: its own vitest, a cluster, workload knobs. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VITEST') || k.startsWith('SLI_') || k === 'KUBECONFIG' || k === 'KUBE_SLI_LAB_DIR' || k === 'NODE_ENV') continue;
    if (WORKLOAD_KNOBS.includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export const VITEST = join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs');
export const KUBE_SLI = join(repoRoot(), 'bin', 'kube-sli.js');

/** `vitest run --project slo <files>` in a child; its report goes to reportDir. */
export async function runSloSuites(files: string[], env: Record<string, string>, reportDir: string, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const r = await execa(process.execPath, [VITEST, 'run', '--project', 'slo', ...files], {
    cwd: repoRoot(),
    env: childEnv({ ...env, SLI_REPORT_DIR: reportDir }),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: timeoutMs,
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.all ?? '') };
}
