// A report.json exactly as the SLO suites wrote it on the lab (recorded by
// test/lab/compare-suites.test.ts with KUBE_SLI_RECORD_REPORTS): what `kube-sli compare`
// must read. Synthetic reports never carried the fields the suites write (the SLO's
// origin, note kinds), so this checks the real thing without a lab.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { compareCommand } from '../../../src/cli/compare.js';
import { NOTE_KINDS, readReport } from '../../../src/report/index.js';
import { SLI } from '../../../src/config/profiles.js';
import { checkSelfComparison } from '../../fixtures/report/checks.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/report/slo-suite/connection-total-latency.report.json', import.meta.url));

describe('a report the SLO suites wrote', () => {
  test('validates against the schema, with the profile SLO and its origin', async () => {
    const doc = await readReport(FIXTURE);
    expect(doc.environment.provider).toBeTruthy();
    const judged = doc.series.filter((s) => s.verdict);
    expect(judged.map((s) => s.sli)).toContain(SLI.totalLatency);
    for (const s of judged) expect(s.slo?.origin, s.id).toMatch(/.{20,}/);
    for (const s of doc.series) for (const n of s.notes ?? []) expect(NOTE_KINDS, `${s.id}: ${n.text}`).toContain(n.kind);
    for (const s of doc.series) expect(s.origin?.file).toBe('suites/connection-total-latency.slo.test.ts');
  });

  test('compares with itself: nothing flagged; the CLI exits 0 and prints its table', async () => {
    checkSelfComparison(await readReport(FIXTURE));
    let out = '';
    let err = '';
    const code = await compareCommand([FIXTURE, FIXTURE, '--out-dir', '-'], { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^SLI\s+source\s+scale point\s+stat\s+base\s+candidate/m);
  });
});
