// What the programming measurement says about its kube-proxy waits and its start instant:
// the notes built from settle results and from the probes' Service-to-slice leads.
import { describe, expect, it } from 'vitest';
import { settleNotes, startInstantNotes } from '../../../measurements/network-programming-latency.js';
import type { SettleResult } from '../../../src/kube/kube-proxy-quiet.js';
import type { SeriesNote } from '../../../src/report/types.js';

const quiet = (seconds: number, syncs: number[]): SettleResult => ({ quiet: true, seconds, nodes: syncs.map((s, i) => ({ node: `node${i}`, syncs: s, quiet: true, state: `node${i}: still` })) });

describe('settleNotes', () => {
  it('all quiet: one definition with the number of waits, their total and the first wait', () => {
    const notes = settleNotes([
      { what: 'before the first probe', r: quiet(4.4, [1, 1]) },
      { what: 'before probe 2', r: quiet(5.7, [2, 2]) },
    ]) as SeriesNote[];
    expect(notes).toHaveLength(1);
    expect(notes[0]!.kind).toBe('definition');
    expect(notes[0]!.text).toMatch(/2 waits, 10\.1 s in all, the first \(before the first probe\) 4\.4 s with node0 1 syncs, node1 1 syncs/);
  });

  it('a wait that timed out is a warning naming the node state; a node that could not tell is one caveat', () => {
    const late: SettleResult = { quiet: false, seconds: 900, timedOut: 'x', nodes: [{ node: 'node0', syncs: 40, quiet: false, state: 'node0: change pending (IPv4), 40 syncs while waiting' }, { node: 'node1', unavailable: 'HTTP 503' }] };
    const notes = settleNotes([
      { what: 'before probe 3', r: late },
      { what: 'before probe 4', r: { ...late, quiet: true, timedOut: undefined } },
    ]) as SeriesNote[];
    const warnings = notes.filter((n) => n.kind === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.text).toMatch(/not quiet before probe 3 after 900\.0 s \(node0: change pending \(IPv4\), 40 syncs while waiting; node1\)/);
    expect(notes.filter((n) => n.kind === 'caveat').map((n) => n.text)).toEqual(['kube-proxy on node1 could not tell whether it was quiet (HTTP 503): the probes did not wait for it']);
  });

  it('the window clause only where a kube-proxy window was open (not the many-endpoints case)', () => {
    const waits = [{ what: 'before the first big Service', r: quiet(3, [1, 1]) }];
    expect((settleNotes(waits)[0] as SeriesNote).text).toMatch(/the window closed once the last probe's syncs were done/);
    expect((settleNotes(waits, { window: false })[0] as SeriesNote).text).not.toMatch(/window/);
  });

  it('no waits: no notes', () => {
    expect(settleNotes([])).toEqual([]);
  });
});

describe('startInstantNotes', () => {
  it("gives the median and largest lead of the probe Service's create over its slice's write", () => {
    const [n] = startInstantNotes([0.076, 0.63, 0.05, 0.08].map((s) => ({ serviceLeadSeconds: s }))) as SeriesNote[];
    expect(n!.kind).toBe('caveat');
    expect(n!.text).toMatch(/created 76\.0 ms \(median; at most 630\.0 ms\) before it/);
  });

  it('samples without a lead: no note', () => {
    expect(startInstantNotes([{}])).toEqual([]);
  });
});
