// Pure pieces of the runtime's kubelet role: downward-API values, $(VAR) expansion,
// container states → pod phase, and Kubernetes timestamps.
import type { V1Pod } from '@kubernetes/client-node';

/** metav1.Time: RFC 3339, seconds. */
export function k8sTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function k8sMicroTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface PodAddresses {
  podIP?: string;
  hostIP?: string;
}

/** Value of a downward-API fieldRef (the fields the kubelet supports for env), or
 * undefined when the path is not supported. */
export function fieldRefValue(pod: V1Pod, fieldPath: string, addr: PodAddresses): string | undefined {
  const md = pod.metadata ?? {};
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? md.labels : md.annotations)?.[m[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return addr.hostIP ?? '';
    default:
      return undefined;
  }
}

/** Kubernetes $(VAR) expansion: $(NAME) from env when defined, $$ escapes, unknown stays. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (all === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name]! : all;
  });
}

export type ContainerPhase = 'waiting' | 'running' | 'terminated';

export interface ContainerView {
  state: ContainerPhase;
  /** started at least once (has run, or runs) */
  hasRun: boolean;
  /** terminated and will not be restarted */
  final: boolean;
  exitCode?: number;
}

/** The kubelet's getPhase, for regular containers. */
export function podPhase(containers: readonly ContainerView[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (containers.length === 0) return 'Pending';
  const neverRan = containers.some((c) => c.state === 'waiting' && !c.hasRun);
  if (neverRan) return 'Pending';
  if (containers.every((c) => c.state === 'terminated' && c.final)) {
    return containers.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  return 'Running';
}

/** Whether a container that exited with `exitCode` is started again. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true; // Always (the default)
}

/** Next back-off after `prev` ms (1 s, 2 s, 4 s, … up to cap). */
export function nextBackoff(prev: number | undefined, capMs: number): number {
  return prev === undefined ? Math.min(1_000, capMs) : Math.min(prev * 2, capMs);
}
