// SLI udp_loss_ratio: of the UDP request/response exchanges the clients sent through a
// Service at UDP_RATE per client, the fraction without a reply within UDP_TIMEOUT_MS
// (ICMP errors count as no reply). UDP has no retransmission of its own: a lost datagram
// is what a DNS client pays a resolver timeout for. Exchanges that never left the client
// (its socket could not bind) are not in the denominator and are reported. When the clients
// fell behind their schedule the load was lower than asked: the verdict is inconclusive,
// never a silent pass.
import { definition, warning } from '../src/report/notes.js';
import type { NoteInput } from '../src/report/types.js';
import type { SloSpec } from '../src/sli/index.js';
import { quantileSorted, sortedCopy } from '../src/sli/index.js';
import { exchangeLost, type UdpExchangeResult } from '../src/workload/loadgen.js';
import type { Judged, Recorder } from '../fixtures/results.js';
import { udpWindowNote, type UdpResult } from './udp-first-packet-latency.js';

/**
 * A generator that keeps up is late by a bounded amount (timer slack, a GC pause) whatever
 * the run's length; one that cannot sustain the rate is later and later, its mean lateness
 * growing with the schedule. Behind: mean lateness above this floor and above this share
 * of the schedule's span (exchanges / rate): the load offered was then below UDP_RATE.
 */
export const BEHIND_FLOOR_SECONDS = 0.05;
export const BEHIND_SHARE_OF_SPAN = 0.1;

export interface UdpLossCount {
  /** exchanges whose request was sent */
  sent: number;
  /** sent without a reply within the timeout */
  lost: number;
  /** never sent (bind failed) */
  unsent: number;
  /** errors other than the timeout, by kind */
  errors: Record<string, number>;
  /** mean, p99 and max of how late requests went out against the schedule, seconds */
  lateMean: number;
  lateP99: number;
  lateMax: number;
}

export function countUdpLoss(client: readonly UdpExchangeResult[]): UdpLossCount {
  let sent = 0;
  let lost = 0;
  let unsent = 0;
  const errors: Record<string, number> = {};
  for (const c of client) {
    if (c.error === 'cancelled') continue;
    if (c.sentNs === undefined) unsent++;
    else {
      sent++;
      if (exchangeLost(c)) lost++;
    }
    if (c.error !== undefined && c.error !== 'timeout') errors[c.error] = (errors[c.error] ?? 0) + 1;
  }
  const late = sortedCopy(client.map((c) => c.lateSeconds));
  const lateMean = late.length ? late.reduce((a, b) => a + b, 0) / late.length : 0;
  return { sent, lost, unsent, errors, lateMean, lateP99: late.length ? quantileSorted(late, 0.99) : 0, lateMax: late.length ? late[late.length - 1]! : 0 };
}

/** lost / sent as one sample (none when nothing was sent). */
export function udpLossSamples(c: UdpLossCount): number[] {
  return c.sent > 0 ? [c.lost / c.sent] : [];
}

/** Why the count cannot judge loss under the asked load, if it cannot. */
export function behindSchedule(c: UdpLossCount, rate: number, exchanges: number): string | undefined {
  const bound = Math.max(BEHIND_FLOOR_SECONDS, (BEHIND_SHARE_OF_SPAN * exchanges) / rate);
  if (c.lateMean <= bound) return undefined;
  const ms = (x: number): string => (x * 1000).toFixed(1);
  return `the clients fell behind their schedule of ${rate} exchanges/s (requests left ${ms(c.lateMean)} ms late on average, p99 ${ms(c.lateP99)} ms, max ${ms(c.lateMax)} ms; bound ${ms(bound)} ms): the load was lower than UDP_RATE`;
}

export function judgeUdpLoss(record: Recorder, slo: SloSpec, m: UdpResult, o: { rate: number; timeoutMs: number; exchanges: number }): Judged {
  const c = countUdpLoss(m.client);
  const errs = Object.entries(c.errors).map(([k, n]) => `${k} × ${n}`).join(', ');
  const notes: NoteInput[] = [
    (c.lost > 0 ? warning : definition)(`${c.lost} of ${c.sent} exchanges had no reply within ${o.timeoutMs} ms${errs ? ` (errors: ${errs})` : ''}`),
    definition(`requests left ${(c.lateMean * 1000).toFixed(2)} ms after their schedule on average, p99 ${(c.lateP99 * 1000).toFixed(2)} ms, max ${(c.lateMax * 1000).toFixed(2)} ms (${o.rate}/s per client)`),
    udpWindowNote(m),
  ];
  if (c.lost > 0 && m.lostButRepliedAtBoundary !== undefined) {
    notes.push(
      definition(
        `the boundary capture saw the reply of ${m.lostButRepliedAtBoundary} of the ${c.lost} lost exchanges leave the node toward the client${m.lostButRepliedAtBoundary > 0 ? ': those replies reached the client\'s node and were read too late (or not at all) by the client' : ''}`,
      ),
    );
  }
  if (c.unsent > 0) notes.push(warning(`${c.unsent} exchanges were never sent (the client could not bind a source port)`));
  const behind = behindSchedule(c, o.rate, o.exchanges);
  return record.judge(slo, { source: 'client', samples: udpLossSamples(c), notes, ...(behind ? { invalid: behind } : {}) });
}
