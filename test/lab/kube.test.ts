// src/kube against a real kube-apiserver (the lab control plane): Services at scale with
// synthetic EndpointSlices, RBAC checked up front, and deletion by session.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinaries } from '../../src/lab/binaries.js';
import { startControlPlane, type ControlPlane } from '../../src/lab/control-plane/index.js';
import { AccessError, missingAccess, requireAccess } from '../../src/kube/access.js';
import { kubeClients, type KubeClients } from '../../src/kube/clients.js';
import { createServiceSet, deleteSessionServices, TRIGGER_TIME_ANNOTATION } from '../../src/kube/services.js';
import { newSessionId, SESSION_LABEL } from '../../src/kube/session.js';
import { freeControlPlanePorts, labSkipReason } from './support/ports.js';

const COUNT = 1_000;

describe.skipIf(labSkipReason !== undefined)('src/kube against a real API server', () => {
  let root: string;
  let cp: ControlPlane;
  let admin: KubeClients;
  const session = newSessionId();
  const namespace = `sli-${session}`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ksli-kube-'));
    cp = await startControlPlane({ stateDir: join(root, 'lab'), ports: await freeControlPlanePorts(), binaries: await findBinaries() });
    admin = kubeClients(cp.kubeconfigPath);
    await admin.core.createNamespace({ body: { metadata: { name: namespace, labels: { [SESSION_LABEL]: session } } } });
  }, 20 * 60_000);

  afterAll(async () => {
    await cp?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`creates ${COUNT} Services with EndpointSlices and deletes them by session`, async () => {
    const progress: string[] = [];
    const r = await createServiceSet(
      admin,
      {
        namespace,
        session,
        count: COUNT,
        endpointsPerService: 2,
        endpointIps: (i) => [`10.244.250.${(i % 250) + 1}`, `10.244.251.${(i % 250) + 1}`],
      },
      { onProgress: (done, total, rate) => progress.push(`${done}/${total} ${rate.toFixed(0)}/s`) },
    );
    console.log(`created ${2 * COUNT} objects at ${r.objectsPerSecond.toFixed(0)}/s (retries ${r.services.retries + r.slices.retries})`);
    expect(r.services.done).toBe(COUNT);
    expect(r.slices.done).toBe(COUNT);
    expect(progress.at(-1)).toMatch(new RegExp(`^${COUNT}/${COUNT} `));

    const services = await admin.core.listNamespacedService({ namespace, labelSelector: `${SESSION_LABEL}=${session}` });
    expect(services.items).toHaveLength(COUNT);
    expect(services.items.every((s) => s.spec?.clusterIP?.startsWith('10.96.'))).toBe(true);
    const slice = await admin.discovery.readNamespacedEndpointSlice({ namespace, name: 'sli-svc-7-sli' });
    expect(slice.metadata?.labels?.['kubernetes.io/service-name']).toBe('sli-svc-7');
    expect(Date.parse(slice.metadata!.annotations![TRIGGER_TIME_ANNOTATION]!)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(slice.endpoints?.map((e) => e.addresses[0])).toEqual(['10.244.250.8', '10.244.251.8']);

    const lines: string[] = [];
    const d = await deleteSessionServices(admin, namespace, session, { onProgress: (l) => lines.push(l) });
    console.log(`deleted ${2 * COUNT} objects in ${(d.slices.seconds + d.services.seconds).toFixed(1)} s with ${d.slices.requests + d.services.requests} collection deletes`);
    // collection deletes a page at a time (v1.34 has them for both), with progress
    expect([d.slices.total, d.services.total, d.slices.oneByOne, d.services.oneByOne]).toEqual([COUNT, COUNT, false, false]);
    expect(d.services.requests).toBeLessThan(COUNT / 10);
    expect(lines.at(-1)).toMatch(new RegExp(`^deleted 1,000/1,000 Services in ${namespace} \\(\\d+/s\\)$`));
    const left = await admin.core.listNamespacedService({ namespace, labelSelector: `${SESSION_LABEL}=${session}` });
    const leftSlices = await admin.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `${SESSION_LABEL}=${session}` });
    expect(left.items.length + leftSlices.items.length).toBe(0);
  });

  it('checks RBAC up front: the admin may, a user with no bindings may not, and is told what to grant', async () => {
    const needs = [
      { verb: 'create', resource: 'services', namespace },
      { verb: 'create', resource: 'endpointslices', group: 'discovery.k8s.io', namespace },
      { verb: 'get', resource: 'nodes', subresource: 'proxy' },
    ];
    expect(await missingAccess(admin, needs)).toEqual([]);
    const nobody = kubeClients(await cp.issueKubeconfig('nobody', 'kube-sli-nobody'));
    const err = await requireAccess(nobody, needs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessError);
    expect((err as AccessError).message).toMatch(/may not: create services in sli-.*; create endpointslices\.discovery\.k8s\.io .*; get nodes\/proxy \(cluster-wide\)\. Grant these/);
  });
});
