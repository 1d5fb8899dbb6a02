// Removes what dead sessions left behind (`kube-sli gc`). A run killed with SIGKILL cannot
// clean up, so everything the kit creates carries SESSION_LABEL and every session stamps
// its namespaces with a heartbeat (heartbeat.ts). Here:
//   1. list the namespaces carrying SESSION_LABEL and the labelled Services,
//      EndpointSlices, Deployments, ReplicaSets, DaemonSets and Pods in all namespaces;
//   2. judge each session: alive while ANY of its namespaces has a fresh heartbeat (or is
//      too young to have missed one); a session with no namespace at all is alive while
//      its newest object is younger than staleMs. `session` picks one session and `all`
//      every session, regardless of heartbeats;
//   3. delete the chosen sessions' namespaces (everything inside goes with them), and
//      their labelled objects in other namespaces (e.g. `default`, a user-chosen one) with
//      collection deletes by label selector, per namespace and session;
//   4. wait until those namespaces are gone (they finalize asynchronously) and the objects
//      too, deleting again what controllers recreated meanwhile, within a deadline.
// Only objects carrying the label are ever touched: every delete is either a labelled
// namespace found in step 1 or a collection delete with `SESSION_LABEL=<session>`.
import type * as k8s from '@kubernetes/client-node';
import { bulk } from './bulk.js';
import { apiStatus, type KubeClients } from './clients.js';
import { heartbeatTime, isStale } from './heartbeat.js';
import { SESSION_LABEL } from './session.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../wait-for.js';

export const DEFAULT_STALE_MS = 60_000;
export const DEFAULT_GC_TIMEOUT_MS = TIMEOUTS.gcMs;

export interface GcOptions {
  /** only this session, whatever its heartbeat says */
  session?: string;
  /** every session, whatever their heartbeats say */
  all?: boolean;
  /** a heartbeat older than this marks a dead session (default 60 s) */
  staleMs?: number;
  /** report what would be deleted; delete nothing */
  dryRun?: boolean;
  /** how long to wait for namespaces and objects to be gone (default 120 s) */
  timeoutMs?: number;
  /** poll interval while waiting (default 500 ms) */
  pollMs?: number;
  /** progress lines */
  onProgress?: (message: string) => void;
  /** clock (tests) */
  now?: () => Date;
}

export interface GcDeletion {
  namespace: string;
  /** true: the namespace itself was deleted; false: labelled objects inside it were */
  whole: boolean;
  sessions: string[];
  /** labelled objects of the kinds gc lists found in it when gc started */
  objects: number;
  reason: string;
}

export interface GcResult {
  /** namespaces deleted (with dryRun: that would be), sorted */
  namespaces: string[];
  /** labelled objects deleted outside those namespaces (with dryRun: that would be) */
  objects: number;
  /** session namespaces left alone, and why */
  kept: { namespace: string; reason: string }[];
  /** the sessions whose leftovers were removed */
  sessions: string[];
  /** one entry per namespace gc deleted or deleted objects in, for printing */
  deleted: GcDeletion[];
}

export class GcTimeoutError extends Error {
  constructor(
    message: string,
    readonly result: GcResult,
    readonly remaining: { namespaces: string[]; objects: string[] },
  ) {
    super(message);
    this.name = 'GcTimeoutError';
  }
}

export class GcOptionsError extends Error {
  override name = 'GcOptionsError';
}

type Kind = 'Deployment' | 'DaemonSet' | 'ReplicaSet' | 'Pod' | 'Service' | 'EndpointSlice';
/** Deletion order within a namespace: owners before what they make (a Deployment would
 * recreate its Pods, a Service with a selector its EndpointSlices). */
export const GC_KINDS: readonly Kind[] = ['Deployment', 'DaemonSet', 'ReplicaSet', 'Pod', 'Service', 'EndpointSlice'];

interface Found {
  kind: Kind;
  namespace: string;
  name: string;
  uid: string;
  session: string;
  created: number;
  deleting: boolean;
}

interface Page<T> {
  items: T[];
  metadata?: k8s.V1ListMeta;
}

async function listAll<T extends { metadata?: k8s.V1ObjectMeta }>(page: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cont: string | undefined;
  do {
    const p = await page(cont);
    out.push(...p.items);
    cont = p.metadata?._continue || undefined;
  } while (cont);
  return out;
}

const LIMIT = 500;

function lister(c: KubeClients, kind: Kind): (labelSelector: string, cont: string | undefined) => Promise<Page<{ metadata?: k8s.V1ObjectMeta }>> {
  switch (kind) {
    case 'Service':
      return (labelSelector, _continue) => c.core.listServiceForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
    case 'EndpointSlice':
      return (labelSelector, _continue) => c.discovery.listEndpointSliceForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
    case 'Pod':
      return (labelSelector, _continue) => c.core.listPodForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
    case 'Deployment':
      return (labelSelector, _continue) => c.apps.listDeploymentForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
    case 'ReplicaSet':
      return (labelSelector, _continue) => c.apps.listReplicaSetForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
    case 'DaemonSet':
      return (labelSelector, _continue) => c.apps.listDaemonSetForAllNamespaces({ labelSelector, limit: LIMIT, _continue });
  }
}

async function deleteCollection(c: KubeClients, kind: Kind, namespace: string, labelSelector: string): Promise<void> {
  const propagationPolicy = 'Background';
  switch (kind) {
    case 'Deployment':
      await c.apps.deleteCollectionNamespacedDeployment({ namespace, labelSelector, propagationPolicy });
      return;
    case 'DaemonSet':
      await c.apps.deleteCollectionNamespacedDaemonSet({ namespace, labelSelector, propagationPolicy });
      return;
    case 'ReplicaSet':
      await c.apps.deleteCollectionNamespacedReplicaSet({ namespace, labelSelector, propagationPolicy });
      return;
    case 'Pod':
      await c.core.deleteCollectionNamespacedPod({ namespace, labelSelector });
      return;
    case 'EndpointSlice':
      await c.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector });
      return;
    case 'Service':
      try {
        await c.core.deleteCollectionNamespacedService({ namespace, labelSelector });
        return;
      } catch (e) {
        if (apiStatus(e) !== 405) throw e; // API servers without collection delete for Services
      }
      {
        const names = (await listAll((_continue) => c.core.listNamespacedService({ namespace, labelSelector, limit: LIMIT, _continue }))).map((s) => s.metadata!.name!);
        await bulk(names, (name) => c.core.deleteNamespacedService({ namespace, name }), { tolerate: [404] });
      }
  }
}

/** Every labelled object of GC_KINDS, cluster-wide (selector: the label, or one session). */
async function findObjects(c: KubeClients, labelSelector: string): Promise<Found[]> {
  const perKind = await Promise.all(
    GC_KINDS.map(async (kind) => {
      const items = await listAll((cont) => lister(c, kind)(labelSelector, cont));
      return items.map(
        (o): Found => ({
          kind,
          namespace: o.metadata?.namespace ?? '',
          name: o.metadata?.name ?? '',
          uid: o.metadata?.uid ?? `${kind}/${o.metadata?.namespace}/${o.metadata?.name}`,
          session: o.metadata?.labels?.[SESSION_LABEL] ?? '',
          created: o.metadata?.creationTimestamp ? new Date(o.metadata.creationTimestamp).getTime() : 0,
          deleting: o.metadata?.deletionTimestamp !== undefined,
        }),
      );
    }),
  );
  return perKind.flat();
}

/** "42s", "5m", "3h", "2d" */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

interface Verdict {
  target: boolean;
  reason: string;
}

function namespaceAge(ns: k8s.V1Namespace, now: number): string {
  const beat = heartbeatTime(ns.metadata?.annotations);
  if (beat) return `heartbeat ${formatAge(now - beat.getTime())} ago`;
  const created = ns.metadata?.creationTimestamp;
  return created ? `no heartbeat, created ${formatAge(now - new Date(created).getTime())} ago` : 'no heartbeat, no creation time';
}


export async function gcSessions(clients: KubeClients, o: GcOptions = {}): Promise<GcResult> {
  const staleMs = o.staleMs ?? DEFAULT_STALE_MS;
  if (!(staleMs >= 0) || !Number.isFinite(staleMs)) throw new GcOptionsError(`staleMs ${staleMs} must be a finite number >= 0`);
  if (o.session !== undefined && o.all) throw new GcOptionsError('session and all exclude each other: pick one session, or all of them');
  const progress = o.onProgress ?? ((): void => undefined);
  const clock = o.now ?? ((): Date => new Date());
  const labelSelector = o.session !== undefined ? `${SESSION_LABEL}=${o.session}` : SESSION_LABEL;

  const [namespaces, objects] = await Promise.all([
    listAll((_continue) => clients.core.listNamespace({ labelSelector, limit: LIMIT, _continue })),
    findObjects(clients, labelSelector),
  ]);
  const now = clock().getTime();
  progress(`found ${namespaces.length} session namespace(s) and ${objects.length} labelled object(s)`);

  // sessions and what they own
  const sessions = new Map<string, { namespaces: k8s.V1Namespace[]; objects: Found[] }>();
  const entry = (s: string): { namespaces: k8s.V1Namespace[]; objects: Found[] } => {
    let e = sessions.get(s);
    if (!e) sessions.set(s, (e = { namespaces: [], objects: [] }));
    return e;
  };
  for (const ns of namespaces) entry(ns.metadata?.labels?.[SESSION_LABEL] ?? '').namespaces.push(ns);
  for (const obj of objects) entry(obj.session).objects.push(obj);

  const verdicts = new Map<string, Verdict>();
  for (const [id, s] of sessions) {
    if (o.all) verdicts.set(id, { target: true, reason: 'all sessions' });
    else if (o.session !== undefined) verdicts.set(id, { target: id === o.session, reason: id === o.session ? `session ${id} chosen` : `not session ${o.session}` });
    else if (s.namespaces.length > 0) {
      const fresh = s.namespaces.find((ns) => !isStale(ns.metadata?.annotations, now, staleMs, ns.metadata?.creationTimestamp));
      verdicts.set(
        id,
        fresh
          ? { target: false, reason: `session ${id} alive (${fresh.metadata?.name}: ${namespaceAge(fresh, now)})` }
          : { target: true, reason: `session ${id} dead` },
      );
    } else {
      const newest = Math.max(...s.objects.map((x) => x.created));
      verdicts.set(
        id,
        now - newest > staleMs
          ? { target: true, reason: `session ${id} dead (no session namespace; newest object ${formatAge(now - newest)} old)` }
          : { target: false, reason: `session ${id} may be alive (no session namespace; newest object ${formatAge(now - newest)} old)` },
      );
    }
  }

  const result: GcResult = { namespaces: [], objects: 0, kept: [], sessions: [], deleted: [] };
  const doomedNs = new Set<string>();
  for (const ns of namespaces) {
    const name = ns.metadata!.name!;
    const id = ns.metadata?.labels?.[SESSION_LABEL] ?? '';
    const v = verdicts.get(id)!;
    if (!v.target) {
      result.kept.push({ namespace: name, reason: v.reason });
      continue;
    }
    doomedNs.add(name);
    const inside = objects.filter((x) => x.namespace === name).length;
    result.deleted.push({ namespace: name, whole: true, sessions: [id], objects: inside, reason: `${v.reason}; ${namespaceAge(ns, now)}` });
  }
  result.namespaces = [...doomedNs].sort();
  result.sessions = [...verdicts].filter(([, v]) => v.target).map(([id]) => id).sort();
  const targetSessions = new Set(result.sessions);

  // labelled objects of chosen sessions outside the namespaces being deleted
  const isStray = (x: Found): boolean => targetSessions.has(x.session) && !doomedNs.has(x.namespace);
  const strays = objects.filter(isStray);
  const strayGroups = new Map<string, { namespace: string; session: string; kinds: Set<Kind> }>();
  for (const x of strays) {
    const key = `${x.namespace}\u0000${x.session}`;
    let g = strayGroups.get(key);
    if (!g) strayGroups.set(key, (g = { namespace: x.namespace, session: x.session, kinds: new Set() }));
    g.kinds.add(x.kind);
  }
  const byNamespace = new Map<string, Found[]>();
  for (const x of strays) byNamespace.set(x.namespace, [...(byNamespace.get(x.namespace) ?? []), x]);
  for (const [namespace, list] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    const ids = [...new Set(list.map((x) => x.session))].sort();
    const kinds = GC_KINDS.map((k) => [k, list.filter((x) => x.kind === k).length] as const).filter(([, n]) => n > 0);
    result.deleted.push({
      namespace,
      whole: false,
      sessions: ids,
      objects: list.length,
      reason: `${kinds.map(([k, n]) => `${n} ${k}${n === 1 ? '' : 's'}`).join(', ')} of ${ids.map((id) => verdicts.get(id)!.reason).join('; ')}`,
    });
  }
  // objects of sessions left alone, outside their own namespaces, are kept silently:
  // only namespaces are listed in `kept`.
  const counted = new Set(strays.map((x) => x.uid));
  result.objects = counted.size;
  result.deleted.sort((a, b) => a.namespace.localeCompare(b.namespace) || Number(b.whole) - Number(a.whole));
  if (o.dryRun || (doomedNs.size === 0 && strays.length === 0)) return result;

  // delete
  progress(`deleting ${doomedNs.size} namespace(s) and ${strays.length} object(s) in other namespaces`);
  await bulk([...doomedNs], (name) => clients.core.deleteNamespace({ name }), { concurrency: 8, tolerate: [404, 409] });
  const deleteGroups = async (groups: { namespace: string; session: string; kinds: Set<Kind> }[]): Promise<void> => {
    await bulk(
      groups,
      async (g) => {
        const selector = `${SESSION_LABEL}=${g.session}`;
        for (const kind of GC_KINDS) if (g.kinds.has(kind)) await deleteCollection(clients, kind, g.namespace, selector);
      },
      { concurrency: 8, tolerate: [404] },
    );
  };
  await deleteGroups([...strayGroups.values()]);

  // wait until everything is gone; delete again what reappeared (a ReplicaSet that was
  // not yet collected recreating a Pod, the EndpointSlice controller mirroring a Service)
  const timeoutMs = o.timeoutMs ?? DEFAULT_GC_TIMEOUT_MS;
  let leftNs = [...doomedNs];
  let leftObjs: Found[] = strays;
  let lastReport = 0;
  const allGone = async (): Promise<boolean> => {
    leftNs = (
      await Promise.all(
        leftNs.map(async (name) => {
          try {
            await clients.core.readNamespace({ name });
            return name;
          } catch (e) {
            if (apiStatus(e) === 404) return undefined;
            throw e;
          }
        }),
      )
    ).filter((x): x is string => x !== undefined);
    if (strays.length > 0) {
      leftObjs = (await findObjects(clients, labelSelector)).filter(isStray);
      for (const x of leftObjs) counted.add(x.uid);
    }
    if (leftNs.length === 0 && leftObjs.length === 0) return true;
    const recreated = leftObjs.filter((x) => !x.deleting);
    if (recreated.length > 0) {
      const groups = new Map<string, { namespace: string; session: string; kinds: Set<Kind> }>();
      for (const x of recreated) {
        const key = `${x.namespace}\u0000${x.session}`;
        const g = groups.get(key) ?? { namespace: x.namespace, session: x.session, kinds: new Set<Kind>() };
        g.kinds.add(x.kind);
        groups.set(key, g);
      }
      await deleteGroups([...groups.values()]);
    }
    if (Date.now() - lastReport > TIMEOUTS.progressEveryMs) {
      lastReport = Date.now();
      progress(`waiting: ${leftNs.length} namespace(s) terminating, ${leftObjs.length} object(s) left`);
    }
    return false;
  };
  try {
    await waitFor(
      async () => {
        try {
          return await allGone();
        } catch (e) {
          throw new StopWaiting(e as Error);
        }
      },
      { timeout: timeoutMs, interval: o.pollMs ?? TIMEOUTS.gcPollMs, what: 'session objects gone' },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    result.objects = counted.size;
    const why = await Promise.all(leftNs.map((name) => stuckReason(clients, name)));
    throw new GcTimeoutError(
      `not gone after ${formatAge(timeoutMs)}: ` +
        [...why, ...leftObjs.map((x) => `${x.kind} ${x.namespace}/${x.name}${x.deleting ? ' (terminating)' : ''}`)].join('; ') +
        '. Fix: look for finalizers or unavailable API services on the namespaces (kubectl get namespace NAME -o yaml), then run gc again.',
      result,
      { namespaces: leftNs, objects: leftObjs.map((x) => `${x.kind} ${x.namespace}/${x.name}`) },
    );
  }
  result.objects = counted.size;
  progress(`gone: ${doomedNs.size} namespace(s), ${counted.size} object(s) in other namespaces`);
  return result;
}

/** "ns sli-x: Terminating (NamespaceFinalizersRemaining: ...)" */
async function stuckReason(c: KubeClients, name: string): Promise<string> {
  try {
    const ns = await c.core.readNamespace({ name });
    const conds = (ns.status?.conditions ?? []).filter((x) => x.status === 'True').map((x) => `${x.type}: ${x.message ?? ''}`.trim());
    return `namespace ${name}: ${ns.status?.phase ?? 'unknown phase'}${conds.length ? ` (${conds.join('; ')})` : ''}`;
  } catch (e) {
    return apiStatus(e) === 404 ? `namespace ${name}: gone` : `namespace ${name}: ${(e as Error).message}`;
  }
}
