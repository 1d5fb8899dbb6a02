// An environment that failed in a way retrying within its deadline did not fix (an API
// server that stops answering its proxy): the run could not measure, which is neither a
// breached nor an inconclusive SLO. The kube-sli reporter turns a test that ended on one
// into exit code 3 (src/cli/exit-codes.ts). Pure: the reporter imports it.

export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
  /** survives vitest's error serialization, where the class does not */
  readonly infrastructure = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// where an error keeps the error it wraps: Error.cause, WaitTimeoutError.lastError,
// StopWaiting.reason, AggregateError.errors
const WRAPPERS = ['cause', 'lastError', 'reason'] as const;

/**
 * The first InfrastructureError in an error and the errors it wraps, as the error itself
 * or as vitest serialized it (a plain object with name, message and own properties).
 */
export function infrastructureCause(e: unknown, depth = 0): { message: string } | undefined {
  if (depth > 8 || e === null || typeof e !== 'object') return undefined;
  const o = e as Record<string, unknown>;
  if (o.infrastructure === true || o.name === 'InfrastructureError') return { message: typeof o.message === 'string' ? o.message : 'InfrastructureError (no message)' };
  for (const k of WRAPPERS) {
    const found = infrastructureCause(o[k], depth + 1);
    if (found) return found;
  }
  if (Array.isArray(o.errors)) {
    for (const x of o.errors) {
      const found = infrastructureCause(x, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}
