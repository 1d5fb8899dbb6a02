// `kube-sli gc` against a real control plane: a session process (labelled namespace with a
// heartbeat, 50 Services + EndpointSlices, an agnhost Deployment) is SIGKILLed; gc run as
// its own process finds the cluster through KUBE_SLI_LAB_DIR, deletes every labelled object
// of the dead session (also the one in `default`), waits for the namespace to be gone,
// keeps a live session and never touches an unlabelled Service. Needs Linux + root.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinaries, repoRoot } from '../../src/lab/binaries.js';
import { startControlPlane, type ControlPlane } from '../../src/lab/control-plane/index.js';
import { labDown } from '../../src/lab/lab.js';
import { apiStatus, kubeClients, type KubeClients } from '../../src/kube/clients.js';
import { HEARTBEAT_ANNOTATION, startHeartbeat, type Heartbeat } from '../../src/kube/heartbeat.js';
import { newSessionId, SESSION_LABEL, sessionLabels } from '../../src/kube/session.js';
import { freeControlPlanePorts, freePorts, labSkipReason } from './support/ports.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The gc CLI as a separate process (test/lab/support/gc-cli.ts; node --import tsx). */
function gcCli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/lab/support/gc-cli.ts', ...args], { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 3 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every object gc knows, carrying `selector`, as "Kind ns/name". */
async function labelled(c: KubeClients, labelSelector: string): Promise<string[]> {
  const name = (kind: string) => (o: { metadata?: { namespace?: string; name?: string } }) => `${kind} ${o.metadata?.namespace}/${o.metadata?.name}`;
  const [svc, eps, dep, rs, ds, pod, ns] = await Promise.all([
    c.core.listServiceForAllNamespaces({ labelSelector }),
    c.discovery.listEndpointSliceForAllNamespaces({ labelSelector }),
    c.apps.listDeploymentForAllNamespaces({ labelSelector }),
    c.apps.listReplicaSetForAllNamespaces({ labelSelector }),
    c.apps.listDaemonSetForAllNamespaces({ labelSelector }),
    c.core.listPodForAllNamespaces({ labelSelector }),
    c.core.listNamespace({ labelSelector }),
  ]);
  return [
    ...svc.items.map(name('Service')),
    ...eps.items.map(name('EndpointSlice')),
    ...dep.items.map(name('Deployment')),
    ...rs.items.map(name('ReplicaSet')),
    ...ds.items.map(name('DaemonSet')),
    ...pod.items.map(name('Pod')),
    ...ns.items.map((n) => `Namespace ${n.metadata?.name}`),
  ];
}

describe.skipIf(labSkipReason !== undefined)('kube-sli gc against a real API server', () => {
  let root: string;
  let stateDir: string;
  let home: string;
  let cp: ControlPlane;
  let admin: KubeClients;
  let victim: ChildProcess | undefined;
  let liveBeat: Heartbeat | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ksli-gc-'));
    stateDir = join(root, 'lab');
    home = join(root, 'home'); // no ~/.kube/config: gc must fall back to the lab
    cp = await startControlPlane({ stateDir, ports: await freeControlPlanePorts(), binaries: await findBinaries() });
    admin = kubeClients(cp.kubeconfigPath);
  }, 20 * 60_000);

  afterAll(async () => {
    liveBeat?.stop();
    if (victim && victim.exitCode === null && victim.signalCode === null) victim.kill('SIGKILL');
    // a failed test must not leave a lab behind
    if (stateDir) await labDown(stateDir).catch((e: unknown) => console.error(`labDown ${stateDir}: ${(e as Error).message}`));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('removes everything a SIGKILLed session left, keeps live sessions and unlabelled objects', async () => {
    const session = newSessionId();
    const namespace = `sli-${session}`;
    const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SLI_LAB_DIR: stateDir, HOME: home };
    delete env.KUBECONFIG;

    // the session that will die
    victim = spawn(process.execPath, ['--import', 'tsx', 'test/lab/support/gc-session.ts', cp.kubeconfigPath, session], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const child = victim;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('session process did not print "ready" within 120 s')), 120_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', (code, sig) => reject(new Error(`session process exited (${code ?? sig}) before "ready"`)));
    });
    // its labelled Service in a namespace it does not own, and somebody else's Service
    await admin.core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: `sli-gc-${session}`, labels: sessionLabels(session) }, spec: { ports: [{ port: 80, targetPort: 8080 }] } },
    });
    await admin.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'unrelated' }, spec: { ports: [{ port: 80 }] } } });
    // a live session: heartbeat from this process
    const live = newSessionId();
    await admin.core.createNamespace({ body: { metadata: { name: `sli-${live}`, labels: sessionLabels(live) } } });
    liveBeat = startHeartbeat(admin, `sli-${live}`, { intervalMs: 200 });
    await liveBeat.first;

    // the Deployment's Pods exist (Pending: this control plane has no nodes)
    const sel = `${SESSION_LABEL}=${session}`;
    for (let i = 0; (await admin.core.listPodForAllNamespaces({ labelSelector: sel })).items.length < 2; i++) {
      if (i > 300) throw new Error('the Deployment made no Pods within 60 s');
      await sleep(200);
    }
    const before = await labelled(admin, sel);
    expect(before.filter((x) => x.startsWith('Service ')).length).toBe(51);
    expect(before.filter((x) => x.startsWith('EndpointSlice ')).length).toBe(50);
    expect(before).toContain('Deployment ' + `${namespace}/agnhost`);
    expect(before).toContain(`Service default/sli-gc-${session}`);
    const ns = await admin.core.readNamespace({ name: namespace });
    expect(Date.now() - Date.parse(ns.metadata!.annotations![HEARTBEAT_ANNOTATION]!)).toBeLessThan(10_000);

    // while the session runs, gc (default 60 s staleness) keeps it
    const alive = await gcCli(['--dry-run'], env);
    expect(alive.code, alive.stderr).toBe(0);
    expect(alive.stderr).toMatch(new RegExp(`from the lab in ${stateDir}`));
    expect(alive.stdout).toMatch(new RegExp(`kept namespace ${namespace}: session ${session} alive \\(${namespace}: heartbeat \\d+s ago\\)`));
    expect(alive.stdout).toMatch(/gc: nothing to delete; kept 2 namespaces/);

    // SIGKILL: no clean-up; the heartbeat stops
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    await sleep(1_500);

    const t0 = Date.now();
    const run = await gcCli(['--stale', '1s'], env);
    console.log(`gc took ${Date.now() - t0} ms:\n${run.stdout}`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^deleted namespace ${namespace} \\(session ${session} dead; heartbeat \\d+s ago; \\d+ labelled objects\\)$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^deleted 1 object in namespace default \\(1 Service of session ${session} dead\\)$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^kept namespace sli-${live}: session ${live} alive`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^gc: deleted 1 namespace and 1 object in other namespaces \\(1 session: ${session}\\); kept 1 namespace$`, 'm'));

    // gc waited: nothing of the dead session is left, the namespace is gone
    expect(await labelled(admin, sel)).toEqual([]);
    expect(apiStatus(await admin.core.readNamespace({ name: namespace }).catch((e: unknown) => e))).toBe(404);
    // unlabelled and live objects untouched
    expect((await admin.core.readNamespacedService({ namespace: 'default', name: 'unrelated' })).metadata?.name).toBe('unrelated');
    expect((await admin.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).metadata?.name).toBe('kubernetes');
    expect((await admin.core.readNamespace({ name: `sli-${live}` })).status?.phase).toBe('Active');

    // --session takes a session even while its heartbeat is fresh (explicit --kubeconfig)
    const one = await gcCli(['--kubeconfig', cp.kubeconfigPath, '--session', live], env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^deleted namespace sli-${live} \\(session ${live} chosen;`, 'm'));
    liveBeat.stop();
    expect(await labelled(admin, SESSION_LABEL)).toEqual([]);
    expect(liveBeat.errors.length).toBeLessThan(5); // at most the stamps after deletion failed
  });

  it('exit codes: 2 for bad flags or no cluster, 3 when the cluster cannot be reached', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBE_SLI_LAB_DIR: join(root, 'no-lab'), HOME: join(root, 'home') };
    delete env.KUBECONFIG;
    const bad = await gcCli(['--stale', 'soon'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--stale "soon" is not a duration/);
    const none = await gcCli([], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no cluster to clean .*Fix: pass --kubeconfig <file>/);
    // a kubeconfig pointing at a port nothing listens on
    const dead = join(root, 'dead.kubeconfig');
    const [port] = await freePorts(1);
    await writeFile(
      dead,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: x\n  context:\n    cluster: x\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: t\n`,
    );
    const unreachable = await gcCli(['--kubeconfig', dead], env);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(new RegExp(`kube-sli gc: cluster https://127.0.0.1:${port} \\(from --kubeconfig\\): .*ECONNREFUSED`));
  });
});
