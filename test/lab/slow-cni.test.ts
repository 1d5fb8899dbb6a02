// The kit must catch a slow CNI: the lab's own chain (ptp + host-local + portmap) plus a
// plugin that waits before passing the previous result through, given to the lab through
// --cni-bin-dir / --cni-conf-dir. The network-ready suite's p99 bound then fails on every
// source, while every pod still becomes network-ready. One node: a user's CNI directory is
// shared by every node, and host-local's range is per node. Needs Linux + root.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultLabId, labDown, labUp } from '../../src/lab/lab.js';
import { planNetwork } from '../../src/lab/network/plan.js';
import { cniConfList } from '../../src/lab/node/config.js';
import { DEFAULT_CNI_BIN_DIR } from '../../src/lab/node/node.js';
import { listNetns } from '../../src/netns/netns.js';
import { loadProfile, SLI } from '../../src/config/profiles.js';
import type { ReportDocument } from '../../src/report/index.js';
import { runSloSuites } from './support/slo-run.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`slow CNI test skipped: ${labSkipReason}`);

const SLOW_MS = 6000;

// A CNI plugin in the chain: ADD waits, then hands the previous plugin's result on
// unchanged (the CNI spec's chained-plugin contract); DEL, CHECK and VERSION answer at once.
const SLOW_PLUGIN = `#!/bin/sh
conf=$(cat)
case "$CNI_COMMAND" in
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'; exit 0 ;;
  ADD) sleep ${SLOW_MS / 1000}
       printf '%s' "$conf" | ${process.execPath} -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const c=JSON.parse(s);console.log(JSON.stringify({...c.prevResult,cniVersion:c.cniVersion}))})' ;;
  *) exit 0 ;;
esac
`;

const dirs: string[] = [];
const labs: string[] = [];
afterAll(async () => {
  for (const d of labs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(!!labSkipReason)('a slow CNI', () => {
  it('fails the network-ready p99 bound on every source, every pod still gets its network; a flux the node cannot hold is refused before anything is created', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ksli-cni-'));
    dirs.push(root);
    const stateDir = join(root, 'lab');
    const bin = join(root, 'bin');
    const conf = join(root, 'net.d');
    for (const d of [bin, conf]) await mkdir(d);
    for (const p of await readdir(DEFAULT_CNI_BIN_DIR)) await symlink(join(DEFAULT_CNI_BIN_DIR, p), join(bin, p));
    await writeFile(join(bin, 'slow'), SLOW_PLUGIN);
    await chmod(join(bin, 'slow'), 0o755);
    const node = planNetwork({ labId: defaultLabId(stateDir), nodes: 1 }).nodes[0]!;
    const list = cniConfList({ podCidr: node.podCidr, ipamDataDir: join(root, 'ipam') }) as { plugins: Record<string, unknown>[] };
    list.plugins.push({ type: 'slow' });
    await writeFile(join(conf, '10-slow.conflist'), JSON.stringify(list, null, 2));

    labs.push(stateDir);
    const lab = await labUp({ stateDir, nodes: 1, proxyMode: 'nftables', ports: await freeControlPlanePorts(), cniBinDir: bin, cniConfDir: conf });
    const reportDir = join(root, 'report');
    const r = await runSloSuites(['suites/network-ready.slo.test.ts'], { KUBECONFIG: lab.kubeconfigPath, SLI_PROFILE: 'default', NETREADY_PODS: '10', NETREADY_RATE: '2', NETREADY_FLUX_RATE: '2', NETREADY_FLUX_SECONDS: '5' }, reportDir, 15 * 60_000);
    console.log(r.output.split('\n').filter((l) => /^\s+(PASS|FAIL|INCONCLUSIVE) /.test(l)).join('\n'));
    let report: ReportDocument;
    try {
      report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as ReportDocument;
    } catch {
      throw new Error(`the suite wrote no report (exit ${r.exitCode}):\n${r.output.slice(-4000)}`);
    }
    expect(r.exitCode, r.output.slice(-3000)).toBe(1);
    const bound = loadProfile('default')[SLI.netreadyLatency].thresholds[0];
    expect(bound).toBe('p(99)<=5s');
    const latency = report.series.filter((s) => s.sli === SLI.netreadyLatency && s.labels.phase === 'steady');
    expect(latency.map((s) => s.source).sort()).toEqual(['egress', 'pod-ip', 'service']);
    for (const s of latency) {
      expect(s.verdict?.status, `${s.source}: ${s.verdict?.reason}`).toBe('fail');
      // the wait is in every sample: the sandbox's network exists only after the chain returns
      expect(s.summary.min).toBeGreaterThanOrEqual(SLOW_MS / 1000);
    }
    // slow, not broken: every pod got its network
    for (const s of report.series.filter((x) => x.sli === SLI.netreadyFailures)) expect(s.verdict?.status, s.verdict?.reason).toBe('pass');
    const sandbox = report.series.find((s) => s.sli === 'kubelet_run_podsandbox_duration_seconds' && s.labels.phase === 'steady');
    expect(sandbox?.summary.count).toBeGreaterThan(0);
    // the kubelet's RunPodSandbox includes the CNI ADD: it sees the wait too (bucket-interpolated)
    expect(sandbox!.summary.p50).toBeGreaterThanOrEqual(SLOW_MS / 1000 - 1);

    // bad input on the same lab: a flux this one node (110 pods) cannot hold is refused
    // before anything is created, naming the knob
    const bad = await runSloSuites(['suites/network-ready.slo.test.ts'], { KUBECONFIG: lab.kubeconfigPath, NETREADY_FLUX_RATE: '20', NETREADY_FLUX_SECONDS: '5' }, join(root, 'report-bad'), 10 * 60_000);
    expect(bad.exitCode, bad.output.slice(-3000)).not.toBe(0);
    expect(bad.output).toMatch(/cannot host the network-ready flux: it needs room for 201 pods, the real nodes have room for \d+ .*Fix: lower NETREADY_FLUX_RATE \(now 20\/s/);
    expect(bad.output).not.toMatch(/\[kube-sli\] namespace sli-network-ready/);

    await labDown(stateDir);
    labs.pop();
    expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${defaultLabId(stateDir)}-`))).toEqual([]);
  }, 20 * 60_000);
});
