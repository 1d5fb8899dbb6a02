// SLO: pod network-ready latency at a steady pod arrival rate, and under pod flux (pods
// created and deleted across the nodes at NETREADY_FLUX_RATE per second): the p99 bound,
// the p99's growth under flux, network-ready throughput and pods that never got a network.
// Definition and measurement: measurements/pod-network-ready.ts.
import { expectAllPass, test } from '../fixtures/index.js';
import { judgeFlux, judgePhase, runPhase, type PhaseResult } from '../measurements/pod-network-ready.js';

let steady: PhaseResult | undefined;

// `netready` first: the capacity check, before the namespace and anything in it exists

test.describe('pod network-ready latency', () => {
  test('pods arriving at a steady rate become network-ready', async ({ netready, netreadyProbers, run, namespace, backend, record }) => {
    const w = run.config.workload;
    steady = await runPhase({ run, namespace, backend, nodes: netready.nodes, probers: netreadyProbers }, { phase: 'steady', rate: w.netreadyRate, count: w.netreadyPods });
    expectAllPass(judgePhase(record, run, steady));
  });

  test('under pod flux the p99 holds and the cluster keeps up', async ({ netready, netreadyProbers, run, namespace, backend, record }) => {
    const w = run.config.workload;
    if (!steady) throw new Error('the steady phase did not run: the flux ratio has no reference (run the whole file)');
    const count = Math.max(2, Math.round(w.netreadyFluxRate * w.netreadyFluxSeconds));
    const flux = await runPhase({ run, namespace, backend, nodes: netready.nodes, probers: netreadyProbers }, { phase: 'flux', rate: w.netreadyFluxRate, count });
    expectAllPass([...judgePhase(record, run, flux), ...judgeFlux(record, run, steady, flux)]);
  });
});
