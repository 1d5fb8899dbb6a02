import type { NoteInput, NoteKind, SeriesNote } from './types.js';

// Notes with a kind, so a summary can put what went wrong first and keep definitions out
// of the way. Suites and fixtures call these instead of passing bare strings.

export const NOTE_KINDS: readonly NoteKind[] = ['warning', 'caveat', 'definition'];

/** What the series measures, e.g. "p50 at 10,000 Services over p50 at 100". */
export const definition = (text: string): SeriesNote => ({ kind: 'definition', text });

/** A limit of the measurement that a reader should know; nothing went wrong. */
export const caveat = (text: string): SeriesNote => ({ kind: 'caveat', text });

/** Something went wrong in this run (lost events, failed connections, a changed source). */
export const warning = (text: string): SeriesNote => ({ kind: 'warning', text });

/** A note with its kind; a plain string is a caveat (notes written before kinds existed). */
export function toNote(n: NoteInput): SeriesNote {
  return typeof n === 'string' ? caveat(n) : { kind: n.kind, text: n.text };
}

