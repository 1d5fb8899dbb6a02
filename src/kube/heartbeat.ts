// A running session says it is alive by stamping its namespace with the current time every
// few seconds; `kube-sli gc` treats a session whose stamps have stopped (SIGKILL, a lost
// machine) as dead and removes what it left. A stamp is an annotation (merge patch), so it
// needs only `patch namespaces` and never conflicts with other writers.
import * as k8s from '@kubernetes/client-node';
import { apiMessage, type KubeClients } from './clients.js';

export const HEARTBEAT_ANNOTATION = 'sli.kube-sli.io/heartbeat';
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;

export interface HeartbeatOptions {
  /** time between stamps (default 15 s); the first is sent at once */
  intervalMs?: number;
}

export interface Heartbeat {
  /** No more stamps after this (a stamp in flight still completes). Idempotent. */
  stop(): void;
  /** settles after the first stamp was written or failed (never rejects) */
  readonly first: Promise<void>;
  /** stamps written so far */
  readonly beats: number;
  /** ISO time of the last stamp written */
  readonly lastBeat: string | undefined;
  /** the most recent failures (at most 10, oldest first), for diagnostics */
  readonly errors: readonly { at: string; message: string }[];
}

const MAX_ERRORS = 10;

/** Stamps `namespace` with HEARTBEAT_ANNOTATION = now (ISO) now and every intervalMs.
 * Failures are kept in `errors`, never thrown; timers are unref'd (a heartbeat never
 * keeps a process alive); a slow API server never gets overlapping stamps. */
export function startHeartbeat(clients: KubeClients, namespace: string, o: HeartbeatOptions = {}): Heartbeat {
  const intervalMs = o.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (!(intervalMs > 0)) throw new RangeError(`heartbeat interval ${intervalMs} ms must be > 0`);
  const errors: { at: string; message: string }[] = [];
  let beats = 0;
  let lastBeat: string | undefined;
  let stopped = false;
  let inFlight = false;
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  const beat = async (): Promise<void> => {
    if (stopped || inFlight) return;
    inFlight = true;
    const at = new Date().toISOString();
    try {
      await clients.core.patchNamespace({ name: namespace, body: { metadata: { annotations: { [HEARTBEAT_ANNOTATION]: at } } } }, mergePatch);
      beats++;
      lastBeat = at;
    } catch (e) {
      errors.push({ at, message: apiMessage(e) });
      if (errors.length > MAX_ERRORS) errors.shift();
    } finally {
      inFlight = false;
    }
  };

  const first = beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    first,
    get beats() {
      return beats;
    },
    get lastBeat() {
      return lastBeat;
    },
    errors,
  };
}

/** Time of the last stamp, or undefined when absent or not a valid time. */
export function heartbeatTime(annotations: Readonly<Record<string, string>> | undefined): Date | undefined {
  const v = annotations?.[HEARTBEAT_ANNOTATION];
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t) : undefined;
}

const ms = (t: Date | number | string): number => (t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t));

/**
 * Whether a session namespace's owner is presumed dead at `now`: its heartbeat is older
 * than staleMs; or it has none (or an unreadable one) and the namespace was created more
 * than staleMs ago (a session stamps at once, so a young namespace without a stamp is a
 * session still starting). Without a heartbeat and without a creation time: stale.
 */
export function isStale(
  annotations: Readonly<Record<string, string>> | undefined,
  now: Date | number,
  staleMs: number,
  creationTimestamp?: Date | string,
): boolean {
  const beat = heartbeatTime(annotations);
  const reference = beat ?? (creationTimestamp === undefined ? undefined : ms(creationTimestamp));
  if (reference === undefined || Number.isNaN(ms(reference))) return true;
  return ms(now) - ms(reference) > staleMs;
}
