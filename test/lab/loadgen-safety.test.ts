// The loadgen's confinement and control token, end to end on the embedded lab: a real
// kube-apiserver's pods/proxy forwards the token header to the loadgen pod (and nothing
// else gets in), and a target outside the cluster's Service and pod CIDRs is refused; a
// read the API server cannot forward is tried again until its deadline, then reported as
// an infrastructure error.
// Needs Linux + root.
//   npx vitest run --project lab test/lab/loadgen-safety.test.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoadgens, type Loadgen } from '../../fixtures/loadgen.js';
import { kubeClients, type KubeClients } from '../../src/kube/clients.js';
import { detectFacts, type ClusterFacts } from '../../src/kube/facts.js';
import { closeProxyAgent, proxyRequest } from '../../src/kube/proxy.js';
import { InfrastructureError } from '../../src/infrastructure-error.js';
import { sessionLabels } from '../../src/kube/session.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { defaultKitImage } from '../../src/kube/images.js';
import { CONTROL_TOKEN_HEADER, newControlToken } from '../../src/workload/control-auth.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

const NS = 'lg-safety';
const SESSION = `lgs-${Date.now().toString(36)}`;

describe.skipIf(labSkipReason !== undefined)('loadgen safety through pods/proxy', () => {
  let root: string;
  let stateDir: string;
  let clients: KubeClients;
  let facts: ClusterFacts;
  let lg: Loadgen;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ksli-lgs-'));
    stateDir = join(root, 'lab');
    const lab = await labUp({ stateDir, ports: await freeControlPlanePorts(), proxyMode: 'nftables', nodes: 1 });
    clients = kubeClients(lab.kubeconfigPath);
    facts = await detectFacts(clients);
    await clients.core.createNamespace({ body: { metadata: { name: NS, labels: sessionLabels(SESSION) } } });
    const fleet = await startLoadgens(clients, {
      namespace: NS,
      session: SESSION,
      image: defaultKitImage(),
      count: 1,
      allow: [...facts.serviceCidrs, ...facts.podCidrs],
    });
    lg = fleet[0]!;
  }, 10 * 60_000);

  afterAll(async () => {
    if (clients) closeProxyAgent(clients);
    if (stateDir) await labDown(stateDir);
    if (root) await rm(root, { recursive: true, force: true });
  }, 5 * 60_000);

  it('the lab knows its pod CIDR from the Nodes', () => {
    expect(facts.podCidrs.length).toBeGreaterThan(0);
    expect(facts.sources.podCidrs).toBe('Node spec.podCIDRs');
  });

  it('the token travels through pods/proxy; without it, or with another, the loadgen answers 401', async () => {
    const { epochNs } = await lg.get<{ epochNs: string }>('/time');
    expect(BigInt(epochNs)).toBeGreaterThan(0n);
    const none = await proxyRequest(clients, lg.target, '/time');
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/missing x-kube-sli-token header/);
    const other = await proxyRequest(clients, lg.target, '/runs', {
      method: 'POST',
      body: { mode: 'requests', targets: [{ host: facts.serviceCidrs[0]!.split('/')[0]!, port: 80 }], connections: 1 },
      headers: { [CONTROL_TOKEN_HEADER]: newControlToken() },
    });
    expect(other.status).toBe(401);
    expect(other.text).toMatch(/wrong x-kube-sli-token/);
    // /healthz stays open for the kubelet's readiness probe
    expect((await proxyRequest(clients, lg.target, '/healthz')).status).toBe(200);
  });

  it('a target outside the Service and pod CIDRs is refused, one inside accepted', async () => {
    await expect(lg.startProbe({ host: '198.51.100.7', port: 80, timeoutMs: 1000 })).rejects.toThrow(/HTTP 403: .*198\.51\.100\.7 is outside the cluster's Service and pod CIDRs/);
    await expect(lg.startProbe({ host: 'example.com', port: 80, timeoutMs: 1000 })).rejects.toThrow(/HTTP 403: .*is not an IP address/);
    const kubernetes = await clients.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    const probe = await lg.startProbe({ host: kubernetes.spec!.clusterIP!, port: 443, timeoutMs: 1000 });
    expect(probe.id).toMatch(/^p\d+$/);
  });

  it("a read toward a pod port where nothing listens: the API server's 503, tried again with backoff, ends in an InfrastructureError naming it", async () => {
    const t0 = performance.now();
    const e = await proxyRequest(clients, { ...lg.target, port: 9 }, '/time', { deadlineMs: 4000, timeoutMs: 2000 }).catch((x: unknown) => x);
    const seconds = (performance.now() - t0) / 1000;
    expect(e).toBeInstanceOf(InfrastructureError);
    const msg = (e as Error).message;
    expect(msg).toMatch(/^GET pod lg-safety\/client-0:9\/time through the API server's proxy failed (\d+) times in [\d.]+ s \(the next attempt would start after the 4 s deadline\): \d+× HTTP 503; last: HTTP 503: .*error trying to reach service: .*10\.244\.\d+\.\d+:9/);
    expect(Number(/failed (\d+) times/.exec(msg)![1])).toBeGreaterThan(3);
    expect(seconds).toBeLessThan(4 + 2);
  });
});
