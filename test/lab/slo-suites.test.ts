// The SLO suites as a user runs them (`vitest run --project slo`), against the embedded
// lab: the default profile passes in nftables mode; the first-packet scaling SLO catches
// iptables at 10,000 Services and says why (both on a lab the run brings and takes down,
// so no file deletes its Services one by one at the end); and `kube-sli gc` removes everything a run
// killed with SIGKILL left in the cluster. Each run is a child vitest with its own lab
// state dir and report dir. Needs Linux + root.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/lab/binaries.js';
import { defaultLabId, labDown, labUp } from '../../src/lab/lab.js';
import { kubeClients } from '../../src/kube/clients.js';
import { SESSION_LABEL } from '../../src/kube/session.js';
import { listNetns } from '../../src/netns/netns.js';
import { SLI } from '../../src/config/profiles.js';
import type { ReportDocument } from '../../src/report/index.js';
import { childEnv, runSloSuites, VITEST } from './support/slo-run.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`SLO suite tests skipped: ${labSkipReason}`);

const dirs: string[] = [];
const labs: string[] = [];
afterAll(async () => {
  for (const d of labs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function runSuites(files: string[], env: Record<string, string>): Promise<{ exitCode: number; output: string; report: ReportDocument }> {
  const reportDir = await tempDir('ksli-report-');
  const r = await runSloSuites(files, env, reportDir, 25 * 60_000);
  const output = r.output;
  // the verdict lines, so CI logs carry the figures
  console.log(output.split('\n').filter((l) => /^\s+(PASS|FAIL|INCONCLUSIVE) /.test(l)).join('\n'));
  let report: ReportDocument;
  try {
    report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as ReportDocument;
  } catch {
    throw new Error(`the suites wrote no report (exit ${r.exitCode}):\n${output.slice(-4000)}`);
  }
  return { exitCode: r.exitCode, output, report };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

async function expectLabGone(stateDir: string): Promise<void> {
  expect(await exists(join(stateDir, 'lab.json'))).toBe(false);
  const id = defaultLabId(stateDir);
  expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${id}-`))).toEqual([]);
}

describe.skipIf(!!labSkipReason)('SLO suites against the lab', () => {
  it('the default profile passes in nftables mode (every suite, a reduced workload)', async () => {
    const stateDir = join(await tempDir('ksli-slo-'), 'lab');
    labs.push(stateDir);
    const { exitCode, output, report } = await runSuites([], {
      SLI_PROVIDER: 'lab',
      SLI_PROXY_MODE: 'nftables',
      KUBE_SLI_LAB_DIR: stateDir,
      SLI_PROFILE: 'default',
      SERVICES: '100,1000',
      CLIENTS: '4',
      CONN_PER_CLIENT: '300',
      STREAM_SECONDS: '4',
      NETREADY_PODS: '10',
      NETREADY_RATE: '2',
      NETREADY_FLUX_RATE: '2',
      NETREADY_FLUX_SECONDS: '5',
      // request-overhead: 2 s per run, every path twice per mode (~1 min)
      OVERHEAD_SECONDS: '2',
    });
    const judged = report.series.filter((s) => s.verdict);
    // On 2 shared vCPUs the p99 of 2-s open-loop runs is now and then set by one stall: a quiet
    // lab measured one repeat's ClusterIP/host ratio at 10.8 with nothing slowed, the other at
    // 1.8. The kit withholds that verdict (inconclusive: the failure is not in every repeat),
    // which is its right answer here; every other verdict must pass, and a fail fails the test.
    const unreproducedTail = (s: (typeof judged)[number]): boolean => s.verdict!.status === 'inconclusive' && /the pooled p99 ratio fails but \d+ of \d+ repeats do not/.test(s.verdict!.reason ?? '');
    const failed = judged.filter((s) => s.verdict!.status !== 'pass' && !unreproducedTail(s)).map((s) => `${s.id}: ${s.verdict!.reason}`);
    expect(failed, output.slice(-3000)).toEqual([]);
    expect(exitCode, output.slice(-3000)).toBe(judged.some(unreproducedTail) ? 1 : 0);
    // every SLI of the profile was judged
    expect(new Set(judged.map((s) => s.sli))).toEqual(new Set(Object.values(SLI)));
    expect(report.environment.proxyMode).toBe('nftables');
    expect(report.environment.provider).toBe('lab');
    // the run's own lab: each file leaves its objects, the next removes them before it starts
    expect(output).toMatch(/removing namespace sli-\S+ of an earlier file of this run/);
    expect(output).not.toMatch(/deleting \d+ Services/);
    // the scale suites share one set of fillers: made once up to the largest point (1,000
    // Services with the backend's own), found by the later files, never deleted in between
    const created = [...output.matchAll(/(\d+) Services \+ EndpointSlices created/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(created, output.slice(-3000)).toBeLessThanOrEqual(1000);
    expect(created).toBeGreaterThanOrEqual(999);
    expect(output).toMatch(/filler Services of this run found in sli-scale-/);
    expect(output).not.toMatch(/filler Services beyond \d+: deleting them/);
    // the lab reads kube-proxy's nft children's CPU from /proc beside its own process's (the programming windows)
    expect(output).toMatch(/kube-proxy on node0: .* cores in its own process, its nft\/iptables children \d+\.\d{3} cores \(\d+\.\d\d CPU s(, \d+ ms per sync)?; lab: \/proc cutime\+cstime\)/);
    await expectLabGone(stateDir);
  }, 20 * 60_000);

  it('the first-packet scaling SLO fails in iptables mode at 10,000 Services, and says why', async () => {
    const stateDir = join(await tempDir('ksli-slo-'), 'lab');
    labs.push(stateDir);
    const { exitCode, output, report } = await runSuites(['suites/first-packet-latency.slo.test.ts'], {
      SLI_PROVIDER: 'lab',
      SLI_PROXY_MODE: 'iptables',
      KUBE_SLI_LAB_DIR: stateDir,
      SERVICES: '100,10000',
      CLIENTS: '2',
      CONN_PER_CLIENT: '1000',
    });
    expect(exitCode, output.slice(-3000)).toBe(1);
    const scaling = report.series.find((s) => s.sli === SLI.firstPacketScaling);
    expect(scaling?.verdict?.status, output.slice(-3000)).toBe('fail');
    const ratio = scaling!.verdict!.thresholds[0]!.observed!;
    expect(ratio).toBeGreaterThan(1.5);
    expect(scaling!.verdict!.reason).toMatch(/ratio/);
    expect(scaling!.notes?.filter((n) => n.kind === 'definition').map((n) => n.text).join(' ')).toMatch(/iptables/);
    // the absolute bound still holds: it is the growth that is caught
    for (const s of report.series.filter((x) => x.sli === SLI.firstPacket && x.verdict)) expect(s.verdict!.status).toBe('pass');
    expect(report.environment.proxyMode).toBe('iptables');
    expect(output).toMatch(/FAIL first_packet_latency_scaling_ratio/);
    // the lab goes down at the end: its 10,000 Services are not deleted one by one first
    expect(output).toMatch(/9999 filler Services stay for the next scale suite of this run \(then the cluster's teardown removes them\)/);
    expect(output).not.toMatch(/deleting \d+ Services/);
    await expectLabGone(stateDir);
  }, 25 * 60_000);

  it('kube-sli gc removes everything a run killed with SIGKILL left', async () => {
    const stateDir = join(await tempDir('ksli-gc-'), 'lab');
    labs.push(stateDir);
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables' });
    const session = `gc-${Date.now().toString(36)}`;
    const child = spawn(process.execPath, [VITEST, 'run', '--project', 'slo', 'suites/first-packet-latency.slo.test.ts'], {
      cwd: repoRoot(),
      env: childEnv({ KUBECONFIG: lab.kubeconfigPath, SLI_SESSION: session, SERVICES: '5000', CLIENTS: '2', CONN_PER_CLIENT: '100', SLI_REPORT_DIR: await tempDir('ksli-report-') }),
      detached: true, // its own process group: the kill takes the vitest workers too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // killed mid-way: once the agent runs and Services are being created
    await expect.poll(() => /Services \d+\/4999/.test(out) || child.exitCode !== null, { timeout: 5 * 60_000, interval: 200 }).toBe(true);
    expect(child.exitCode, `the run ended before it could be killed:\n${out.slice(-2000)}`).toBeNull();
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const clients = kubeClients(lab.kubeconfigPath);
    const labelled = async (): Promise<number> => {
      const selector = `${SESSION_LABEL}=${session}`;
      const [ns, svc, pods, slices, ds] = await Promise.all([
        clients.core.listNamespace({ labelSelector: selector }),
        clients.core.listServiceForAllNamespaces({ labelSelector: selector }),
        clients.core.listPodForAllNamespaces({ labelSelector: selector }),
        clients.discovery.listEndpointSliceForAllNamespaces({ labelSelector: selector }),
        clients.apps.listDaemonSetForAllNamespaces({ labelSelector: selector }),
      ]);
      return ns.items.length + svc.items.length + pods.items.length + slices.items.length + ds.items.length;
    };
    expect(await labelled()).toBeGreaterThan(0);
    const gc = await execa(process.execPath, [join(repoRoot(), 'bin', 'kube-sli.js'), 'gc', '--stale', '1s', '--kubeconfig', lab.kubeconfigPath], { reject: false, all: true, timeout: 5 * 60_000 });
    expect(gc.exitCode, String(gc.all)).toBe(0);
    expect(String(gc.all)).toMatch(new RegExp(`sli-first-packet-latency-${session}`));
    expect(await labelled()).toBe(0);
    // the cluster itself is untouched
    expect((await clients.core.readNamespace({ name: 'default' })).metadata?.name).toBe('default');
  }, 15 * 60_000);
});
