// A paired round (kube-sli ab --paired) ran base and candidate at once, each kube-proxy on
// its own nodes. The suites label the series that one node's dataplane alone produced with
// `clientNode` (SLI_BY_CLIENT_NODE=1); this splits such a round's report into one report per
// side, so the usual comparison of rounds applies. Pure: no I/O.
import { definition } from './notes.js';
import { buildSeries, seriesId } from './series.js';
import type { Labels, ReportDocument, SeriesRecord } from './types.js';

/**
 * Paired runs: which half of the nodes (sorted by name) runs base in each run, 0 (even
 * indices) or 1 (odd), as A B B A orders the sequential rounds: 0 1 1 0 0 1 1 0 … Each
 * two runs in a row form a swap: every node once on each side.
 */
export function pairedOrder(rounds: number): (0 | 1)[] {
  return Array.from({ length: rounds }, (_, i) => ([0, 1, 1, 0] as const)[i % 4]!);
}

/** The two halves of the nodes in a paired run: base on the even (half 0) or odd (1) indices of the names sorted. */
export function nodeHalves(nodeNames: readonly string[], half: 0 | 1): { base: Set<string>; candidate: Set<string> } {
  const nodes = [...nodeNames].sort();
  const base = new Set(nodes.filter((_, j) => j % 2 === half));
  return { base, candidate: new Set(nodes.filter((n) => !base.has(n))) };
}

/** The label that names the node whose dataplane a series measured. */
export const CLIENT_NODE_LABEL = 'clientNode';

export interface PairedSplit {
  base: ReportDocument;
  candidate: ReportDocument;
  /** series without a clientNode label: they saw both sides at once, so neither owns them */
  unattributed: string[];
  /** clientNode values that are neither side's node */
  strangers: string[];
}

const withoutNode = (labels: Labels): Labels => Object.fromEntries(Object.entries(labels).filter(([k]) => k !== CLIENT_NODE_LABEL));

/** One series out of the same series of several nodes of one side (samples from their reservoirs). */
function merge(parts: readonly SeriesRecord[]): SeriesRecord {
  const first = parts[0]!;
  const labels = withoutNode(first.labels);
  const nodes = parts.map((p) => p.labels[CLIENT_NODE_LABEL]).join(', ');
  const note = definition(`measured on ${nodes} (paired round: this side's kube-proxy ran there)`);
  if (parts.length === 1) return { ...first, id: seriesId(first.sli, first.source, labels), labels, notes: [...(first.notes ?? []), note] };
  return buildSeries({
    sli: first.sli,
    source: first.source,
    labels,
    samples: parts.flatMap((p) => p.reservoir.values),
    direction: first.direction,
    notes: [...(first.notes ?? []), note],
  });
}

/** The round's report as two: each side's series are those of its nodes, without the node label. */
export function splitPairedRound(doc: ReportDocument, baseNodes: ReadonlySet<string>, candidateNodes: ReadonlySet<string>): PairedSplit {
  const sides = { base: new Map<string, SeriesRecord[]>(), candidate: new Map<string, SeriesRecord[]>() };
  const unattributed: string[] = [];
  const strangers = new Set<string>();
  for (const s of doc.series) {
    const node = s.labels[CLIENT_NODE_LABEL];
    if (node === undefined) {
      unattributed.push(s.id);
      continue;
    }
    const side = baseNodes.has(node) ? sides.base : candidateNodes.has(node) ? sides.candidate : undefined;
    if (!side) {
      strangers.add(node);
      continue;
    }
    const id = seriesId(s.sli, s.source, withoutNode(s.labels));
    side.set(id, [...(side.get(id) ?? []), s]);
  }
  const docOf = (m: Map<string, SeriesRecord[]>): ReportDocument => ({ ...doc, series: [...m.values()].map(merge) });
  return { base: docOf(sides.base), candidate: docOf(sides.candidate), unattributed, strangers: [...strangers].sort() };
}
