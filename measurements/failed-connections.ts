// SLI failed_connections_ratio: of the connections a measurement's clients attempted, the
// fraction that failed (refused, reset, timed out), as the clients saw them. A failed
// connection to a Service the dataplane has programmed is a dataplane fault, so every
// measurement that drives connections judges this beside its latency or throughput; the
// profile's threshold is zero. Measured Services are programmed first
// (fixtures/measure.ts waitTargetsProgrammed), so a failure here is not the kit's haste.
import { definition, warning } from '../src/report/notes.js';
import type { NoteInput } from '../src/report/types.js';
import type { Labels } from '../src/report/index.js';
import type { SloSpec } from '../src/sli/index.js';
import type { ConnectionCount } from '../fixtures/measure.js';
import type { Judged, Recorder } from '../fixtures/results.js';

/** failed / attempted as one sample (none when nothing was attempted). */
export function failedRatioSamples(c: ConnectionCount): number[] {
  return c.attempted > 0 ? [c.failed / c.attempted] : [];
}

export function judgeFailedConnections(record: Recorder, slo: SloSpec, c: ConnectionCount, labels?: Labels, notes: NoteInput[] = []): Judged {
  return record.judge(slo, {
    source: 'client',
    ...(labels ? { labels } : {}),
    samples: failedRatioSamples(c),
    notes: [c.failed > 0 ? warning(`${c.failed} of ${c.attempted} connections failed${c.firstError ? ` (first: ${c.firstError})` : ''}`) : definition(`${c.failed} of ${c.attempted} connections failed`), ...notes],
  });
}
