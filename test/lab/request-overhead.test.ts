// The request-overhead suite can fail: a tbf qdisc on the server node's veth toward the
// backend pod (the lab's ptp CNI makes one routed veth per pod) caps every path that ends
// at the pod, and at an arrival rate above that cap the ClusterIP/host-network p99 ratio
// fails while the host-network path, which has no veth, is untouched. The qdisc is added the moment the veth appears (an
// `ip monitor link` in the node's namespace), before the pod is Ready, so the whole
// measurement runs shaped; afterwards the test checks, from the pod IP's route in the node
// namespace, that the shaped veth was the backend pod's. Needs Linux + root.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../src/lab/lab.js';
import { nodeNetnsName } from '../../src/lab/network/plan.js';
import { SLI } from '../../src/config/profiles.js';
import type { ReportDocument } from '../../src/report/index.js';
import { kubeClients } from '../../src/kube/clients.js';
import { APP_LABEL } from '../../src/kube/workloads.js';
import { runIn } from '../../src/netns/netns.js';
import { waitFor } from '../../src/wait-for.js';
import { runSloSuites } from './support/slo-run.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`request-overhead lab test skipped: ${labSkipReason}`);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

// 100 kbit/s toward the pod: a request of ~150 bytes on the wire takes ~12 ms to leave
const TBF = ['rate', '100kbit', 'burst', '1600', 'latency', '400ms'];

describe.skipIf(!!labSkipReason)('request-overhead on a path slowed on purpose', () => {
  it('a tbf qdisc on the veth toward the backend pod makes the ClusterIP/host p99 ratio fail', async () => {
    const stateDir = join(await tempDir('ksli-ovh-'), 'lab');
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables' });
    const monitor = { shaped: [] as string[], errors: [] as string[] };
    try {
      // the suite puts its server on the second node by name: node1
      const ns = nodeNetnsName(lab.labId, 1);
      const mon = spawn('nsenter', [`--net=/run/netns/${ns}`, 'ip', '-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = new Promise((r) => mon.once('spawn', r));
      mon.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/^\d+: (veth[^@:\s]+)[@:]/gm)) {
          const dev = m[1]!;
          if (monitor.shaped.includes(dev)) continue;
          monitor.shaped.push(dev);
          const tc = spawn('nsenter', [`--net=/run/netns/${ns}`, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', ...TBF], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          tc.stderr.on('data', (e: Buffer) => (err += e.toString()));
          tc.on('exit', (code) => code !== 0 && monitor.errors.push(`tc on ${dev}: exit ${code} ${err}`));
        }
      });
      await started;
      const reportDir = await tempDir('ksli-report-');
      // while the suite runs: the backend pod's IP, and the veth its route in the node namespace leaves by
      const clients = kubeClients(lab.kubeconfigPath);
      const routeDev = (async (): Promise<string> => {
        const ip = await waitFor(
          async () => {
            const pods = await clients.core.listPodForAllNamespaces({ labelSelector: `${APP_LABEL}=overhead-pod` });
            return pods.items.find((p) => p.status?.podIP && p.spec?.nodeName === lab.nodes[1])?.status?.podIP ?? { pending: 'no overhead-pod with an IP on node1' };
          },
          { timeout: 5 * 60_000, interval: 200, what: 'the backend pod of request-overhead has an IP' },
        );
        const route = await runIn(undefined, ['nsenter', `--net=/run/netns/${ns}`, 'ip', '-o', 'route', 'get', ip]);
        return /\bdev (\S+)/.exec(route)?.[1] ?? `no dev in "${route}"`;
      })();
      let r: { exitCode: number; output: string };
      try {
        r = await runSloSuites(
          ['suites/request-overhead.slo.test.ts'],
          {
            KUBECONFIG: lab.kubeconfigPath,
            OVERHEAD_SECONDS: '2',
            // tbf delays only what exceeds its rate: the open loop must ask more than the shaped
            // path carries (~55 req/s) and less than the host network does (hundreds on a loaded
            // 2-vCPU machine). Requests then queue in the generator, and counted from their due
            // times they show it — a closed-loop client would not.
            OVERHEAD_RATE: '200',
          },
          reportDir,
          10 * 60_000,
        );
      } finally {
        mon.kill();
      }
      const output = r.output;
      console.log(output.split('\n').filter((l) => /^\s+(PASS|FAIL|INCONCLUSIVE) |request-overhead: /.test(l)).join('\n'));
      expect(monitor.errors).toEqual([]);
      // the backend pod's veth, and only it, was shaped (the client and the agent are elsewhere or on the host network)
      expect(monitor.shaped.length, output.slice(-2000)).toBe(1);
      expect(monitor.shaped).toEqual([await routeDev]);
      const report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as ReportDocument;
      const p99 = report.series.find((s) => s.sli === SLI.clusterIpRequestP99 && s.verdict);
      expect(p99?.verdict?.status, output.slice(-3000)).toBe('fail');
      expect(p99!.verdict!.thresholds[0]!.observed!).toBeGreaterThan(5);
      expect(r.exitCode).toBe(1);
    } finally {
      await labDown(stateDir);
    }
  }, 20 * 60_000);
});
