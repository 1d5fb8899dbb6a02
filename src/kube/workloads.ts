// What the suites run in the cluster, as plain manifests plus the calls that create them
// and wait for them: backends (the e2e service jig: a template, then a tweak), loadgen
// client pods, and readiness waits. Every object carries the session labels, so
// `kube-sli gc` finds whatever a killed run left.
import type * as k8s from '@kubernetes/client-node';
import { apiStatus, type KubeClients } from './clients.js';
import { sessionLabels } from './session.js';
import { ipFamilyFields, type IpFamilyName } from './services.js';
import { TIMEOUTS } from '../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../wait-for.js';

export { AGNHOST_IMAGE } from './images.js';
import { AGNHOST_IMAGE } from './images.js';
export const LOADGEN_PORT = 8090;
export const APP_LABEL = 'sli.kube-sli.io/app';

export interface BackendSpec {
  namespace: string;
  session: string;
  name: string;
  replicas: number;
  /** container port the Service targets */
  port: number;
  /** Service port */
  servicePort?: number;
  /** default: agnhost netexec on `port` */
  image?: string;
  command?: string[];
  args?: string[];
  /** the Service's families (ipFamilies/ipFamilyPolicy); default the cluster's */
  families?: readonly IpFamilyName[];
  /** last word on the manifests, as the e2e service jig's tweak functions */
  tweak?: (d: k8s.V1Deployment, s: k8s.V1Service) => void;
}

export interface BackendManifests {
  deployment: k8s.V1Deployment;
  service: k8s.V1Service;
}

export function backendManifests(spec: BackendSpec): BackendManifests {
  const labels = { ...sessionLabels(spec.session), [APP_LABEL]: spec.name };
  const image = spec.image ?? AGNHOST_IMAGE;
  const args = spec.args ?? (spec.image === undefined ? ['netexec', `--http-port=${spec.port}`] : undefined);
  const deployment: k8s.V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { [APP_LABEL]: spec.name } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          // one replica per node while nodes last: a connection's path (same node or across
          // nodes) then mixes the same way in every run, not as the scheduler happened to
          // place the pods. Tainted nodes (control plane, hollow) do not count as domains.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'DoNotSchedule',
              labelSelector: { matchLabels: { [APP_LABEL]: spec.name } },
              nodeTaintsPolicy: 'Honor',
            },
          ],
          containers: [
            {
              name: 'backend',
              image,
              command: spec.command,
              args,
              ports: [{ containerPort: spec.port, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: spec.port }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace: spec.namespace, labels },
    spec: {
      type: 'ClusterIP',
      ...ipFamilyFields(spec.families),
      selector: { [APP_LABEL]: spec.name },
      ports: [{ name: 'http', protocol: 'TCP', port: spec.servicePort ?? 80, targetPort: spec.port }],
    },
  };
  spec.tweak?.(deployment, service);
  return { deployment, service };
}

export interface LoadgenSpec {
  namespace: string;
  session: string;
  name: string;
  image: string;
  port?: number;
  env?: Record<string, string>;
  /** pods started together share a group label (clients vs the prober) */
  group?: string;
  /** pin the pod to this node (one prober per node; a client that must sit on a given node) */
  nodeName?: string;
  /** listen on [::] (both families) instead of 0.0.0.0: pods/proxy and the kubelet's
   * probe reach an IPv6 pod at its IPv6 address */
  ipv6?: boolean;
}

export const GROUP_LABEL = 'sli.kube-sli.io/group';

/** A loadgen client pod: `kube-sli loadgen`, driven over pods/proxy. */
export function loadgenPod(spec: LoadgenSpec): k8s.V1Pod {
  const port = spec.port ?? LOADGEN_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace, labels: { ...sessionLabels(spec.session), [APP_LABEL]: 'loadgen', [GROUP_LABEL]: spec.group ?? 'clients' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      containers: [
        {
          name: 'loadgen',
          image: spec.image,
          args: ['loadgen', '--listen', spec.ipv6 ? `[::]:${port}` : `0.0.0.0:${port}`],
          env: Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
          ports: [{ containerPort: port, protocol: 'TCP' }],
          readinessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 1 },
        },
      ],
    },
  };
}

export class WaitError extends Error {
  override name = 'WaitError';
}

function podProblem(p: k8s.V1Pod): string | undefined {
  for (const cs of p.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason && /ErrImage|ImagePull|ImageNotInLabCatalog|CrashLoop|RunContainerError|InvalidImageName/.test(w.reason)) {
      return `${p.metadata?.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`;
    }
  }
  if (p.status?.phase === 'Failed') return `${p.metadata?.name}: Failed (${p.status.reason ?? p.status.message ?? 'no reason'})`;
  return undefined;
}

const isReady = (p: k8s.V1Pod): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * Waits until `count` pods matching the selector are Ready. Fails early, naming the pod,
 * when one cannot start (image not found, crash loop), since waiting would not help.
 */
export async function waitPodsReady(
  clients: KubeClients,
  namespace: string,
  labelSelector: string,
  count: number,
  o: { timeoutMs: number; intervalMs?: number; what: string; onProgress?: (msg: string) => void },
): Promise<k8s.V1Pod[]> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        const pods = (await clients.core.listNamespacedPod({ namespace, labelSelector })).items.filter((p) => !p.metadata?.deletionTimestamp);
        const ready = pods.filter(isReady);
        if (ready.length >= count) return ready;
        const problems = pods.map(podProblem).filter((x): x is string => !!x);
        if (problems.length > 0) {
          throw new StopWaiting(
            new WaitError(`${o.what}: pods cannot start: ${problems.join('; ')}. If the image is not reachable from the cluster, set SLI_IMAGE to an image it can pull (scripts/image.mjs builds and pushes the kit image)`),
          );
        }
        const line = `${o.what}: ${ready.length}/${count} Ready`;
        if (line !== last) o.onProgress?.(line);
        last = line;
        const notReady = pods.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} ${p.status?.phase ?? 'Unknown'}${p.spec?.nodeName ? '' : ' (unscheduled)'}`);
        const pending = `only ${ready.length} of ${count} pods Ready; not ready: ${notReady.join(', ') || 'none created'}`;
        return { pending };
      },
      { timeout: o.timeoutMs, interval: o.intervalMs ?? TIMEOUTS.pollMs, what: `${o.what}: ${count} pods Ready` },
    );
  } catch (e) {
    if (e instanceof WaitTimeoutError) throw new WaitError(e.message);
    throw e;
  }
}

/** Create, treating AlreadyExists as done (a retried fixture). */
export async function createIgnoringConflict<T>(create: () => Promise<T>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (apiStatus(e) !== 409) throw e;
  }
}

/** Delete, treating NotFound as done. */
export async function deleteIgnoringMissing(del: () => Promise<unknown>): Promise<void> {
  try {
    await del();
  } catch (e) {
    if (apiStatus(e) !== 404) throw e;
  }
}
