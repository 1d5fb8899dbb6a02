// `kube-sli loadgen`: the in-cluster load generator / prober as a long-running process.
import { parseArgs } from 'node:util';
import { startLoadgen } from '../workload/loadgen.js';
import { EXIT, UsageError } from './exit-codes.js';

export const LOADGEN_USAGE = `usage: kube-sli loadgen [--listen HOST:PORT]

Runs in a client pod and makes connections on request, driven over HTTP (through the API
server's pods/proxy) with a JSON API:
  GET  /healthz, GET /time            liveness; wall clock in epoch ns (clock offset)
  POST /runs                          start a run: {"mode":"requests",...} or {"mode":"stream",...}
  GET  /runs/:id?since=K&limit=N      state, summary and a page of results; DELETE cancels
  POST /probes                        TCP-connect until a handshake completes or timeoutMs passes
  GET  /probes/:id                    state, firstSuccessNs, attempts; DELETE cancels

options:
  --listen HOST:PORT   where to serve (default 0.0.0.0:8090)`;

export async function loadgenCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string', default: '0.0.0.0:8090' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${LOADGEN_USAGE}`);
  }
  if (values.help) {
    console.log(LOADGEN_USAGE);
    return EXIT.ok;
  }
  const listen = /^\[?([^\]]*?)\]?:(\d+)$/.exec(values.listen);
  const port = listen ? Number(listen[2]) : NaN;
  if (!listen || port > 65535) {
    throw new UsageError(`--listen "${values.listen}" must be HOST:PORT with a port 0-65535, e.g. 0.0.0.0:8090`);
  }
  let loadgen;
  try {
    loadgen = await startLoadgen({ host: listen[1] || '0.0.0.0', port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`listen port ${port} is in use: pick another with --listen HOST:PORT`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new UsageError(`--listen host "${listen[1]}" is not an address of this machine`);
    }
    throw e;
  }
  console.log(JSON.stringify({ listening: loadgen.url }));
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      process.stderr.write(`kube-sli loadgen: ${sig}, stopping\n`);
      void loadgen.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return EXIT.ok;
}
