import { defineConfig } from 'vitest/config';
import { ScaleLastSequencer } from './fixtures/sequencer.js';

// Four projects, because they need different machines and different discipline:
// - unit: pure code, runs anywhere;
// - kernel: real netfilter/conntrack/packets in network namespaces; needs root;
//   files run one at a time so measurements do not disturb each other;
// - lab: the embedded lab's pieces (real control plane, namespace fabric); needs root;
// - slo: the SLO suites against a cluster; retry 0 (retrying a latency test until it
//   passes biases the tail) and no file parallelism.
export default defineConfig({
  test: {
    // The kube-sli reporter collects the SLI results suites attach to their tests and
    // writes sli-report/ (report.json, junit.xml, summary.md, report.html, conformance);
    // with no SLI results (unit, kernel, lab runs) it writes nothing.
    reporters: ['default', ['./reporters/kube-sli.ts', { outDir: process.env.SLI_REPORT_DIR || 'sli-report' }]],
    // the suites that share the run's filler Services run last, in the order their counts grow
    sequence: { sequencer: ScaleLastSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // groupOrder: unit first, then kernel alone, so no unit test competes for CPU
          // with a latency measurement
          sequence: { groupOrder: 0 },
          // the bench tallies parse hundreds of recorded reports: over vitest's 5 s default
          // on a busy 2-core machine (a bench running beside them), though nothing hung
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 5 * 60_000,
          retry: 0,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 5 * 60_000,
          // a cold build of the lab binaries can happen inside a hook (.ci/run builds first)
          hookTimeout: 20 * 60_000,
          retry: 0,
        },
      },
      {
        test: {
          name: 'slo',
          include: ['suites/**/*.slo.test.ts'],
          // chooses the cluster (KUBECONFIG, or the embedded lab), checks access, detects facts
          globalSetup: ['fixtures/global-setup.ts'],
          sequence: { groupOrder: 3 },
          fileParallelism: false,
          testTimeout: 30 * 60_000,
          hookTimeout: 15 * 60_000,
          retry: 0,
        },
      },
    ],
  },
});
