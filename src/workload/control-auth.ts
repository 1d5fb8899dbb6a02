// The loadgen's control port answers only its runner. The runner makes a random token per
// fleet, gives it to the pods in their environment, and sends it in a header with every
// request through the API server's pods/proxy. The API server removes the Authorization
// header once it has authenticated the caller (kubernetes/kubernetes#34076, "Remove headers
// that are unnecessary for proxy target"), so the token travels in a header of its own,
// which pods/proxy forwards. Without it, anything in the cluster that can reach the pod IP
// could start connections from the pod. /healthz stays open: the kubelet's readiness probe
// carries no token, and it reveals nothing.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export const CONTROL_TOKEN_HEADER = 'x-kube-sli-token';
/** the pod's environment variable that carries the token */
export const CONTROL_TOKEN_ENV = 'KUBE_SLI_LOADGEN_TOKEN';
/** paths served without the token */
export const OPEN_PATHS: readonly string[] = ['/healthz'];
const MIN_TOKEN_LENGTH = 16;

export class ControlAuthError extends Error {
  override name = 'ControlAuthError';
}

export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Throws ControlAuthError when the token is too short to be a secret. */
export function validateControlToken(token: string | undefined): string {
  if (token === undefined || token.length < MIN_TOKEN_LENGTH) {
    throw new ControlAuthError(
      `the loadgen needs a control token of at least ${MIN_TOKEN_LENGTH} characters in ${CONTROL_TOKEN_ENV} (got ${token === undefined ? 'none' : `${token.length} characters`}): the runner sets it on the pods it creates`,
    );
  }
  return token;
}

/** undefined when the request may go on, else why not (answered with 401). */
export function controlAuthProblem(req: http.IncomingMessage, pathname: string, token: string): string | undefined {
  if (OPEN_PATHS.includes(pathname)) return undefined;
  const got = req.headers[CONTROL_TOKEN_HEADER];
  if (typeof got !== 'string' || got === '') return `missing ${CONTROL_TOKEN_HEADER} header: the loadgen answers only the runner that started it`;
  const a = Buffer.from(got);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return `wrong ${CONTROL_TOKEN_HEADER}: the loadgen answers only the runner that started it`;
  return undefined;
}
