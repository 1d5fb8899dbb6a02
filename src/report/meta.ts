import { checkUniqueIds, normalizeProfile } from './build.js';
import { buildSeries, DEFAULT_RESERVOIR_CAP } from './series.js';
import {
  REPORT_SCHEMA_VERSION,
  type BuildOptions,
  type Environment,
  type KubeSliMeta,
  type ProfileInfo,
  type SliResult,
  type Workload,
} from './types.js';

// How a suite hands its results to the kube-sli reporters: build the series in the test
// worker (all the math happens here) and attach them to the test's meta, which vitest
// ships to the reporters in the main process:
//
//   test('first packet at 10k Services', async ({ task }) => {
//     const verdict = evaluateSlo(slo, { samples });
//     attachSliResults(task, { results: [{ sli: slo.sli, source: 'capture', labels, samples, slo, verdict }] });
//     expect(verdict.status).toBe('pass');
//   });
//
// Only the reservoir (≤ 10,000 values per series) travels, never millions of samples.

// vitest re-exports TaskMeta from @vitest/runner; augmenting it there makes `task.meta`
// (and TestCase#meta() in reporters) carry the field.
declare module '@vitest/runner' {
  interface TaskMeta {
    /** Results of kube-sli SLIs measured by this test; read by the kube-sli reporters. */
    kubeSli?: KubeSliMeta;
  }
}

export interface KubeSliMetaInput {
  results: readonly SliResult[];
  environment?: Partial<Environment>;
  workload?: Workload;
  profile?: string | ProfileInfo;
  kitVersion?: string;
}

/** Build the meta entry for a test (series built and evaluated here). */
export function kubeSliMeta(input: KubeSliMetaInput, opts: BuildOptions = {}): KubeSliMeta {
  const series = input.results.map((r) => buildSeries(r, opts.reservoirCap ?? DEFAULT_RESERVOIR_CAP));
  checkUniqueIds(series);
  const meta: KubeSliMeta = { schemaVersion: REPORT_SCHEMA_VERSION, series };
  if (input.environment) meta.environment = structuredClone(input.environment);
  if (input.workload) meta.workload = { ...input.workload };
  const profile = normalizeProfile(input.profile);
  if (profile) meta.profile = profile;
  if (input.kitVersion) meta.kitVersion = input.kitVersion;
  return meta;
}

/** Anything with vitest's `meta` object: a test's `task`, or `expect.getState().task`. */
export interface HasMeta {
  meta: { kubeSli?: KubeSliMeta };
}

/**
 * Build the series and add them to the task's meta (appending to earlier calls in the
 * same test; environment, workload and profile: first value wins). Returns the meta.
 */
export function attachSliResults(task: HasMeta, input: KubeSliMetaInput, opts: BuildOptions = {}): KubeSliMeta {
  const add = kubeSliMeta(input, opts);
  const prev = task.meta.kubeSli;
  if (prev === undefined) {
    task.meta.kubeSli = add;
    return add;
  }
  const merged: KubeSliMeta = {
    ...add,
    ...prev,
    series: [...prev.series, ...add.series],
    workload: { ...(add.workload ?? {}), ...(prev.workload ?? {}) },
  };
  checkUniqueIds(merged.series);
  task.meta.kubeSli = merged;
  return merged;
}
