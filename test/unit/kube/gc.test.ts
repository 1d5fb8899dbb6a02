// gcSessions' decisions against an in-memory API (the real thing is test/lab/gc.test.ts):
// which sessions are dead, what is deleted and with which selectors, what is never touched.
import { describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import type { KubeClients } from '../../../src/kube/clients.js';
import { GcOptionsError, GcTimeoutError, gcSessions } from '../../../src/kube/gc.js';
import { formatGcResult } from '../../../src/cli/gc-command.js';
import { HEARTBEAT_ANNOTATION } from '../../../src/kube/heartbeat.js';
import { SESSION_LABEL } from '../../../src/kube/session.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const iso = (agoMs: number): string => new Date(NOW - agoMs).toISOString();

interface Obj {
  kind: string;
  metadata: k8s.V1ObjectMeta;
}

/** Label selectors as gc uses them: `key` (exists) or `key=value`. */
function matches(sel: string | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  const [k, v] = sel.split('=') as [string, string | undefined];
  if (v === undefined) return labels?.[k] !== undefined;
  return labels?.[k] === v;
}

class FakeCluster {
  namespaces: k8s.V1Namespace[] = [];
  objects: Obj[] = [];
  selectors: string[] = [];
  /** reads of a terminating namespace before it disappears (Infinity: stuck) */
  finalizeAfterReads = 2;
  private reads = new Map<string, number>();

  ns(name: string, o: { session?: string; beatAgo?: number; createdAgo?: number } = {}): this {
    this.namespaces.push({
      metadata: {
        name,
        labels: o.session !== undefined ? { [SESSION_LABEL]: o.session } : {},
        annotations: o.beatAgo !== undefined ? { [HEARTBEAT_ANNOTATION]: iso(o.beatAgo) } : {},
        creationTimestamp: new Date(NOW - (o.createdAgo ?? 3_600_000)),
      },
    });
    return this;
  }

  obj(kind: string, namespace: string, name: string, session?: string, createdAgo = 3_600_000): this {
    this.objects.push({
      kind,
      metadata: { namespace, name, uid: `${kind}/${namespace}/${name}`, labels: session !== undefined ? { [SESSION_LABEL]: session } : {}, creationTimestamp: new Date(NOW - createdAgo) },
    });
    return this;
  }

  names(kind: string): string[] {
    return this.objects.filter((o) => o.kind === kind).map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
  }

  clients(): KubeClients {
    const list = (kind: string) => async (p: { labelSelector?: string }) => {
      this.selectors.push(`list ${kind} ${p.labelSelector}`);
      return { items: this.objects.filter((o) => o.kind === kind && matches(p.labelSelector, o.metadata.labels)).map((o) => ({ metadata: o.metadata })) };
    };
    const delColl = (kind: string) => async (p: { namespace: string; labelSelector?: string }) => {
      if (!p.labelSelector) throw new Error('collection delete without a selector');
      this.selectors.push(`delete ${kind} ${p.namespace} ${p.labelSelector}`);
      this.objects = this.objects.filter((o) => !(o.kind === kind && o.metadata.namespace === p.namespace && matches(p.labelSelector, o.metadata.labels)));
      return {};
    };
    const notFound = (): k8s.ApiException<unknown> => new k8s.ApiException(404, 'not found', { message: 'not found' }, {});
    const core = {
      listNamespace: async (p: { labelSelector?: string }) => ({ items: this.namespaces.filter((n) => matches(p.labelSelector, n.metadata?.labels)) }),
      deleteNamespace: async (p: { name: string }) => {
        const n = this.namespaces.find((x) => x.metadata?.name === p.name);
        if (!n) throw notFound();
        if (!n.metadata?.labels?.[SESSION_LABEL]) throw new Error(`deleted unlabelled namespace ${p.name}`);
        n.metadata.deletionTimestamp = new Date(NOW);
        n.status = { phase: 'Terminating', conditions: [{ type: 'NamespaceFinalizersRemaining', status: 'True', message: 'Some content has finalizers' }] };
        return {};
      },
      readNamespace: async (p: { name: string }) => {
        const n = this.namespaces.find((x) => x.metadata?.name === p.name);
        if (!n) throw notFound();
        const r = (this.reads.get(p.name) ?? 0) + 1;
        this.reads.set(p.name, r);
        if (n.metadata?.deletionTimestamp && r >= this.finalizeAfterReads) {
          this.namespaces = this.namespaces.filter((x) => x !== n);
          this.objects = this.objects.filter((o) => o.metadata.namespace !== p.name);
          throw notFound();
        }
        return n;
      },
      listServiceForAllNamespaces: list('Service'),
      listPodForAllNamespaces: list('Pod'),
      deleteCollectionNamespacedService: delColl('Service'),
      deleteCollectionNamespacedPod: delColl('Pod'),
    };
    const discovery = { listEndpointSliceForAllNamespaces: list('EndpointSlice'), deleteCollectionNamespacedEndpointSlice: delColl('EndpointSlice') };
    const apps = {
      listDeploymentForAllNamespaces: list('Deployment'),
      listReplicaSetForAllNamespaces: list('ReplicaSet'),
      listDaemonSetForAllNamespaces: list('DaemonSet'),
      deleteCollectionNamespacedDeployment: delColl('Deployment'),
      deleteCollectionNamespacedReplicaSet: delColl('ReplicaSet'),
      deleteCollectionNamespacedDaemonSet: delColl('DaemonSet'),
    };
    return { core, discovery, apps } as unknown as KubeClients;
  }
}

const opts = { now: () => new Date(NOW), pollMs: 1 };

function cluster(): FakeCluster {
  return new FakeCluster()
    .ns('default')
    .ns('kube-system')
    .ns('sli-dead', { session: 'dead', beatAgo: 5 * 60_000 })
    .ns('sli-dead-2', { session: 'dead' }) // no heartbeat, created an hour ago
    .ns('sli-live', { session: 'live', beatAgo: 5_000 })
    .ns('sli-live-quiet', { session: 'live' }) // the session's other namespace: kept with it
    .ns('sli-young', { session: 'young', createdAgo: 2_000 }) // no heartbeat yet, just created
    .obj('Service', 'sli-dead', 'svc-0', 'dead')
    .obj('EndpointSlice', 'sli-dead', 'svc-0-sli', 'dead')
    .obj('Service', 'default', 'dead-svc', 'dead')
    .obj('Pod', 'default', 'dead-pod', 'dead')
    .obj('Service', 'default', 'live-svc', 'live')
    .obj('Service', 'default', 'kubernetes')
    .obj('Deployment', 'user-ns', 'orphan', 'nsless') // session without a namespace, old
    .obj('Deployment', 'user-ns', 'fresh', 'nsless-new', 10_000) // no namespace, young
    .obj('Service', 'sli-live', 'dead-in-live', 'dead'); // dead session's object in a live session's namespace
}

describe('gcSessions', () => {
  it('deletes dead sessions (stale heartbeat, or none and old) with everything labelled of theirs, and nothing else', async () => {
    const c = cluster();
    const progress: string[] = [];
    const r = await gcSessions(c.clients(), { ...opts, onProgress: (m) => progress.push(m) });
    expect(r.namespaces).toEqual(['sli-dead', 'sli-dead-2']);
    expect(r.sessions).toEqual(['dead', 'nsless']);
    expect(r.objects).toBe(4); // default/dead-svc, default/dead-pod, user-ns/orphan, sli-live/dead-in-live
    expect(r.kept.map((k) => k.namespace).sort()).toEqual(['sli-live', 'sli-live-quiet', 'sli-young']);
    expect(r.kept.find((k) => k.namespace === 'sli-live-quiet')?.reason).toMatch(/session live alive \(sli-live: heartbeat 5s ago\)/);
    expect(r.kept.find((k) => k.namespace === 'sli-young')?.reason).toMatch(/alive \(sli-young: no heartbeat, created 2s ago\)/);

    expect(c.namespaces.map((n) => n.metadata?.name).sort()).toEqual(['default', 'kube-system', 'sli-live', 'sli-live-quiet', 'sli-young']);
    expect(c.names('Service')).toEqual(['default/kubernetes', 'default/live-svc']);
    expect(c.names('Pod')).toEqual([]);
    expect(c.names('Deployment')).toEqual(['user-ns/fresh']);
    // every collection delete carried one dead session's selector
    const deletes = c.selectors.filter((s) => s.startsWith('delete '));
    expect(deletes.length).toBeGreaterThan(0);
    for (const d of deletes) expect(d).toMatch(new RegExp(`${SESSION_LABEL}=(dead|nsless)$`));
    expect(progress.at(-1)).toMatch(/^gone: 2 namespace\(s\), 4 object\(s\)/);

    const lines = formatGcResult(r, false);
    expect(lines).toContain('deleted namespace sli-dead (session dead dead; heartbeat 5m ago; 2 labelled objects)');
    expect(lines.find((l) => l.startsWith('deleted namespace sli-dead-2'))).toMatch(/no heartbeat, created 60m ago/);
    expect(lines.find((l) => l.includes('in namespace default'))).toMatch(/^deleted 2 objects in namespace default \(1 Pod, 1 Service of session dead dead\)/);
    expect(lines.at(-1)).toBe('gc: deleted 2 namespaces and 4 objects in other namespaces (2 sessions: dead, nsless); kept 3 namespaces');
  });

  it('dry run: the same verdicts, nothing deleted', async () => {
    const c = cluster();
    const before = JSON.stringify([c.namespaces, c.objects]);
    const r = await gcSessions(c.clients(), { ...opts, dryRun: true });
    expect(r.namespaces).toEqual(['sli-dead', 'sli-dead-2']);
    expect(r.objects).toBe(4);
    expect(JSON.stringify([c.namespaces, c.objects])).toBe(before);
    expect(c.selectors.filter((s) => s.startsWith('delete '))).toEqual([]);
    expect(formatGcResult(r, true).at(-1)).toMatch(/^gc: would delete 2 namespaces and 4 objects/);
  });

  it('a shorter staleMs makes a quiet live session dead; --all takes every session; --session one, even alive', async () => {
    const short = await gcSessions(cluster().clients(), { ...opts, dryRun: true, staleMs: 1_000 });
    expect(short.namespaces).toEqual(['sli-dead', 'sli-dead-2', 'sli-live', 'sli-live-quiet', 'sli-young']);
    expect(short.sessions).toEqual(['dead', 'live', 'nsless', 'nsless-new', 'young']);

    const all = await gcSessions(cluster().clients(), { ...opts, dryRun: true, all: true });
    expect(all.namespaces).toHaveLength(5);
    expect(all.kept).toEqual([]);

    const c = cluster();
    const one = await gcSessions(c.clients(), { ...opts, session: 'live' });
    expect(one.namespaces).toEqual(['sli-live', 'sli-live-quiet']);
    expect(one.objects).toBe(1); // default/live-svc; dead-in-live went with its namespace
    expect(c.names('Service')).toEqual(['default/dead-svc', 'default/kubernetes', 'sli-dead/svc-0']);
    expect(c.selectors.filter((s) => s.startsWith('list ')).every((s) => s.endsWith(`${SESSION_LABEL}=live`))).toBe(true);
  });

  it('nothing labelled: nothing deleted', async () => {
    const c = new FakeCluster().ns('default').obj('Service', 'default', 'kubernetes');
    const r = await gcSessions(c.clients(), opts);
    expect(r).toEqual({ namespaces: [], objects: 0, kept: [], sessions: [], deleted: [] });
    expect(formatGcResult(r, false)).toEqual(['gc: nothing to delete']);
  });

  it('a namespace that does not finish terminating: GcTimeoutError naming it and its conditions', async () => {
    const c = cluster();
    c.finalizeAfterReads = Infinity;
    const err = await gcSessions(c.clients(), { ...opts, timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GcTimeoutError);
    const e = err as GcTimeoutError;
    expect(e.remaining.namespaces).toEqual(['sli-dead', 'sli-dead-2']);
    expect(e.message).toMatch(/namespace sli-dead: Terminating \(NamespaceFinalizersRemaining: Some content has finalizers\)/);
    expect(e.result.namespaces).toEqual(['sli-dead', 'sli-dead-2']);
  });

  it('refuses session together with all, and a negative staleMs', async () => {
    await expect(gcSessions(cluster().clients(), { session: 'x', all: true })).rejects.toThrow(GcOptionsError);
    await expect(gcSessions(cluster().clients(), { staleMs: -1 })).rejects.toThrow(GcOptionsError);
  });
});
