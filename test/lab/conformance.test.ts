// Upstream's own tests against the lab: [sig-network] [Conformance] tests from the pinned
// release's e2e suites, run by upstream's runner (e2e.test, ginkgo), focused on a subset
// that covers Services, EndpointSlices, DNS-free pod networking and NodePorts, so a
// regression of the lab (kubelet, containerd, CNI, kube-proxy, egress) fails CI. The whole
// set runs in `npm run bench -- conformance`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBinaries } from '../../src/lab/binaries.js';
import { CONFORMANCE_CI_SUBSET, focusRegex, runConformance } from '../../src/lab/conformance.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

if (labSkipReason) console.warn(`conformance test skipped: ${labSkipReason}`);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await labDown(d).catch((e: unknown) => console.error(`lab down ${d} failed, it may be left behind: ${(e as Error).message}`));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(labSkipReason !== undefined)('upstream [sig-network] conformance tests on the lab', () => {
  it(`passes ${CONFORMANCE_CI_SUBSET.length} focused conformance tests (nftables)`, async () => {
    const bins = await findBinaries();
    expect(bins.e2eTest, 'e2e.test is built with the lab binaries (scripts/build-lab-binaries.sh)').toBeDefined();
    const stateDir = await mkdtemp(join(tmpdir(), 'ksli-conf-'));
    await rm(stateDir, { recursive: true });
    dirs.push(stateDir);
    const lab = await labUp({ stateDir, nodes: 2, proxyMode: 'nftables', ports: await freeControlPlanePorts() });
    const r = await runConformance({ e2eTest: bins.e2eTest!, kubeconfig: lab.kubeconfigPath, focus: focusRegex(CONFORMANCE_CI_SUBSET), onLine: (l) => process.stderr.write(`[e2e] ${l}\n`) });
    console.log(`conformance (focused): ${r.passed.length} passed, ${r.failed.length} failed, ${r.skipped.length} skipped in ${r.seconds.toFixed(0)} s`);
    for (const f of r.failed) console.log(`FAILED: ${f.name}\n  ${f.message.split('\n')[0]}`);
    expect(r.failed.map((f) => f.name)).toEqual([]);
    // every test of the subset ran (a renamed upstream test would silently drop out)
    for (const name of CONFORMANCE_CI_SUBSET) expect(r.passed.some((p) => p.includes(name)), name).toBe(true);
    await labDown(stateDir);
  }, 25 * 60_000);
});
