import { warning } from './notes.js';
import { buildSeries, DEFAULT_RESERVOIR_CAP, SliResultError } from './series.js';
import {
  REPORT_SCHEMA_VERSION,
  type BuildOptions,
  type BuildReportInput,
  type Environment,
  type KubeSliMeta,
  type ProfileInfo,
  type ReportDocument,
  type SeriesOrigin,
  type SeriesRecord,
  type Workload,
} from './types.js';

// The report builder: SliResults (or series the tests attached) in, a schemaVersion 1
// document out. Used by suites, benches and the vitest reporters alike. Pure: writing it
// is io.ts's job (writeReport) or the reporters'.

function isoTime(t: Date | string, field: string): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new SliResultError(`${field}: not a valid date: ${String(t)}`);
  return d.toISOString();
}

export function normalizeProfile(p: string | ProfileInfo | undefined): ProfileInfo | undefined {
  if (p === undefined) return undefined;
  return typeof p === 'string' ? { name: p } : { ...p };
}

/** An environment with every field present (unknown ones null). */
export function completeEnvironment(e: Partial<Environment> | undefined): Environment {
  return {
    ...e,
    kubernetesVersion: e?.kubernetesVersion ?? null,
    proxyMode: e?.proxyMode ?? null,
    kernel: e?.kernel ?? null,
    nodes: e?.nodes ? e.nodes.map((n) => ({ ...n })) : [],
  };
}

/** Order series for reading: by SLI, source, then labels (numeric-aware). */
export function sortSeries(series: SeriesRecord[]): SeriesRecord[] {
  const coll = new Intl.Collator('en', { numeric: true });
  return series.sort((a, b) => coll.compare(a.sli, b.sli) || coll.compare(a.id, b.id));
}

/** Throws if two series share an id (same sli, source and labels). */
export function checkUniqueIds(series: readonly SeriesRecord[]): void {
  const seen = new Set<string>();
  for (const s of series) {
    if (seen.has(s.id)) {
      throw new SliResultError(`two results for the same series ${s.id}; give them different labels`);
    }
    seen.add(s.id);
  }
}

/** Input of assembleReport: series already built (buildSeries, kubeSliMeta). */
export interface AssembleReportInput {
  kitVersion: string;
  environment?: Partial<Environment>;
  workload?: Workload;
  startedAt: Date | string;
  endedAt: Date | string;
  profile?: string | ProfileInfo;
  series: readonly SeriesRecord[];
}

/**
 * The one place a report document is put together, from series already built: by
 * buildReport (suites, benches) and by the vitest reporters (series built in the workers).
 * Series are sorted for reading; duplicate ids throw.
 */
export function assembleReport(input: AssembleReportInput): ReportDocument {
  if (typeof input.kitVersion !== 'string' || input.kitVersion === '') {
    throw new SliResultError('kitVersion: must be a non-empty string (the kube-sli version)');
  }
  const series = sortSeries([...input.series]);
  checkUniqueIds(series);
  const doc: ReportDocument = {
    kind: 'kube-sli-report',
    schemaVersion: REPORT_SCHEMA_VERSION,
    kitVersion: input.kitVersion,
    startedAt: isoTime(input.startedAt, 'startedAt'),
    endedAt: isoTime(input.endedAt, 'endedAt'),
    environment: completeEnvironment(input.environment),
    workload: { ...(input.workload ?? {}) },
    series,
  };
  const profile = normalizeProfile(input.profile);
  if (profile) doc.profile = profile;
  return doc;
}

/** Build a report document (schemaVersion 1) from the results of a run. */
export function buildReport(input: BuildReportInput, opts: BuildOptions = {}): ReportDocument {
  const cap = opts.reservoirCap ?? DEFAULT_RESERVOIR_CAP;
  if (typeof input.kitVersion !== 'string' || input.kitVersion === '') {
    throw new SliResultError('kitVersion: must be a non-empty string (the kube-sli version)');
  }
  return assembleReport({ ...input, series: input.results.map((r) => buildSeries(r, cap)) });
}

/** The kube-sli meta one test attached, and the test it came from. */
export interface TestMeta {
  meta: KubeSliMeta;
  origin: SeriesOrigin;
}

/**
 * A report from the meta the tests attached (attachSliResults), in test order: each series
 * gets its test as origin; environment, profile and kit version come from the first test
 * that gave them, workload knobs merge (first test wins), and the defaults fill the rest.
 * A series reported by two tests is kept under id#2, with a warning.
 */
export function reportFromTestMeta(
  tests: readonly TestMeta[],
  run: { startedAt: Date | string; endedAt: Date | string; kitVersion: string; environment?: Partial<Environment>; workload?: Workload; profile?: string | ProfileInfo },
): ReportDocument {
  const series: SeriesRecord[] = [];
  const seen = new Map<string, number>();
  let environment: Partial<Environment> | undefined;
  let workload: Workload = {};
  let profile: ProfileInfo | undefined;
  let kitVersion: string | undefined;
  for (const { meta, origin } of tests) {
    environment ??= meta.environment;
    workload = { ...(meta.workload ?? {}), ...workload };
    profile ??= meta.profile;
    kitVersion ??= meta.kitVersion;
    for (const s of meta.series) {
      const n = (seen.get(s.id) ?? 0) + 1;
      seen.set(s.id, n);
      const copy: SeriesRecord = { ...s, origin: { ...origin } };
      if (n > 1) {
        copy.id = `${s.id}#${n}`;
        copy.notes = [...(s.notes ?? []), warning(`the same series was also reported by another test; renamed to ${copy.id}`)];
      }
      series.push(copy);
    }
  }
  return assembleReport({
    kitVersion: kitVersion ?? run.kitVersion,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    environment: { ...(run.environment ?? {}), ...(environment ?? {}) },
    workload: { ...(run.workload ?? {}), ...workload },
    profile: profile ?? run.profile,
    series,
  });
}
