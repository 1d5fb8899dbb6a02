// Long-running commands (lab daemon, agent, loadgen) run until SIGTERM or SIGINT and then
// clean up. The listeners stay on (process.on, never once): execa's signal-exit re-raises a
// signal when no other listener is left, and a once-listener is gone by the time signal-exit
// looks, whenever signal-exit registered after it (it does so again for each child process)
// or a second signal comes during the clean-up. The process then died before its clean-up.

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Resolves with the first stop signal once `stop` has finished (or failed). A repeated signal
 * during stop is reported through `onRepeat` and otherwise ignored: the clean-up goes on.
 */
export function untilStopSignal(stop: (sig: NodeJS.Signals) => Promise<unknown>, onRepeat?: (sig: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (first) {
        onRepeat?.(sig);
        return;
      }
      first = sig;
      const done = (): void => {
        for (const s of SIGNALS) process.off(s, onSignal);
        resolve(sig);
      };
      stop(sig).then(done, done);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}
