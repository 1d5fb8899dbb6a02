// Issue #3's figures: how fast the kit creates and deletes 10,000 Services with their
// EndpointSlices against the lab (bounded by the API server, not the kit), and the wall
// time of the default profile — every suite, default workload — on the lab.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeClients } from '../src/kube/clients.js';
import { createServiceSet, deleteSessionServices } from '../src/kube/services.js';
import { newSessionId, sessionLabels } from '../src/kube/session.js';
import { freeControlPlanePorts } from '../src/lab/control-plane/index.js';
import { repoRoot } from '../src/lab/binaries.js';
import { labDown, labUp } from '../src/lab/lab.js';

export interface ServicesFigures {
  services: number;
  createSeconds: number;
  createObjectsPerSecond: number;
  deleteSeconds: number;
  deleteObjectsPerSecond: number;
}

export async function benchServices(n = 10_000): Promise<ServicesFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'ksli-bench-svc-'));
  const stateDir = join(dir, 'lab');
  try {
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables' });
    const clients = kubeClients(lab.kubeconfigPath);
    const session = newSessionId();
    const namespace = `sli-bench-${session}`;
    await clients.core.createNamespace({ body: { metadata: { name: namespace, labels: sessionLabels(session) } } });
    const created = await createServiceSet(clients, { namespace, session, count: n, endpointsPerService: 2, endpointIps: () => ['10.244.0.10', '10.244.1.10'] });
    const t0 = performance.now();
    await deleteSessionServices(clients, namespace, session);
    const deleteSeconds = (performance.now() - t0) / 1000;
    await clients.core.deleteNamespace({ name: namespace });
    return {
      services: n,
      createSeconds: created.services.seconds + created.slices.seconds,
      createObjectsPerSecond: created.objectsPerSecond,
      deleteSeconds,
      deleteObjectsPerSecond: (2 * n) / deleteSeconds,
    };
  } finally {
    await labDown(stateDir).catch((e: unknown) => console.error(`lab down ${stateDir} failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}

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
    const r = await execa(process.execPath, [join(repoRoot(), 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'slo'], {
      cwd: repoRoot(),
      env: { ...env, SLI_PROVIDER: 'lab', SLI_PROFILE: 'default', KUBE_SLI_LAB_DIR: join(dir, 'lab'), SLI_REPORT_DIR: join(dir, 'report') },
      extendEnv: false,
      reject: false,
      all: true,
    });
    const lines = String(r.all ?? '').split('\n');
    return { seconds: (performance.now() - t0) / 1000, exitCode: r.exitCode ?? -1, tail: lines.filter((l) => /PASS|FAIL|INCONCLUSIVE|conformant/.test(l)).join('\n') };
  } finally {
    await labDown(join(dir, 'lab')).catch((e: unknown) => console.error(`lab down ${join(dir, 'lab')} failed, it may be left behind: ${(e as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  }
}
