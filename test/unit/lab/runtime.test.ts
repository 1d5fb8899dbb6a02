import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import {
  AGNHOST_IMAGE,
  CatalogError,
  KIT_IMAGE,
  defaultCatalog,
  imageRepository,
  matchCatalog,
} from '../../../src/lab/runtime/catalog.js';
import { expandVars, fieldRefValue, k8sMicroTime, k8sTime, nextBackoff, podPhase, shouldRestart } from '../../../src/lab/runtime/pod-status.js';

describe('runtime catalog', () => {
  const catalog = defaultCatalog({ agnhostPath: '/bin/agnhost', repoDir: '/repo', nodePath: '/usr/bin/node' });

  it('strips tag and digest, keeps a registry port', () => {
    expect(imageRepository('registry.k8s.io/e2e-test-images/agnhost:2.53')).toBe('registry.k8s.io/e2e-test-images/agnhost');
    expect(imageRepository('reg:5000/a/b:1@sha256:abc')).toBe('reg:5000/a/b');
    expect(imageRepository('reg:5000/a/b')).toBe('reg:5000/a/b');
    expect(imageRepository('nginx')).toBe('nginx');
  });

  it('matches by prefix, first entry wins, and misses other images', () => {
    expect(matchCatalog(catalog, `${AGNHOST_IMAGE}:2.53`)?.image).toBe(AGNHOST_IMAGE);
    expect(matchCatalog(catalog, `${KIT_IMAGE}@sha256:00`)?.image).toBe(KIT_IMAGE);
    expect(matchCatalog(catalog, 'docker.io/library/nginx:1.27')).toBeUndefined();
    expect(matchCatalog(defaultCatalog({}), `${AGNHOST_IMAGE}:2.53`)).toBeUndefined();
  });

  it('maps agnhost args and the /agnhost command to the binary', () => {
    const e = matchCatalog(catalog, AGNHOST_IMAGE)!;
    expect(e.resolve({ args: ['netexec', '--http-port=8080'] })).toEqual(['/bin/agnhost', 'netexec', '--http-port=8080']);
    expect(e.resolve({ command: ['/agnhost', 'netexec'], args: ['--http-port=8080'] })).toEqual(['/bin/agnhost', 'netexec', '--http-port=8080']);
    expect(() => e.resolve({ command: ['/bin/sh', '-c', 'x'] })).toThrow(CatalogError);
  });

  it('maps the kit image entrypoints to node --import tsx with absolute paths, run from the repo', () => {
    const e = matchCatalog(catalog, `${KIT_IMAGE}:dev`)!;
    expect(e.cwd).toBe('/repo');
    expect(e.resolve({ args: ['agent', '--x'] })).toEqual(['/usr/bin/node', '--import', 'tsx', '/repo/bin/kube-sli.js', 'agent', '--x']);
    expect(e.resolve({ command: ['kube-sli', 'run'], args: ['a'] })).toEqual(['/usr/bin/node', '--import', 'tsx', '/repo/bin/kube-sli.js', 'run', 'a']);
    expect(e.resolve({ command: ['kube-sli-server'], args: ['8080'] })).toEqual(['/usr/bin/node', '--import', 'tsx', '/repo/src/workload/server.ts', '8080']);
    expect(e.resolve({ command: ['/usr/local/bin/kube-sli-client', '--host=x'] })).toEqual(['/usr/bin/node', '--import', 'tsx', '/repo/src/workload/client.ts', '--host=x']);
    expect(() => e.resolve({ command: ['bash'] })).toThrow(/kube-sli, kube-sli-server, kube-sli-client/);
  });
});

describe('runtime pod status helpers', () => {
  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } },
    spec: { nodeName: 'node1', containers: [] },
  };

  it('resolves downward-API fields', () => {
    const addr = { podIP: '10.244.1.2', hostIP: '10.200.0.3' };
    expect(fieldRefValue(pod, 'metadata.name', addr)).toBe('p');
    expect(fieldRefValue(pod, 'metadata.namespace', addr)).toBe('ns');
    expect(fieldRefValue(pod, 'spec.nodeName', addr)).toBe('node1');
    expect(fieldRefValue(pod, 'status.podIP', addr)).toBe('10.244.1.2');
    expect(fieldRefValue(pod, 'status.hostIP', addr)).toBe('10.200.0.3');
    expect(fieldRefValue(pod, "metadata.labels['app']", addr)).toBe('web');
    expect(fieldRefValue(pod, 'spec.unknown', addr)).toBeUndefined();
  });

  it('expands $(VAR) like Kubernetes', () => {
    expect(expandVars('a=$(A) b=$(B) $$(A)', { A: '1' })).toBe('a=1 b=$(B) $(A)');
  });

  it('derives the phase like the kubelet', () => {
    expect(podPhase([{ state: 'waiting', hasRun: false, final: false }])).toBe('Pending');
    expect(podPhase([{ state: 'running', hasRun: true, final: false }, { state: 'waiting', hasRun: false, final: false }])).toBe('Pending');
    expect(podPhase([{ state: 'waiting', hasRun: true, final: false }])).toBe('Running'); // crash loop
    expect(podPhase([{ state: 'terminated', hasRun: true, final: true, exitCode: 0 }])).toBe('Succeeded');
    expect(podPhase([{ state: 'terminated', hasRun: true, final: true, exitCode: 0 }, { state: 'terminated', hasRun: true, final: true, exitCode: 2 }])).toBe('Failed');
    expect(podPhase([{ state: 'terminated', hasRun: true, final: true, exitCode: 0 }, { state: 'running', hasRun: true, final: false }])).toBe('Running');
  });

  it('restart policy and back-off', () => {
    expect(shouldRestart(undefined, 0)).toBe(true);
    expect(shouldRestart('Always', 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 1)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
    const seq: number[] = [];
    let b: number | undefined;
    for (let i = 0; i < 6; i++) seq.push((b = nextBackoff(b, 10_000)));
    expect(seq).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('formats Kubernetes times', () => {
    const d = new Date('2026-01-02T03:04:05.678Z');
    expect(k8sTime(d)).toBe('2026-01-02T03:04:05Z');
    expect(k8sMicroTime(d)).toBe('2026-01-02T03:04:05.678000Z');
  });
});
