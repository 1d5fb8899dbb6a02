import type { MetricsSource } from '../../../src/kube/metrics-window.js';

/**
 * A metrics source that answers recorded scrapes in turn (the last one from then on); an
 * Error entry is thrown, as a failed read. `reads` counts the reads.
 */
export function recordedSource(node: string, answers: (string | Error)[]): MetricsSource & { reads: number } {
  const s = {
    name: `kube-proxy ${node} (recorded)`,
    node,
    reads: 0,
    read: async () => {
      const a = answers[Math.min(s.reads++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return s;
}
