// How large a change `kube-sli ab`'s round-level checks can see, from the spread of the
// rounds themselves. Pure.
//
// ab counts a change only when (1) the pooled bootstrap, (2) the ordering (every round of
// B beyond every round of A) and (3) Student's t on the rounds' statistics all agree. With
// thousands of samples pooled, (1) is the weakest bar; (2) and (3) are set by the spread
// between rounds of one side, sd. In units of sd, the change that (2) and (3) together catch
// in 9 of 10 A/Bs depends only on the rounds per side: that multiple is computed here by
// simulation (normal rounds, a fixed seed, so the same inputs give the same figure), and
// times sd / mean gives the predicted minimum detectable effect (MDE) as a fraction.
//
// sd comes from A/A runs: every round of one run measures the same kube-proxy, so their
// variance (pooled over runs, each run's own mean taken out) is the round-to-round variance
// ab's t test sees. A prediction, not a measurement: the bench prints it beside the
// detection rates it measures, and says which is which.
import { mean } from '../sli/index.js';
import { mulberry32, normal } from '../sli/random.js';
import { pooledT, roundsAgree, tCritical } from './rounds.js';

export interface RoundSpread {
  /** round-to-round standard deviation (pooled within runs) */
  sd: number;
  /** mean of every round's value */
  mean: number;
  /** sd / mean */
  relative: number;
  /** degrees of freedom of the pooled variance: Σ (rounds in run − 1) */
  df: number;
  /** runs that contributed (2 or more rounds each) */
  runs: number;
}

/** Pooled within-run spread of the rounds of A/A runs (each inner list: one run's round values). */
export function roundSpread(runs: readonly (readonly number[])[]): RoundSpread | undefined {
  const used = runs.filter((r) => r.length >= 2 && r.every(Number.isFinite));
  const df = used.reduce((a, r) => a + r.length - 1, 0);
  if (df === 0) return undefined;
  const ss = used.reduce((a, r) => {
    const m = mean(r);
    return a + r.reduce((b, x) => b + (x - m) ** 2, 0);
  }, 0);
  const sd = Math.sqrt(ss / df);
  const all = mean(used.flat());
  return { sd, mean: all, relative: all !== 0 ? sd / Math.abs(all) : Infinity, df, runs: used.length };
}

export interface PowerOptions {
  /** the comparison's confidence (ab: 0.95) */
  confidence?: number;
  trials?: number;
  seed?: number;
}

/**
 * The share of A/Bs whose rounds pass ab's ordering check and round t test, when every
 * round of B is `effect` round-sds worse than A's (normal rounds; `roundsPerSide` each).
 */
export function roundChecksPower(roundsPerSide: number, effect: number, o: PowerOptions = {}): number {
  const n = roundsPerSide;
  if (!Number.isInteger(n) || n < 2) throw new Error(`roundsPerSide ${n}: the round t test needs 2 or more rounds per side`);
  const trials = o.trials ?? 20_000;
  // ab's own checks (src/report/rounds.ts), the bar computed once
  const critical = tCritical(o.confidence ?? 0.95, 2 * n - 2);
  const rng = mulberry32(o.seed ?? 20261129);
  let hits = 0;
  for (let i = 0; i < trials; i++) {
    const base = Array.from({ length: n }, () => normal(rng));
    const candidate = Array.from({ length: n }, () => effect + normal(rng));
    if (roundsAgree({ base, candidate }, true) && pooledT(base, candidate).t > critical) hits++;
  }
  return hits / trials;
}

/**
 * The smallest change, in round-sds (to 0.1), that the ordering and the round t test catch
 * in at least `rate` of A/Bs at `roundsPerSide`.
 */
export function detectableEffect(roundsPerSide: number, rate = 0.9, o: PowerOptions = {}): number {
  // it depends on nothing measured: each (rounds, rate, options) is simulated once per process
  const key = JSON.stringify([roundsPerSide, rate, o.confidence, o.trials, o.seed]);
  const known = effects.get(key);
  if (known !== undefined) return known;
  const found = searchEffect(roundsPerSide, rate, o);
  effects.set(key, found);
  return found;
}

const effects = new Map<string, number>();

function searchEffect(roundsPerSide: number, rate: number, o: PowerOptions): number {
  // power grows with the effect: bisect on a 0.1 grid between 0 and 50 sds
  let lo = 0;
  let hi = 500;
  if (roundChecksPower(roundsPerSide, hi / 10, o) < rate) return Infinity;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (roundChecksPower(roundsPerSide, mid / 10, o) >= rate) hi = mid;
    else lo = mid;
  }
  return hi / 10;
}

export interface PredictedMde {
  roundsPerSide: number;
  /** detectableEffect at 9 in 10, in round-sds */
  sds: number;
  /** sds × the spread's relative sd: the predicted MDE as a fraction of the mean */
  relative: number;
}

/** The predicted MDE at each rounds-per-side count, from a measured spread. */
export function predictMde(spread: RoundSpread, roundsPerSide: readonly number[] = [2, 3, 4, 5], o: PowerOptions = {}): PredictedMde[] {
  return roundsPerSide.map((n) => {
    const sds = detectableEffect(n, 0.9, o);
    return { roundsPerSide: n, sds, relative: sds * spread.relative };
  });
}

/**
 * Each round position's value relative to its own run's mean, averaged over runs (runs of
 * equal length only): what the order A B B A assumes away. In A/A runs every position
 * measures one kube-proxy, so a position far from 0 is an effect of the position (what ran
 * before it), which the order hands to one side (positions 2 and 3 are always B's).
 */
export function positionEffects(runs: readonly (readonly number[])[]): { position: number; relative: number; runs: number }[] {
  const len = Math.max(0, ...runs.map((r) => r.length));
  const same = runs.filter((r) => r.length === len && r.every(Number.isFinite)).map((r) => ({ r, m: mean(r) })).filter((x) => x.m !== 0);
  if (same.length === 0) return [];
  return Array.from({ length: len }, (_, i) => ({ position: i + 1, relative: mean(same.map(({ r, m }) => r[i]! / m - 1)), runs: same.length }));
}
