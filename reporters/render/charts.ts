import type { ComparisonDocument, QuantilePoint, ReportDocument, SeriesRecord } from '../../src/report/types.js';
import type { Dimension } from '../../src/sli/index.js';
import { fmt, labelText } from '../format.js';

// What the HTML report plots, as data: chart specs built from the summaries stored in the
// report (quantile curves, distributions, fairness), never from raw samples, so the page
// stays small whatever the sample count. The browser script (client.ts) draws them.

export interface ChartSeriesSpec {
  label: string;
  /** [x, y] in display coordinates (see ChartSpec.x.scale). */
  points: Array<[number, number]>;
  dash?: boolean;
  bars?: boolean;
}

export interface ChartSpec {
  id: string;
  group: 'quantiles' | 'scale' | 'throughput' | 'fairness' | 'distribution' | 'comparison';
  title: string;
  subtitle?: string;
  x: {
    label: string;
    /**
     * nines: x = −log10(1 − q) of a quantile q (0 → 0%, 1 → 90%, 2 → 99% …);
     * percent: x in 0..100; log/linear: plain values in x.dimension.
     */
    scale: 'linear' | 'log' | 'nines' | 'percent';
    dimension?: Dimension;
  };
  /** range: fixed [min, max] of the y axis (e.g. [0, 1] for Jain's index). */
  y: { label: string; scale: 'linear' | 'log'; dimension: Dimension; range?: [number, number] };
  series: ChartSeriesSpec[];
}

const SCALE_LABEL = 'services';

/** Display coordinate of quantile q on a "nines" axis. */
export function ninesX(q: number): number {
  return -Math.log10(1 - q);
}

function yScale(values: number[]): 'linear' | 'log' {
  if (values.length === 0) return 'linear';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo > 0 && hi / lo >= 20 ? 'log' : 'linear';
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

function curveToNines(qs: readonly QuantilePoint[]): Array<[number, number]> {
  return qs.filter((p) => p.q < 1).map((p) => [ninesX(p.q), p.value]);
}

function unitLabel(d: Dimension): string {
  return d === 'time' ? 'latency' : d === 'throughput' ? 'throughput' : 'value';
}

/** Every chart of a run report, in page order. */
export function reportCharts(doc: ReportDocument): ChartSpec[] {
  const charts: ChartSpec[] = [];
  let n = 0;
  const id = () => `chart-${++n}`;
  const bySli = groupBy(doc.series.filter((s) => s.summary.count > 0), (s) => `${s.sli}\u0000${s.source}`);

  for (const series of bySli.values()) {
    const first = series[0] as SeriesRecord;
    const { sli, source, dimension } = first;

    if (dimension !== 'throughput') {
      const lines = series.map((s) => ({ label: labelText(s.labels), points: curveToNines(s.quantiles) }));
      charts.push({
        id: id(),
        group: 'quantiles',
        title: `${sli} — quantile curves (${source})`,
        subtitle: 'one line per scale point; x: quantile, tail to the right',
        x: { label: 'quantile', scale: 'nines' },
        y: { label: unitLabel(dimension), scale: yScale(lines.flatMap((l) => l.points.map((p) => p[1]))), dimension },
        series: lines,
      });
    }

    // Against the number of Services: p50 and the tail that hurts (p99 for latencies, p10
    // for throughput) per remaining label combination.
    const scaled = series.filter((s) => s.labels[SCALE_LABEL] !== undefined && Number.isFinite(Number(s.labels[SCALE_LABEL])));
    if (scaled.length >= 2) {
      const byRest = groupBy(scaled, (s) => labelText(Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== SCALE_LABEL))));
      const lines: ChartSeriesSpec[] = [];
      for (const [rest, ss] of byRest) {
        const sorted = [...ss].sort((a, b) => Number(a.labels[SCALE_LABEL]) - Number(b.labels[SCALE_LABEL]));
        const prefix = rest === '—' ? '' : `${rest} `;
        const tail = first.direction === 'higher-is-better' ? 'p10' : 'p99';
        for (const stat of ['p50', tail] as const) {
          const at = (s: SeriesRecord) => (stat === 'p10' ? (s.quantiles.find((p) => p.q === 0.1)?.value ?? null) : s.summary[stat]);
          const pts = sorted
            .filter((s) => at(s) !== null)
            .map((s) => [Number(s.labels[SCALE_LABEL]), at(s) as number] as [number, number]);
          lines.push({ label: `${prefix}${stat}`, points: pts, dash: stat !== 'p50' });
        }
      }
      const xs = scaled.map((s) => Number(s.labels[SCALE_LABEL]));
      charts.push({
        id: id(),
        group: 'scale',
        title: `${sli} against the number of Services (${source})`,
        subtitle: `p50 solid, ${first.direction === 'higher-is-better' ? 'p10' : 'p99'} dashed`,
        x: { label: 'Services', scale: Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) >= 10 ? 'log' : 'linear', dimension: 'dimensionless' },
        y: { label: unitLabel(dimension), scale: yScale(lines.flatMap((l) => l.points.map((p) => p[1]))), dimension },
        series: lines,
      });
    }

    if (dimension === 'throughput') {
      const lines = series.map((s) => ({
        label: `${labelText(s.labels)}${s.fairness ? ` · Jain ${fmt(s.fairness.jain, 'dimensionless')} · p10/p50 ${fmt(s.fairness.p10p50, 'dimensionless')}` : ''}`,
        points: s.quantiles.map((p) => [p.q * 100, p.value] as [number, number]),
      }));
      charts.push({
        id: id(),
        group: 'throughput',
        title: `${sli} — per-connection throughput with fairness (${source})`,
        subtitle: "connections sorted by throughput (x: share of connections below); legend: Jain's fairness index",
        x: { label: 'connections (%)', scale: 'percent' },
        y: { label: 'throughput', scale: yScale(lines.flatMap((l) => l.points.map((p) => p[1]))), dimension },
        series: lines,
      });
      const fair = scaled.filter((s) => s.fairness?.jain !== null && s.fairness?.jain !== undefined);
      if (fair.length >= 2) {
        const byRest = groupBy(fair, (s) => labelText(Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== SCALE_LABEL))));
        charts.push({
          id: id(),
          group: 'fairness',
          title: `Jain's fairness index against the number of Services (${sli}, ${source})`,
          x: { label: 'Services', scale: 'log', dimension: 'dimensionless' },
          y: { label: "Jain's index", scale: 'linear', dimension: 'dimensionless', range: [0, 1] },
          series: [...byRest].map(([rest, ss]) => ({
            label: rest === '—' ? "Jain's index" : rest,
            points: [...ss]
              .sort((a, b) => Number(a.labels[SCALE_LABEL]) - Number(b.labels[SCALE_LABEL]))
              .map((s) => [Number(s.labels[SCALE_LABEL]), s.fairness?.jain as number] as [number, number]),
          })),
        });
      }
    }

    const dists = series.filter((s) => s.distribution !== undefined && dimension === 'time');
    if (dists.length > 0) {
      const lines = dists.map((s) => {
        const d = s.distribution as NonNullable<SeriesRecord['distribution']>;
        const total = d.counts.reduce((a, b) => a + b, 0) || 1;
        const points = d.counts.map((c, i) => {
          const lo = d.bounds[i] as number;
          const hi = d.bounds[i + 1] as number;
          const mid = d.scale === 'log' && lo > 0 ? Math.sqrt(lo * hi) : (lo + hi) / 2;
          return [mid, (c / total) * 100] as [number, number];
        });
        return { label: labelText(s.labels), points, bars: dists.length === 1 };
      });
      const allX = lines.flatMap((l) => l.points.map((p) => p[0]));
      charts.push({
        id: id(),
        group: 'distribution',
        title: `${sli} — distribution (${source})`,
        subtitle: 'share of samples per bin',
        x: { label: unitLabel(dimension), scale: yScale(allX), dimension },
        y: { label: 'samples (%)', scale: 'linear', dimension: 'dimensionless' },
        series: lines,
      });
    }
  }
  return charts;
}

/** Overlay of base and candidate quantile curves per compared series. */
export function comparisonCharts(cmp: ComparisonDocument): ChartSpec[] {
  return cmp.curves.map((c, i) => {
    const throughput = c.dimension === 'throughput';
    const pts = (qs: QuantilePoint[]) =>
      throughput ? qs.map((p) => [p.q * 100, p.value] as [number, number]) : curveToNines(qs);
    const series: ChartSeriesSpec[] = [
      { label: `base (${cmp.base.name})`, points: pts(c.base), dash: true },
      { label: `candidate (${cmp.candidate.name})`, points: pts(c.candidate) },
    ];
    return {
      id: `chart-${i + 1}`,
      group: 'comparison',
      title: c.seriesId,
      subtitle: throughput ? 'connections sorted by throughput' : 'quantile curves, tail to the right',
      x: throughput ? { label: 'connections (%)', scale: 'percent' } : { label: 'quantile', scale: 'nines' },
      y: { label: unitLabel(c.dimension), scale: yScale(series.flatMap((s) => s.points.map((p) => p[1]))), dimension: c.dimension },
      series,
    };
  });
}
