// The loadgen's HTTP control API. The runner drives it through the API server's pods/proxy
// subresource, so every interaction is one small JSON request/response: start a run or
// probe (202 + id), poll it (paged results), cancel it (DELETE).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowEpochNs } from '../clock.js';
import { checkTargets, ConfinementError, confineTo } from '../confine.js';
import { controlAuthProblem, validateControlToken } from '../control-auth.js';
import { LOADGEN_LIMITS } from './limits.js';
import { startProbe } from './probe.js';
import { parseProbeSpec, parseRunSpec, ValidationError } from './request-validation.js';
import { startHttpRun } from './http-run.js';
import { startRequestsRun } from './requests-run.js';
import { RunRegistry, runView } from './run-registry.js';
import { startStreamRun } from './stream-run.js';
import { startUdpRun } from './udp-run.js';

const DEFAULT_PAGE = 10_000;

export interface LoadgenHandle {
  port: number;
  url: string;
  close(): Promise<void>;
}

const ENDPOINTS =
  'GET /healthz, GET /time, POST /runs, GET /runs/:id[?since=K&limit=N], DELETE /runs/:id, POST /probes, GET /probes/:id, DELETE /probes/:id';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    // over the limit: answer 413 now and let the rest of the body drain unread
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > LOADGEN_LIMITS.bodyBytes) reject(new HttpError(413, `request body over ${LOADGEN_LIMITS.bodyBytes} bytes`));
      else parts.push(d);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
      } catch (e) {
        reject(new HttpError(400, `the request body must be JSON: ${(e as Error).message}`));
      }
    });
  });
}

function pageParam(url: URL, name: string, dflt: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > max) throw new HttpError(400, `${name} must be an integer from 0 to ${max} (got "${raw}")`);
  return n;
}

/** The request's JSON body through a validator; a ValidationError becomes a 400. */
async function parseBody<T>(req: http.IncomingMessage, parse: (body: unknown) => T): Promise<T> {
  try {
    return parse(await readJson(req));
  } catch (e) {
    if (e instanceof ValidationError) throw new HttpError(400, e.message);
    throw e;
  }
}

export interface LoadgenOptions {
  port: number;
  host?: string;
  /** the per-fleet secret every request but /healthz must carry (control-auth.ts) */
  token: string;
  /** the only ranges it connects to: the cluster's Service and pod CIDRs (confine.ts) */
  allow: readonly string[];
}

export async function startLoadgen(opts: LoadgenOptions): Promise<LoadgenHandle> {
  const token = validateControlToken(opts.token);
  const confinement = confineTo(opts.allow);
  const confined = (spec: Parameters<typeof checkTargets>[1]): void => {
    try {
      checkTargets(confinement, spec);
    } catch (e) {
      throw e instanceof ConfinementError ? new HttpError(403, e.message) : e;
    }
  };
  const registry = new RunRegistry();
  const { runs, probes } = registry;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://loadgen');
    const denied = controlAuthProblem(req, url.pathname, token);
    if (denied) throw new HttpError(401, denied);
    const method = req.method ?? 'GET';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
    };
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpError(405, `${method} ${url.pathname}: use ${methods.join(' or ')}`);
    };
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (p === '/healthz') {
      allow('GET');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (p === '/time') {
      allow('GET');
      json(200, { epochNs: String(nowEpochNs()) });
    } else if (p === '/runs') {
      allow('POST');
      const spec = await parseBody(req, parseRunSpec);
      confined(spec);
      const running = registry.runningRuns();
      if (running >= LOADGEN_LIMITS.runningRuns) {
        throw new HttpError(429, `${running} runs are running (at most ${LOADGEN_LIMITS.runningRuns}): wait for one or DELETE it`);
      }
      const id = registry.nextRunId();
      const run = spec.mode === 'requests' ? startRequestsRun(id, spec) : spec.mode === 'http' ? startHttpRun(id, spec) : spec.mode === 'udp' ? startUdpRun(id, spec) : startStreamRun(id, spec);
      runs.set(id, run);
      void run.settled.then(() => {
        run.state = 'done';
        run.endedNs = String(nowEpochNs());
        registry.evict();
      });
      json(202, { id });
    } else if ((m = /^\/runs\/([^/]+)$/.exec(p))) {
      allow('GET', 'DELETE');
      const run = runs.get(m[1]!);
      if (!run) throw new HttpError(404, `no run "${m[1]}" (unknown, or evicted: only the last ${LOADGEN_LIMITS.retained} completed runs are kept)`);
      if (method === 'DELETE') {
        if (run.state === 'running') run.stoppedBy ??= 'cancelled';
        run.controller.abort();
        await run.settled;
        // settled's own .then (state done) ran first: it was attached before this await
        const { results: _r, next: _n, ...rest } = runView(run, 0, 0);
        json(200, rest);
      } else {
        const since = pageParam(url, 'since', 0, Number.MAX_SAFE_INTEGER);
        const limit = pageParam(url, 'limit', DEFAULT_PAGE, LOADGEN_LIMITS.pageSize);
        json(200, runView(run, since, limit));
      }
    } else if (p === '/probes') {
      allow('POST');
      const spec = await parseBody(req, parseProbeSpec);
      confined(spec);
      const running = registry.runningProbes();
      if (running >= LOADGEN_LIMITS.runningProbes) {
        throw new HttpError(429, `${running} probes are running (at most ${LOADGEN_LIMITS.runningProbes}): wait for one or DELETE it`);
      }
      const id = registry.nextProbeId();
      probes.set(id, startProbe(id, spec, () => registry.evict()));
      json(202, { id });
    } else if ((m = /^\/probes\/([^/]+)$/.exec(p))) {
      allow('GET', 'DELETE');
      const probe = probes.get(m[1]!);
      if (!probe) throw new HttpError(404, `no probe "${m[1]}" (unknown, or evicted: only the last ${LOADGEN_LIMITS.retained} completed probes are kept)`);
      if (method === 'DELETE') probe.cancel();
      json(200, probe.view);
    } else {
      throw new HttpError(404, `no ${method} ${p}; endpoints: ${ENDPOINTS}`);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (e as Error).message }) + '\n');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    port: addr.port,
    url: `http://${shown}:${addr.port}`,
    close: async () => {
      for (const p of probes.values()) p.cancel();
      for (const r of runs.values()) r.controller.abort();
      await Promise.all([...runs.values()].map((r) => r.settled));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
