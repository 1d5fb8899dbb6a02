// Types of the kube-sli result file (report.json, schemaVersion 1), of its builder's input,
// of the per-test results suites attach to vitest's task.meta, and of a comparison of two
// reports. Reporters import only from here (and src/sli's types): keep this file free of
// logic. The JSON Schema in report.schema.json describes the same document; a unit test
// keeps the two in step.
//
// Numbers in the document are in base units (seconds, bytes per second, plain numbers).
// JSON has no NaN or Infinity, so a statistic that is undefined (no samples, 0/0) or not
// finite is stored as null.

import type { Dimension, SloSpec, Verdict, VerdictStatus, ThresholdVerdict } from '../sli/index.js';
import type { LatencyHistogram } from '../sli/index.js';

/** The only result-file version this kube-sli writes and reads. */
export const REPORT_SCHEMA_VERSION = 1;
export type ReportSchemaVersion = typeof REPORT_SCHEMA_VERSION;

/** Where an SLI's samples were observed. Open-ended: new collectors add names. */
export type SliSource =
  | 'capture'
  | 'conntrack'
  | 'client'
  | 'prober'
  | 'kube-proxy-metric'
  | 'derived'
  | (string & {});

/** Prometheus-style labels of one series; a scale point such as {services: '10000'}. */
export type Labels = Record<string, string>;

/** Which way is better for an SLI: latencies go down, throughput and fairness go up. */
export type Direction = 'lower-is-better' | 'higher-is-better';

/**
 * What a note tells the reader:
 * - definition: what the series measures (ratio of what over what, from which instant);
 * - caveat: a limit of the measurement a reader should know, without anything having gone wrong;
 * - warning: something went wrong in this run (lost events, failed connections, a source
 *   that changed): the figure may not mean what it says.
 */
export type NoteKind = 'definition' | 'caveat' | 'warning';

export interface SeriesNote {
  kind: NoteKind;
  text: string;
}

/** A note as suites give it; a plain string is a caveat (reports before note kinds). */
export type NoteInput = string | SeriesNote;

/** An SLO as stored with its series: src/sli's SloSpec plus where its thresholds come from. */
export interface ReportSlo extends SloSpec {
  /** Why these thresholds: the profile's source, or the override that set them. */
  origin?: string;
}

/** A LatencyHistogram already encoded with LatencyHistogram#encode(). */
export interface EncodedHistogram {
  encodedHistogram: string;
}

/**
 * One SLI series as measured by a suite: the input of buildReport / kubeSliMeta.
 * Samples are in base units. Give raw samples whenever you have them (exact summary and
 * reservoir); a histogram is for sources that only produce one (the agent's metrics).
 */
export interface SliResult {
  /** Prometheus-style name with a unit suffix, e.g. first_packet_latency_seconds. */
  sli: string;
  source: SliSource;
  /** Scale point and other dimensions of the run, e.g. {services: '10000'}. */
  labels?: Labels;
  samples: ArrayLike<number> | LatencyHistogram | EncodedHistogram;
  /** Overrides the direction inferred from the SLI name (see sliDirection). */
  direction?: Direction;
  /** The SLO evaluated on these samples and its verdict (src/sli evaluateSlo). */
  slo?: ReportSlo;
  verdict?: Verdict;
  /** Facts a reader needs: use definition(), caveat() or warning() (notes.ts). */
  notes?: readonly NoteInput[];
}

/** Summary over all samples. null when undefined (no samples). */
export interface ReportSummary {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
}

/** One point of a quantile curve: value at quantile q in [0, 1]. */
export interface QuantilePoint {
  q: number;
  value: number;
}

/**
 * Histogram of the samples for plots: counts[i] samples fell in [bounds[i], bounds[i+1])
 * (the last bin includes its upper bound). Log-spaced when all samples are > 0.
 */
export interface Distribution {
  scale: 'log' | 'linear';
  bounds: number[];
  counts: number[];
}

/**
 * How the stored samples were chosen (at most reservoirCap values, sorted ascending,
 * rounded to 6 significant digits):
 * - 'all': every sample (count <= cap);
 * - 'order-statistics': count > cap; the k = cap values sorted[⌊(i + ½)·n / k⌋], i < k —
 *   a systematic sample of the sorted samples, so the stored set has the empirical
 *   distribution of all samples to within 1/k in rank, whatever their order;
 * - 'histogram-quantiles': the input was a histogram; the k = min(count, cap) values are
 *   its quantiles at (i + ½)/k.
 * A bootstrap on k < n stored values gives wider intervals than n samples would: tests on
 * reservoirs err towards "no significant change".
 */
export type ReservoirMethod = 'all' | 'order-statistics' | 'histogram-quantiles';

export interface Reservoir {
  method: ReservoirMethod;
  /** The cap in force when the report was built. */
  cap: number;
  values: number[];
}

/** Fairness of concurrent flows (throughput series): over all per-connection samples. */
export interface Fairness {
  flows: number;
  /** Jain's index (Σx)²/(n·Σx²); null when undefined (no flows, all zero). */
  jain: number | null;
  /** p10/p50 of the per-connection throughputs; null when the median is 0. */
  p10p50: number | null;
}

/** src/sli's ThresholdVerdict as stored: undefined or non-finite numbers become null. */
export interface ReportThresholdVerdict extends Omit<ThresholdVerdict, 'observed' | 'ci'> {
  observed: number | null;
  ci?: [number | null, number | null];
}

/** src/sli's Verdict as stored in the report. */
export interface ReportVerdict extends Omit<Verdict, 'thresholds'> {
  thresholds: ReportThresholdVerdict[];
}

/** The test that produced a series (filled in by the vitest reporters). */
export interface SeriesOrigin {
  /** Test file relative to the project root. */
  file: string;
  /** Full test name, suites separated by " > ". */
  test: string;
}

/** One SLI series in the report: everything a reporter shows and compare tests. */
export interface SeriesRecord {
  /** Stable key: sli{source="…",label="…"} with labels sorted by name. */
  id: string;
  sli: string;
  source: SliSource;
  labels: Labels;
  dimension: Dimension;
  direction: Direction;
  /** true: summary computed from every raw sample; false: from a histogram (±0.05%). */
  exact: boolean;
  summary: ReportSummary;
  /** Quantile curve for plots, q ascending from 0 to 1 (empty when there are no samples). */
  quantiles: QuantilePoint[];
  distribution?: Distribution;
  /** Throughput series only. */
  fairness?: Fairness;
  /** LatencyHistogram#encode() of all samples; time series only. */
  histogram?: string;
  reservoir: Reservoir;
  slo?: ReportSlo;
  verdict?: ReportVerdict;
  notes?: SeriesNote[];
  origin?: SeriesOrigin;
}

/** A node of the cluster under test. */
export interface NodeInfo {
  name: string;
  kernel?: string;
  kubeletVersion?: string;
  osImage?: string;
  arch?: string;
  containerRuntime?: string;
  roles?: string[];
}

/** Where the run happened. null means unknown (e.g. RBAC did not allow reading it). */
export interface Environment {
  /** Server version, e.g. v1.34.1. */
  kubernetesVersion: string | null;
  /** kube-proxy mode (iptables, nftables, ipvs) or the dataplane's name (cilium-ebpf). */
  proxyMode: string | null;
  /** Kernel release of the nodes under test (uname -r); "mixed" details live in nodes. */
  kernel: string | null;
  nodes: NodeInfo[];
  /** lab, kind, k3s, kubeconfig … */
  provider?: string | null;
  cni?: string | null;
  /** Anything else worth recording, as strings. */
  extra?: Record<string, string>;
}

/** The workload knobs of the run (connections, concurrency, payload size, services …). */
export type Workload = Record<string, string | number | boolean | null>;

/** The conformance profile a run was checked against. */
export interface ProfileInfo {
  name: string;
  description?: string;
  version?: string;
}

/** report.json, schemaVersion 1. */
export interface ReportDocument {
  /** Optional pointer to the schema, for editors. */
  $schema?: string;
  kind: 'kube-sli-report';
  schemaVersion: ReportSchemaVersion;
  kitVersion: string;
  /** ISO 8601 date-times. */
  startedAt: string;
  endedAt: string;
  profile?: ProfileInfo;
  environment: Environment;
  workload: Workload;
  series: SeriesRecord[];
}

/** Input of buildReport. */
export interface BuildReportInput {
  kitVersion: string;
  environment: Environment;
  workload?: Workload;
  startedAt: Date | string;
  endedAt: Date | string;
  profile?: string | ProfileInfo;
  results: readonly SliResult[];
}

export interface BuildOptions {
  /** Largest reservoir kept per series; default 10,000. */
  reservoirCap?: number;
}

/**
 * What a suite attaches to its test as `task.meta.kubeSli` (see kubeSliMeta in meta.ts):
 * series already built and evaluated in the test worker, so the reporters — in the main
 * process — only collect and display. Environment, workload and profile may be given by
 * any test (usually a fixture); the reporters merge them, first value wins.
 */
export interface KubeSliMeta {
  schemaVersion: ReportSchemaVersion;
  series: SeriesRecord[];
  environment?: Partial<Environment>;
  workload?: Workload;
  profile?: ProfileInfo;
  kitVersion?: string;
}

// ---------------------------------------------------------------------------------------
// Comparison of two reports (kube-sli compare).

/** Statistic compared per series. */
export type ComparedStatistic = 'p50' | 'p99' | 'p10' | 'mean' | 'jain';

/**
 * - regression: the difference is significant (its CI excludes 0) and worse than the
 *   tolerance allows;
 * - improvement: significant and better by more than the tolerance;
 * - within-tolerance: significant but smaller than the tolerance;
 * - no-significant-change: the CI includes 0;
 * - untestable: too few samples on a side (< 2) or the statistic is undefined.
 */
export type ComparisonVerdict =
  | 'regression'
  | 'improvement'
  | 'within-tolerance'
  | 'no-significant-change'
  | 'untestable';

export interface LabelDifference {
  label: string;
  base: string | null;
  candidate: string | null;
}

export interface ComparisonRow {
  /** The base series' id (the candidate's when it differs is in candidateId). */
  seriesId: string;
  candidateId: string;
  sli: string;
  source: SliSource;
  labels: Labels;
  /** Labels ignored for matching that differ between the two sides (e.g. mode). */
  labelDifferences: LabelDifference[];
  statistic: ComparedStatistic;
  dimension: Dimension;
  direction: Direction;
  base: number | null;
  candidate: number | null;
  /** candidate − base. */
  change: number | null;
  /** (candidate − base) / |base|; null when base is 0 or undefined. */
  relativeChange: number | null;
  /** Bootstrap CI of candidate − base at the comparison's confidence. */
  ci: [number, number] | null;
  significant: boolean;
  verdict: ComparisonVerdict;
  baseSamples: number;
  candidateSamples: number;
  baseSlo?: VerdictStatus;
  candidateSlo?: VerdictStatus;
  note?: string;
}

export interface EnvironmentDifference {
  field: 'proxyMode' | 'kernel' | 'kubernetesVersion' | 'nodeCount' | 'provider' | 'cni';
  base: string | null;
  candidate: string | null;
}

export interface ComparedReport {
  /** The file name or another label given by the caller. */
  name: string;
  kitVersion: string;
  startedAt: string;
  endedAt: string;
  profile?: ProfileInfo;
  environment: Environment;
  workload: Workload;
}

/** Quantile curves of one matched series, for overlay plots. */
export interface ComparedCurves {
  seriesId: string;
  sli: string;
  dimension: Dimension;
  base: QuantilePoint[];
  candidate: QuantilePoint[];
}

export interface ComparisonDocument {
  kind: 'kube-sli-comparison';
  base: ComparedReport;
  candidate: ComparedReport;
  /** Relative change tolerated before a significant worsening is a regression (0.05 = 5%). */
  tolerance: number;
  /** absolute floor per dimension that a change must exceed to count (base units) */
  minChange?: Partial<Record<Dimension, number>>;
  confidence: number;
  iterations: number;
  /** Environment fields that differ; non-empty means a WARNING in every output. */
  environmentDifferences: EnvironmentDifference[];
  /** Human-readable warnings, each one line, starting with "WARNING:". */
  warnings: string[];
  rows: ComparisonRow[];
  onlyInBase: string[];
  onlyInCandidate: string[];
  curves: ComparedCurves[];
  regressions: number;
  improvements: number;
  outcome: 'regression' | 'no-regression';
}

/** Options of compareReports. */
export interface CompareOptions {
  /** Default 0.05 (5% relative). */
  tolerance?: number;
  /**
   * Absolute changes at or below this, per dimension (base units), are never a regression
   * or an improvement. Default DEFAULT_MIN_CHANGE: 2 µs for times, since conntrack's
   * timestamps have 1 µs resolution and a one-step shift is not a finding.
   */
  minChange?: Partial<Record<Dimension, number>>;
  /** Default 0.95. */
  confidence?: number;
  /** Bootstrap replicates; default 2000. */
  iterations?: number;
  seed?: number;
  /**
   * Labels that describe the environment rather than the scale point; series that match
   * exactly on the other labels are paired across different values of these (with the
   * difference shown). Default ['mode', 'proxy_mode', 'proxyMode', 'kernel'].
   */
  environmentLabels?: readonly string[];
  baseName?: string;
  candidateName?: string;
}
