import { buildSeries, DEFAULT_RESERVOIR_CAP, SliResultError } from './series.js';
import {
  REPORT_SCHEMA_VERSION,
  type BuildOptions,
  type BuildReportInput,
  type Environment,
  type ProfileInfo,
  type ReportDocument,
  type SeriesRecord,
} from './types.js';

// The builder suites call at the end of a run: SliResults in, a schemaVersion 1 document
// out. Pure: writing it is io.ts's job (writeReport).

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

/** Build a report document (schemaVersion 1) from the results of a run. */
export function buildReport(input: BuildReportInput, opts: BuildOptions = {}): ReportDocument {
  const cap = opts.reservoirCap ?? DEFAULT_RESERVOIR_CAP;
  if (typeof input.kitVersion !== 'string' || input.kitVersion === '') {
    throw new SliResultError('kitVersion: must be a non-empty string (the kube-sli version)');
  }
  const series = sortSeries(input.results.map((r) => buildSeries(r, cap)));
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
