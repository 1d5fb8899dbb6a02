// N Services with M endpoints each, created and deleted fast. Endpoints are synthetic
// EndpointSlices (managed by kube-sli, not the EndpointSlice controller) that carry
// `endpoints.kubernetes.io/last-change-trigger-time`, so kube-proxy's
// network_programming_duration metric measures from the moment the kit made the change.
import type * as k8s from '@kubernetes/client-node';
import { bulk, type BulkOptions, type BulkResult } from './bulk.js';
import { apiStatus, type KubeClients } from './clients.js';
import { pacedDelete, type PacedDeleteOptions, type PacedDeleteResult } from './paced-delete.js';
import { sessionLabels, sessionSelector } from './session.js';

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
// label values cannot contain '/': the controller's own is endpointslice-controller.k8s.io
export const SLICE_MANAGER = 'kube-sli.io';

export type IpFamilyName = 'ipv4' | 'ipv6';
const K8S_FAMILY = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

/** A Service's ipFamilies / ipFamilyPolicy for the families asked for: one family is
 * SingleStack of it, two are RequireDualStack in the given order (the first is the
 * Service's primary: spec.clusterIP). None: the cluster's default (its primary family). */
export function ipFamilyFields(families?: readonly IpFamilyName[]): Pick<k8s.V1ServiceSpec, 'ipFamilies' | 'ipFamilyPolicy'> {
  if (!families || families.length === 0) return {};
  return { ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack', ipFamilies: families.map((f) => K8S_FAMILY[f]) };
}

/** The family of an address (text). */
export function familyOf(ip: string): IpFamilyName {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** The address of one family among a pod's status.podIPs or a Service's spec.clusterIPs. */
export function addressOfFamily(ips: readonly (string | undefined)[], family: IpFamilyName): string | undefined {
  return ips.find((ip): ip is string => typeof ip === 'string' && familyOf(ip) === family);
}

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
  /** endpoint IPs of Service i (length endpointsPerService), of the given family */
  endpointIps: (service: number, family: IpFamilyName) => string[];
  /** the Services' families (ipFamilies; two: dual-stack with one EndpointSlice per
   * family); default: the cluster's default, one slice whose type follows its addresses */
  families?: readonly IpFamilyName[];
  /** Service i's ClusterIP, chosen by the caller; default: the API server allocates one.
   * v1.34's allocator holds one lock per family across the IPAddress create of every
   * dynamic allocation, so dynamic Services are created one at a time; a chosen address
   * is claimed without that lock (pkg/registry/core/service/ipallocator/cidrallocator.go) */
  clusterIp?: (service: number) => string;
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
    spec: { type: 'ClusterIP', ...(spec.clusterIp ? { clusterIP: spec.clusterIp(i) } : {}), ...ipFamilyFields(spec.families), ports: [{ name: 'http', protocol: 'TCP', port: spec.port ?? 80, targetPort: spec.targetPort ?? 8080 }] },
  };
}

/** Every EndpointSlice of Service i: one per family of the spec. */
export function syntheticEndpointSlices(spec: ServiceSetSpec, i: number, now = new Date()): k8s.V1EndpointSlice[] {
  return spec.families && spec.families.length > 0 ? spec.families.map((f) => syntheticEndpointSlice(spec, i, now, f)) : [syntheticEndpointSlice(spec, i, now)];
}

/** Service i's EndpointSlice of one family (`<name>-sli` for IPv4, `<name>-sli6` for IPv6). */
export function syntheticEndpointSlice(spec: ServiceSetSpec, i: number, now = new Date(), family?: IpFamilyName): k8s.V1EndpointSlice {
  const name = serviceName(spec, i);
  const fam = family ?? spec.families?.[0];
  const ips = spec.endpointIps(i, fam ?? 'ipv4');
  const addressFamily = fam ?? (ips[0] !== undefined ? familyOf(ips[0]) : 'ipv4');
  if (ips.length !== spec.endpointsPerService) {
    throw new RangeError(`endpointIps(${i}) gave ${ips.length} addresses, expected ${spec.endpointsPerService}`);
  }
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: addressFamily === 'ipv6' ? `${name}-sli6` : `${name}-sli`,
      namespace: spec.namespace,
      labels: {
        ...sessionLabels(spec.session),
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER,
      },
      annotations: { [TRIGGER_TIME_ANNOTATION]: now.toISOString() },
    },
    addressType: K8S_FAMILY[addressFamily],
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
    async (i) => {
      // a retried op finds its first slice made already: that one is done, the next still due
      for (const body of syntheticEndpointSlices(spec, i)) {
        await clients.discovery.createNamespacedEndpointSlice({ namespace: spec.namespace, body }).catch((e: unknown) => {
          if (apiStatus(e) !== 409) throw e;
        });
      }
    },
    { ...o, tolerate },
  );
  const objects = services.done + slices.done;
  return { services, slices, objectsPerSecond: objects / Math.max(1e-6, services.seconds + slices.seconds) };
}

/**
 * Deletes this session's EndpointSlices, then its Services, in a namespace at the API
 * server's pace with progress (paced-delete.ts: collection deletes a page at a time; the
 * API server deletes a Service collection sequentially, releasing each ClusterIP, and
 * drops a request for thousands at its 60 s timeout).
 */
export async function deleteSessionServices(clients: KubeClients, namespace: string, session: string, o: PacedDeleteOptions = {}): Promise<{ slices: PacedDeleteResult; services: PacedDeleteResult }> {
  const labelSelector = sessionSelector(session);
  const slices = await pacedDelete(clients, 'endpointslices', namespace, labelSelector, o);
  const services = await pacedDelete(clients, 'services', namespace, labelSelector, o);
  return { slices, services };
}
