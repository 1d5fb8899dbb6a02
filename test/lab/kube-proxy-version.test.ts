// Your own kube-proxy in the lab: kube-proxy v1.27.16, built from the Go module proxy (a
// cold build took 3 m 50 s on the shared 2-core machine; later runs take it from
// ~/.cache/kube-sli/bin/kube-proxy-v1.27.16), runs on the lab's v1.34 control plane in
// iptables mode with a feature gate set through --kube-proxy-arg. Its version and the gate
// are read back from its own /metrics (kubernetes_build_info, kubernetes_feature_enabled),
// then the lab swaps to its own kube-proxy as `kube-sli ab` does, and reads that back too.
// Needs Linux + root, Go and the module proxy.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinaries } from '../../src/lab/binaries.js';
import { resolveKubeProxy, KubeProxyChoiceError } from '../../src/lab/kube-proxy-choice.js';
import { swapKubeProxy } from '../../src/lab/kube-proxy-swap.js';
import { defaultLabId, labDown, labUp } from '../../src/lab/lab.js';
import { kubeClients } from '../../src/kube/clients.js';
import { readKubeProxyInfo } from '../../src/kube/kube-proxy-info.js';
import { closeProxyAgent } from '../../src/kube/proxy.js';
import { listNetns } from '../../src/netns/netns.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`kube-proxy version test skipped: ${labSkipReason}`);

const dirs: string[] = [];
const labs: string[] = [];
afterAll(async () => {
  for (const d of labs) await labDown(d).catch((e: unknown) => console.error(`labDown ${d}: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const labArgv = async () => (await findBinaries()).argv['kube-proxy'];

describe.skipIf(!!labSkipReason)('a kube-proxy of another minor version in the lab', () => {
  it('bad input is refused before any lab exists', async () => {
    const before = (await listNetns()).length;
    await expect(resolveKubeProxy('/nonexistent/kube-proxy', [], { mode: 'iptables', labArgv })).rejects.toThrow(/\/nonexistent\/kube-proxy does not exist/);
    await expect(resolveKubeProxy('/etc/hostname', [], { mode: 'iptables', labArgv })).rejects.toThrow(KubeProxyChoiceError);
    await expect(resolveKubeProxy('v1.99.0', [], { mode: 'iptables', labArgv })).rejects.toThrow(/kube-proxy v1\.99\.0: no such k8s\.io\/kubernetes version in the Go module proxy/);
    await expect(resolveKubeProxy('1.27', [], { mode: 'iptables', labArgv })).rejects.toThrow(/neither a release version/);
    await expect(resolveKubeProxy('v1.27.16', [], { mode: 'nftables', labArgv })).rejects.toThrow(/no nftables mode/);
    await expect(resolveKubeProxy('v1.27.16', ['--no-such-flag=1'], { mode: 'iptables', labArgv })).rejects.toThrow(/rejects --kube-proxy-arg "--no-such-flag=1"/);
    await expect(resolveKubeProxy('v1.27.16', ['--iptables-sync-period=5s'], { mode: 'iptables', labArgv })).rejects.toThrow(/ignores such flags when it runs with --config/);
    await expect(resolveKubeProxy('v1.27.16', ['--feature-gates=NoSuchGate=true'], { mode: 'iptables', labArgv })).rejects.toThrow(/no feature gate "NoSuchGate"/);
    expect((await listNetns()).length).toBe(before);
  }, 20 * 60_000);

  it('v1.27.16 with MinimizeIPTablesRestore=false: version and gate read back from its /metrics; then swapped to the lab\'s own', async () => {
    const choice = await resolveKubeProxy('v1.27.16', ['--feature-gates=MinimizeIPTablesRestore=false'], { mode: 'iptables', labArgv });
    expect(choice).toMatchObject({ source: 'release', version: 'v1.27.16', featureGates: { MinimizeIPTablesRestore: false } });
    const stateDir = join(await mkdtemp(join(tmpdir(), 'ksli-kpv-')), 'lab');
    dirs.push(join(stateDir, '..'));
    labs.push(stateDir);
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'iptables', kubeProxy: choice });
    const clients = kubeClients(lab.kubeconfigPath);
    try {
      for (const node of lab.nodes) {
        const info = await readKubeProxyInfo(clients, node);
        expect(info.version, node).toBe('v1.27.16');
        expect(info.featureGates.MinimizeIPTablesRestore, `${node}: the gate as kube-proxy applied it`).toBe(false);
      }
      const own = await resolveKubeProxy(undefined, [], { mode: 'iptables', labArgv });
      const swap = await swapKubeProxy(stateDir, own);
      console.log(`swap v1.27.16 -> ${own.version}: ${swap.ms} ms`);
      for (const node of lab.nodes) {
        const info = await readKubeProxyInfo(clients, node);
        expect(info.version, node).toBe(own.version);
        expect(info.lastSync).toBeGreaterThanOrEqual(info.processStart!);
      }
    } finally {
      closeProxyAgent(clients);
    }
    await labDown(stateDir);
    labs.splice(labs.indexOf(stateDir), 1);
    expect(await stat(join(stateDir, 'lab.json')).then(() => true, () => false)).toBe(false);
    expect((await listNetns()).filter((n) => n.startsWith(`ksli-lab-${defaultLabId(stateDir)}-`))).toEqual([]);
  }, 25 * 60_000);
});
