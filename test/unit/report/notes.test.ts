// Notes have a kind (definition, caveat, warning) so a summary shows what went wrong
// first and folds the definitions away.
import { describe, expect, test } from 'vitest';
import { renderConformanceMarkdown, renderConsole, renderHtml, renderJUnit, renderMarkdown } from '../../../reporters/index.js';
import {
  buildReport,
  caveat,
  definition,
  parseReport,
  serializeReport,
  SliResultError,
  validateReport,
  warning,
  type ReportDocument,
  type SliResult,
} from '../../../src/report/index.js';
import { evaluateSlo } from '../../../src/sli/index.js';

const SLO = { sli: 'first_packet_latency_seconds', thresholds: ['p(99)<100ms'], minSamples: 10 };
const samples = Array.from({ length: 200 }, (_, i) => 20e-6 + i * 1e-7);

function report(results: SliResult[]): ReportDocument {
  return buildReport({
    kitVersion: '0.1.0',
    environment: { kubernetesVersion: 'v1.34.4', proxyMode: 'nftables', kernel: '6.18.0', nodes: [{ name: 'n1' }] },
    startedAt: new Date(0),
    endedAt: new Date(60_000),
    profile: 'default',
    results,
  });
}

/** A passing run like the default profile's: many definitions, one caveat, two real warnings. */
function mixed(): ReportDocument {
  const judged = (labels: Record<string, string>) => ({ slo: { ...SLO, labels }, verdict: evaluateSlo({ ...SLO, labels }, { samples }, { iterations: 200 }) });
  return report([
    {
      sli: SLO.sli,
      source: 'capture',
      labels: { services: '100' },
      samples,
      ...judged({ services: '100' }),
      notes: [definition('SYN at the client node boundary to SYN at the server node boundary')],
    },
    {
      sli: SLO.sli,
      source: 'capture',
      labels: { services: '10000' },
      samples,
      ...judged({ services: '10000' }),
      notes: [
        definition('SYN at the client node boundary to SYN at the server node boundary'),
        warning('94 of 20000 client connections failed (first: ECONNREFUSED)'),
        warning('agent reported lost events: node-1 overruns 45'),
      ],
    },
    { sli: SLO.sli, source: 'conntrack', labels: { services: '10000' }, samples, notes: [caveat('conntrack stamps NEW at confirmation, after the DNAT rule search')] },
    {
      sli: 'first_packet_latency_scaling_ratio',
      source: 'capture',
      samples: [1.02],
      notes: [definition('p50 first-packet latency at 10000 Services over p50 at 100')],
    },
    { sli: 'connection_total_latency_seconds', source: 'client', samples, notes: [warning('3 connections failed')] },
  ]);
}

describe('note kinds', () => {
  test('helpers; a plain string is a caveat; stored as {kind, text}', () => {
    expect(definition('a')).toEqual({ kind: 'definition', text: 'a' });
    expect(caveat('b')).toEqual({ kind: 'caveat', text: 'b' });
    expect(warning('c')).toEqual({ kind: 'warning', text: 'c' });
    const doc = report([{ sli: SLO.sli, source: 'capture', samples, notes: ['legacy text', warning('lost 3 events')] }]);
    expect(doc.series[0]?.notes).toEqual([
      { kind: 'caveat', text: 'legacy text' },
      { kind: 'warning', text: 'lost 3 events' },
    ]);
    expect(validateReport(doc)).toEqual([]);
  });

  test('a note of an unknown kind is refused, naming the series and the helpers', () => {
    const bad = { kind: 'info', text: 'x' } as unknown as ReturnType<typeof warning>;
    expect(() => report([{ sli: SLO.sli, source: 'capture', samples, notes: [bad] }])).toThrow(SliResultError);
    expect(() => report([{ sli: SLO.sli, source: 'capture', samples, notes: [bad] }])).toThrow(/note \{"kind":"info","text":"x"\} is neither a string nor made by definition\(\), caveat\(\) or warning\(\)/);
  });

  test('the schema rejects an unknown kind with a JSONPath', () => {
    const doc = structuredClone(mixed()) as unknown as { series: Array<{ notes?: Array<{ kind: string }> }> };
    (doc.series.find((s) => s.notes)!.notes![0] as { kind: string }).kind = 'info';
    const problems = validateReport(doc);
    expect(problems.some((p) => /^\$\.series\[\d+\]\.notes\[0\](\.kind)?$/.test(p.path))).toBe(true);
  });

  test('reports written before note kinds (plain strings) are read, their notes as caveats', () => {
    const doc = mixed();
    const old = JSON.parse(serializeReport(doc)) as { series: Array<{ notes?: unknown[] }> };
    for (const s of old.series) if (s.notes) s.notes = (s.notes as Array<{ text: string }>).map((n) => n.text);
    const read = parseReport(JSON.stringify(old), 'old.json');
    const notes = read.series.flatMap((s) => s.notes ?? []);
    expect(notes.length).toBe(7);
    expect(notes.every((n) => n.kind === 'caveat')).toBe(true);
  });
});

describe('summary.md with mixed notes', () => {
  const md = renderMarkdown(mixed());
  const lines = md.split('\n');
  const tableAt = lines.findIndex((l) => l.startsWith('| SLI |'));

  test('warnings come first, before the SLI table: one line per series, all its warnings on it', () => {
    const box = lines.indexOf('> [!WARNING]');
    expect(box).toBeGreaterThan(0);
    expect(box).toBeLessThan(tableAt);
    expect(lines[box + 1]).toBe('> **2 series with warnings**');
    // in report order (series sorted by SLI name)
    expect(lines[box + 2]).toBe('> - `connection_total_latency_seconds{source="client"}`: 3 connections failed');
    expect(lines[box + 3]).toBe(
      '> - `first_packet_latency_seconds{source="capture",services="10000"}`: 94 of 20000 client connections failed (first: ECONNREFUSED) · agent reported lost events: node-1 overruns 45',
    );
    expect(lines[box + 4]).toBe('');
    // one warning box, not one per note
    expect(md.match(/\[!WARNING\]/g)).toHaveLength(1);
  });

  test('definitions and caveats are folded into <details> blocks after the table, never in the warning box', () => {
    const defs = lines.findIndex((l) => l.startsWith('<details><summary>What the series measure (3 series)</summary>'));
    const cav = lines.findIndex((l) => l.startsWith('<details><summary>Caveats (1 series)</summary>'));
    expect(defs).toBeGreaterThan(tableAt);
    expect(cav).toBeGreaterThan(defs);
    const defBlock = lines.slice(defs, lines.indexOf('</details>', defs) + 1).join('\n');
    expect(defBlock).toContain('- `first_packet_latency_scaling_ratio{source="capture"}`: p50 first-packet latency at 10000 Services over p50 at 100');
    for (const l of lines.slice(0, tableAt)) {
      expect(l).not.toMatch(/p50 first-packet latency at 10000|node boundary to SYN|stamps NEW/);
    }
  });

  test('a run without warnings has no warning box', () => {
    const calm = mixed();
    for (const s of calm.series) s.notes = s.notes?.filter((n) => n.kind !== 'warning');
    expect(renderMarkdown(calm)).not.toContain('[!WARNING]');
  });
});

describe('the other renderers keep the kinds', () => {
  test('console: warnings before the table, one line per series; caveats after', () => {
    const t = renderConsole(mixed()).split('\n');
    const table = t.findIndex((l) => l.startsWith('SLI '));
    const w = t.filter((l) => l.startsWith('WARNING '));
    expect(w).toEqual([
      'WARNING connection_total_latency_seconds{source="client"}: 3 connections failed',
      'WARNING first_packet_latency_seconds{source="capture",services="10000"}: 94 of 20000 client connections failed (first: ECONNREFUSED) · agent reported lost events: node-1 overruns 45',
    ]);
    expect(t.indexOf(w[0]!)).toBeLessThan(table);
    expect(t.find((l) => l.startsWith('caveat '))).toMatch(/stamps NEW at confirmation/);
  });

  test('HTML: warning boxes per series, definitions folded; conformance and JUnit name the kind', () => {
    const doc = mixed();
    const html = renderHtml(doc);
    expect(html.match(/<div class="warning">/g)).toHaveLength(2);
    expect(html).toMatch(/<details><summary>What the series measure \(3 series\)<\/summary>/);
    expect(renderConformanceMarkdown(doc)).toContain('  - warning: 94 of 20000 client connections failed (first: ECONNREFUSED)');
    expect(renderJUnit(doc)).toContain('value="definition: p50 first-packet latency at 10000 Services over p50 at 100"');
  });
});
