// One meaning per exit code, across every command, so CI can tell a breached SLO from a
// typo in a threshold from a cluster that was not there.
export const EXIT = {
  ok: 0,
  /** an SLO was breached, or compare found a significant regression */
  breached: 1,
  /** invalid configuration, thresholds or arguments: nothing was touched */
  invalidConfig: 2,
  /** the environment failed: cluster unreachable, tool missing, process died */
  infrastructure: 3,
} as const;

export class UsageError extends Error {}
