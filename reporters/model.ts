import type { NoteKind, ReportDocument, SeriesRecord } from '../src/report/types.js';
import type { VerdictStatus } from '../src/sli/index.js';

// Display decisions shared by the renderers. No statistics here: every number shown was
// computed by src/report when the report was built.

export interface ConformanceView {
  conformant: boolean;
  /** "conformant" or "not conformant: 1 SLO failed, 2 inconclusive". */
  headline: string;
  profile: string;
  /** Series that carry an SLO verdict, in report order. */
  slos: Array<SeriesRecord & { verdict: NonNullable<SeriesRecord['verdict']> }>;
  counts: Record<VerdictStatus, number>;
}

/**
 * The conformance rule: conformant only when at least one SLO was evaluated and every
 * SLO passed. A failed or inconclusive SLO (too few samples, a CI straddling the
 * threshold) means "not conformant": a vendor claim needs evidence, not its absence.
 */
export function conformanceView(doc: ReportDocument): ConformanceView {
  const slos = doc.series.filter((s): s is ConformanceView['slos'][number] => s.verdict !== undefined);
  const counts: Record<VerdictStatus, number> = { pass: 0, fail: 0, inconclusive: 0 };
  for (const s of slos) counts[s.verdict.status]++;
  const conformant = slos.length > 0 && counts.pass === slos.length;
  let headline: string;
  if (slos.length === 0) headline = 'not conformant: no SLO was evaluated';
  else if (conformant) headline = `conformant: all ${slos.length} SLOs passed`;
  else {
    const parts: string[] = [];
    if (counts.fail > 0) parts.push(`${counts.fail} SLO${counts.fail === 1 ? '' : 's'} failed`);
    if (counts.inconclusive > 0) parts.push(`${counts.inconclusive} inconclusive`);
    headline = `not conformant: ${parts.join(', ')} (of ${slos.length})`;
  }
  return { conformant, headline, profile: doc.profile?.name ?? 'none', slos, counts };
}

/** One series and its notes of one kind. */
export interface SeriesNotes {
  series: SeriesRecord;
  texts: string[];
}

/** The series that carry notes of this kind, in report order, each with its texts. */
export function notesOfKind(doc: ReportDocument, kind: NoteKind): SeriesNotes[] {
  const out: SeriesNotes[] = [];
  for (const series of doc.series) {
    const texts = (series.notes ?? []).filter((n) => n.kind === kind).map((n) => n.text);
    if (texts.length > 0) out.push({ series, texts });
  }
  return out;
}
