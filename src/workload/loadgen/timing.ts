// Timers and cancellation shared by the run engines and probes.
import { setMaxListeners } from 'node:events';

/**
 * Calls fn once hrtime reaches deadline. Node timers run on the loop's cached ms clock
 * and can fire a little early; re-arming keeps "after durationMs" true on hrtime, which
 * is what every recorded timestamp uses.
 */
export function atHrtime(deadline: bigint, fn: () => void): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - process.hrtime.bigint();
    if (left <= 0n) return fn();
    timer = setTimeout(arm, Math.ceil(Number(left) / 1e6));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}

export function runController(): AbortController {
  const c = new AbortController();
  // one listener per in-flight connection: up to concurrency/streams of them
  setMaxListeners(0, c.signal);
  return c;
}
