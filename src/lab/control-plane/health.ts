// Authenticated readiness checks (client certificate + the lab CA) with a deadline.
import { TIMEOUTS } from '../../timeouts.js';
import { StopWaiting, waitFor, WaitTimeoutError } from '../../wait-for.js';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { CertPair } from '../pki.js';
import type { ProcessRecord } from '../state.js';
import { isRecordedProcessAlive, logTail } from './process.js';

export interface TlsClient {
  ca: string;
  cert?: string;
  key?: string;
}

export async function loadTlsClient(caFile: string, client?: CertPair): Promise<TlsClient> {
  return {
    ca: await readFile(caFile, 'utf8'),
    ...(client ? { cert: await readFile(client.cert, 'utf8'), key: await readFile(client.key, 'utf8') } : {}),
  };
}

export function httpsGet(url: string, tls: TlsClient, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, agent: false, timeout: timeoutMs, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class ComponentError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- last lines of ${logFile} ---\n${logTail}`);
    this.name = 'ComponentError';
  }
}

/** Polls `url` until it answers 200 (and `okBody` if given), the process dies, or the deadline passes. */
export async function waitReady(
  rec: ProcessRecord,
  url: string,
  tls: TlsClient,
  deadlineMs: number,
  okBody?: RegExp,
): Promise<number> {
  const t0 = Date.now();
  let last = 'no answer yet';
  try {
    await waitFor(
      async () => {
        if (!(await isRecordedProcessAlive(rec))) {
          const tail = await logTail(rec.logFile);
          const hint = /address already in use/.test(tail)
            ? ' (a port it needs is in use: see "address already in use" below; stop that process or choose another port)'
            : '';
          throw new StopWaiting(new ComponentError(rec.name, `${rec.name} (pid ${rec.pid}) exited during start-up${hint}`, rec.logFile, tail));
        }
        try {
          const r = await httpsGet(url, tls);
          if (r.status === 200 && (!okBody || okBody.test(r.body))) return true;
          last = `HTTP ${r.status}: ${r.body.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`;
        } catch (e) {
          last = (e as Error).message;
        }
        return undefined;
      },
      { timeout: deadlineMs, interval: TIMEOUTS.labReadyPollMs, what: `${rec.name} ready at ${url}` },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    throw new ComponentError(rec.name, `${rec.name} (pid ${rec.pid}) not ready after ${Math.round(deadlineMs / 1000)} s: ${url} → ${last}`, rec.logFile, await logTail(rec.logFile));
  }
  return Date.now() - t0;
}
