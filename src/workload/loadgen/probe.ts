// Probes: how long until a TCP handshake to host:port first succeeds (e.g. a new Service's
// VIP once the dataplane programmed it). Attempts start every intervalMs and overlap, each
// bounded by connectTimeoutMs, until one connects, timeoutMs passes or a DELETE cancels.
import net from 'node:net';
import { epochNsAt, nowEpochNs } from '../clock.js';
import { atHrtime } from './timing.js';
import type { Probe, ProbeSpec, ProbeState, ProbeView } from './types.js';

// a probe against a black hole would otherwise pile up connectTimeoutMs/intervalMs SYNs
const PROBE_MAX_IN_FLIGHT = 64;

export function startProbe(id: string, spec: ProbeSpec, onDone: () => void): Probe {
  const t0 = process.hrtime.bigint();
  const view: ProbeView = { id, ...spec, state: 'running', startedNs: String(epochNsAt(t0)), attempts: 0 };
  const inFlight = new Set<net.Socket>();
  const finish = (state: ProbeState): void => {
    if (view.state !== 'running') return;
    view.state = state;
    view.endedNs = String(nowEpochNs());
    clearInterval(ticker);
    deadline.clear();
    for (const s of inFlight) s.destroy();
    onDone();
  };
  // Attempts overlap (a new one every intervalMs, each bounded by connectTimeoutMs), so a
  // SYN lost to a black hole does not blind the probe for a whole connect timeout.
  const attempt = (): void => {
    if (view.state !== 'running' || inFlight.size >= PROBE_MAX_IN_FLIGHT) return;
    view.attempts++;
    const a0 = process.hrtime.bigint();
    view.firstAttemptNs ??= String(epochNsAt(a0));
    const sock = net.connect({ host: spec.host, port: spec.port });
    inFlight.add(sock);
    const timer = setTimeout(() => sock.destroy(new Error(`connect timed out after ${spec.connectTimeoutMs} ms`)), spec.connectTimeoutMs);
    sock.once('connect', () => {
      const t = process.hrtime.bigint();
      if (view.state === 'running') {
        view.firstSuccessNs = String(epochNsAt(t));
        view.connectSeconds = Number(t - a0) / 1e9;
        finish('succeeded');
      }
      sock.destroy();
    });
    sock.once('error', (e) => {
      if (view.state === 'running') view.lastError = e.message;
    });
    sock.once('close', () => {
      clearTimeout(timer);
      inFlight.delete(sock);
    });
  };
  const ticker = setInterval(attempt, spec.intervalMs);
  const deadline = atHrtime(t0 + BigInt(spec.timeoutMs) * 1_000_000n, () => finish('timedout'));
  attempt();
  return { view, cancel: () => finish('cancelled') };
}
