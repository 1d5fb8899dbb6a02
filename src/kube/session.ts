// Every object the kit creates carries the session label, so fixtures delete what they
// made and `kube-sli gc` finds what a killed run left behind.
import { randomBytes } from 'node:crypto';

export const SESSION_LABEL = 'sli.kube-sli.io/session';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kube-sli';

/** Sortable and unique: creation time (base36 seconds) and 6 random hex digits. */
export function newSessionId(now = Date.now()): string {
  return `${Math.floor(now / 1000).toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function sessionLabels(session: string): Record<string, string> {
  return { [SESSION_LABEL]: session, [MANAGED_BY_LABEL]: MANAGED_BY };
}

export function sessionSelector(session?: string): string {
  return session ? `${SESSION_LABEL}=${session}` : SESSION_LABEL;
}
