import { describe, expect, test } from 'vitest';
import { ConfigError, loadRunConfig, netreadyPeakPods } from '../../../src/config/knobs.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadRunConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('network-ready knobs', () => {
  test('defaults, and fractional rates', () => {
    const c = loadRunConfig({ NETREADY_RATE: '0.5', NETREADY_FLUX_RATE: '2.5' });
    expect(c.workload).toMatchObject({ netreadyPods: 20, netreadyRate: 0.5, netreadyFluxRate: 2.5, netreadyFluxSeconds: 20 });
    expect(c.sources['workload.netreadyFluxRate']).toBe('env NETREADY_FLUX_RATE');
  });

  test('a flux rate that is no rate, or beyond what one machine hosts, names the knob', () => {
    expect(problems({ NETREADY_FLUX_RATE: 'fast' })).toEqual([expect.stringMatching(/^env NETREADY_FLUX_RATE="fast": must be a number of pods per second in \(0, 20\]/)]);
    expect(problems({ NETREADY_FLUX_RATE: '500' })[0]).toMatch(/NETREADY_FLUX_RATE="500"/);
    expect(problems({ NETREADY_RATE: '0' })[0]).toMatch(/NETREADY_RATE="0"/);
  });

  test('too few pods for the SLO, or a flux of one pod, is refused before the run', () => {
    expect(problems({ NETREADY_PODS: '5' })[0]).toMatch(/NETREADY_PODS 5 is below the 10 samples pod_network_ready_latency_seconds needs/);
    expect(problems({ NETREADY_FLUX_RATE: '0.1', NETREADY_FLUX_SECONDS: '10' })[0]).toMatch(/creates fewer than 2 pods/);
  });

  test('the flux keeps 10 s of arrivals alive at most', () => {
    expect(netreadyPeakPods(2)).toBe(20);
    expect(netreadyPeakPods(0.5)).toBe(5);
  });
});
