// The predicted resolution of ab's round checks (src/report/round-power.ts): the spread of
// A/A rounds, the power of the ordering + round t test by simulation, and round positions.
import { describe, expect, it } from 'vitest';
import { detectableEffect, positionEffects, predictMde, roundChecksPower, roundSpread } from '../../../src/report/round-power.js';

describe('round spread of A/A runs', () => {
  it("pools the within-run variance: each run's own mean is taken out", () => {
    // run 1: mean 2, ss 2; run 2: mean 11, ss 2 → pooled variance 4 / 2 = 2
    const s = roundSpread([
      [1, 3],
      [10, 12],
    ])!;
    expect(s.sd).toBeCloseTo(Math.SQRT2, 12);
    expect(s.df).toBe(2);
    expect(s.mean).toBe(6.5);
    expect(s.relative).toBeCloseTo(Math.SQRT2 / 6.5, 12);
    expect(s.runs).toBe(2);
  });
  it('a level shift between runs is not round-to-round spread', () => {
    expect(roundSpread([[5, 5, 5, 5], [9, 9, 9, 9]])!.sd).toBe(0);
  });
  it('runs with fewer than 2 rounds or a non-finite value add nothing; none usable: undefined', () => {
    expect(roundSpread([[1], [2, Number.NaN]])).toBeUndefined();
    expect(roundSpread([[1], [2, 4]])!.df).toBe(1);
  });
});

describe('power of the ordering + round t test', () => {
  it("no change: the false-alarm share in one direction is below the t test's own 2.5 %", () => {
    const p = roundChecksPower(2, 0, { trials: 40_000 });
    expect(p).toBeGreaterThan(0.015);
    expect(p).toBeLessThan(0.035);
  });
  it('grows with the change, and is the same for the same seed', () => {
    expect(roundChecksPower(2, 3)).toBeLessThan(roundChecksPower(2, 6));
    expect(roundChecksPower(3, 2.5, { seed: 7 })).toBe(roundChecksPower(3, 2.5, { seed: 7 }));
  });
  it('9 in 10 needs about 7 sds at 2 rounds per side, about 3.5 at 3 or 4; the ordering check makes 5 no better than 4', () => {
    const two = detectableEffect(2);
    const three = detectableEffect(3);
    const four = detectableEffect(4);
    expect(two).toBeGreaterThan(6);
    expect(two).toBeLessThan(8);
    expect(three).toBeGreaterThan(3);
    expect(three).toBeLessThan(4.5);
    expect(four).toBeLessThanOrEqual(three);
    expect(detectableEffect(5)).toBeGreaterThanOrEqual(four);
    expect(roundChecksPower(2, two)).toBeGreaterThanOrEqual(0.9);
    expect(roundChecksPower(2, two - 0.1)).toBeLessThan(0.9);
  });
  it('one round per side has no t test to simulate', () => {
    expect(() => roundChecksPower(1, 5)).toThrow(/2 or more rounds per side/);
  });
  it('the predicted MDE is the multiple times the relative spread', () => {
    const p = predictMde({ sd: 5, mean: 100, relative: 0.05, df: 30, runs: 10 }, [2]);
    expect(p).toEqual([{ roundsPerSide: 2, sds: detectableEffect(2), relative: detectableEffect(2) * 0.05 }]);
  });
});

describe('round positions', () => {
  it("each position against its own run's mean, averaged over runs", () => {
    const e = positionEffects([
      [90, 120, 100, 90],
      [45, 60, 50, 45],
    ]);
    expect(e.map((x) => x.position)).toEqual([1, 2, 3, 4]);
    expect(e[0]!.relative).toBeCloseTo(90 / 100 - 1, 12);
    expect(e[1]!.relative).toBeCloseTo(0.2, 12);
    expect(e.every((x) => x.runs === 2)).toBe(true);
  });
  it('runs of another length are left out', () => {
    expect(positionEffects([[1, 1], [1, 2, 3, 4]])[0]!.runs).toBe(1);
  });
});
