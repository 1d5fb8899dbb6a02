import { describe, expect, it } from 'vitest';
import { scaledTimeouts, timeoutFactor, TimeoutFactorError, TIMEOUTS } from '../../src/timeouts.js';
import { ConfigError, loadRunConfig } from '../../src/config/knobs.js';

describe('timeouts', () => {
  it('SLI_TIMEOUT_FACTOR scales deadlines, not polling intervals', () => {
    const t = scaledTimeouts(timeoutFactor({ SLI_TIMEOUT_FACTOR: '2.5' }));
    expect(t.factor).toBe(2.5);
    expect(t.podsReadyMs).toBe(TIMEOUTS.podsReadyMs * 2.5);
    expect(t.pollMs).toBe(TIMEOUTS.pollMs);
  });

  it('defaults to 1', () => {
    expect(timeoutFactor({})).toBe(1);
  });

  it.each(['0', '-1', 'slow', 'Infinity', '1000'])('rejects SLI_TIMEOUT_FACTOR=%s with the fix', (raw) => {
    expect(() => timeoutFactor({ SLI_TIMEOUT_FACTOR: raw })).toThrow(TimeoutFactorError);
    expect(() => timeoutFactor({ SLI_TIMEOUT_FACTOR: raw })).toThrow(/SLI_TIMEOUT_FACTOR.*e\.g\. 2/);
  });

  it('the run configuration reports a bad factor before anything runs', () => {
    expect(() => loadRunConfig({ SLI_TIMEOUT_FACTOR: 'x' })).toThrow(ConfigError);
  });

  it('has no unused scale-point deadline', () => {
    expect(Object.keys(TIMEOUTS)).not.toContain('scalePointProgrammedMs');
  });
});
