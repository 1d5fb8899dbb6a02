// N Services with M endpoints each, created and deleted fast. Endpoints are synthetic
// EndpointSlices (managed by kube-sli, not the EndpointSlice controller) that carry
// `endpoints.kubernetes.io/last-change-trigger-time`, so kube-proxy's
// network_programming_duration metric measures from the moment the kit made the change.
import type * as k8s from '@kubernetes/client-node';
import { bulk, type BulkOptions, type BulkResult } from './bulk.js';
import type { KubeClients } from './clients.js';
import { sessionLabels, sessionSelector } from './session.js';

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
// label values cannot contain '/': the controller's own is endpointslice-controller.k8s.io
export const SLICE_MANAGER = 'kube-sli.io';

export interface ServiceSetSpec {
  namespace: string;
  session: string;
  /** name prefix; Services are <prefix>-<index> */
  prefix?: string;
  count: number;
  /** index of the first Service (grow a set: first = current size) */
  first?: number;
  endpointsPerService: number;
  port?: number;
  targetPort?: number;
  /** endpoint IPs of Service i (length endpointsPerService) */
  endpointIps: (service: number) => string[];
}

export function serviceName(spec: Pick<ServiceSetSpec, 'prefix'>, i: number): string {
  return `${spec.prefix ?? 'sli-svc'}-${i}`;
}

export function syntheticService(spec: ServiceSetSpec, i: number): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(spec, i), namespace: spec.namespace, labels: sessionLabels(spec.session) },
    // no selector: the EndpointSlice controller leaves these Services to us
    spec: { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'TCP', port: spec.port ?? 80, targetPort: spec.targetPort ?? 8080 }] },
  };
}

export function syntheticEndpointSlice(spec: ServiceSetSpec, i: number, now = new Date()): k8s.V1EndpointSlice {
  const name = serviceName(spec, i);
  const ips = spec.endpointIps(i);
  if (ips.length !== spec.endpointsPerService) {
    throw new RangeError(`endpointIps(${i}) gave ${ips.length} addresses, expected ${spec.endpointsPerService}`);
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-sli`,
      namespace: spec.namespace,
      labels: {
        ...sessionLabels(spec.session),
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER,
      },
      annotations: { [TRIGGER_TIME_ANNOTATION]: now.toISOString() },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: spec.targetPort ?? 8080 }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
  };
}

export interface ServiceSetResult {
  services: BulkResult;
  slices: BulkResult;
  /** objects per second over both */
  objectsPerSecond: number;
}

/** Creates the Services, then their EndpointSlices (409 AlreadyExists counts as done). */
export async function createServiceSet(clients: KubeClients, spec: ServiceSetSpec, o: BulkOptions = {}): Promise<ServiceSetResult> {
  const idx = Array.from({ length: spec.count }, (_, i) => (spec.first ?? 0) + i);
  const tolerate = [409, ...(o.tolerate ?? [])];
  const services = await bulk(idx, (i) => clients.core.createNamespacedService({ namespace: spec.namespace, body: syntheticService(spec, i) }), { ...o, tolerate });
  const slices = await bulk(
    idx,
    (i) => clients.discovery.createNamespacedEndpointSlice({ namespace: spec.namespace, body: syntheticEndpointSlice(spec, i) }),
    { ...o, tolerate },
  );
  const objects = services.done + slices.done;
  return { services, slices, objectsPerSecond: objects / Math.max(1e-6, services.seconds + slices.seconds) };
}

/**
 * Deletes this session's Services and EndpointSlices in a namespace. EndpointSlices go in
 * one collection delete; Services one by one with bounded concurrency, because the API
 * server deletes a Service collection sequentially (releasing each ClusterIP) and drops
 * the request at its 60 s timeout with thousands of them.
 */
export async function deleteSessionServices(clients: KubeClients, namespace: string, session: string, o: BulkOptions = {}): Promise<BulkResult> {
  const labelSelector = sessionSelector(session);
  await clients.discovery.deleteCollectionNamespacedEndpointSlice({ namespace, labelSelector });
  const names: string[] = [];
  let _continue: string | undefined;
  do {
    const page = await clients.core.listNamespacedService({ namespace, labelSelector, limit: 1000, _continue });
    names.push(...page.items.map((s) => s.metadata!.name!));
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  return bulk(names, (name) => clients.core.deleteNamespacedService({ namespace, name }), { concurrency: 32, ...o, tolerate: [404, ...(o.tolerate ?? [])] });
}
