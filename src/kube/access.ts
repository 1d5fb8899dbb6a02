// What a suite needs to do, checked up front with SelfSubjectAccessReview, so that RBAC
// refusing it is a clear error before anything is created.
import type { KubeClients } from './clients.js';

export interface AccessNeed {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** undefined: cluster-wide */
  namespace?: string;
}

export const describeNeed = (n: AccessNeed): string =>
  `${n.verb} ${n.group ? `${n.resource}.${n.group}` : n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.namespace ? ` in ${n.namespace}` : ' (cluster-wide)'}`;

/** The needs the caller's credentials lack (empty when all are allowed). */
export async function missingAccess(clients: KubeClients, needs: readonly AccessNeed[]): Promise<AccessNeed[]> {
  const answers = await Promise.all(
    needs.map((n) =>
      clients.authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: n.verb,
              resource: n.resource,
              group: n.group ?? '',
              subresource: n.subresource,
              namespace: n.namespace,
            },
          },
        },
      }),
    ),
  );
  return needs.filter((_, i) => answers[i]?.status?.allowed !== true);
}

export class AccessError extends Error {
  constructor(readonly missing: AccessNeed[]) {
    super(
      `your credentials may not: ${missing.map(describeNeed).join('; ')}. ` +
        'Grant these (e.g. a ClusterRole bound to your user) or run with a more privileged kubeconfig.',
    );
  }
}

export async function requireAccess(clients: KubeClients, needs: readonly AccessNeed[]): Promise<void> {
  const missing = await missingAccess(clients, needs);
  if (missing.length > 0) throw new AccessError(missing);
}
