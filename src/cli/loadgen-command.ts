// `kube-sli loadgen`: the in-cluster load generator / prober as a long-running process.
import { parseArgs } from 'node:util';
import { CidrError } from '../net/cidr.js';
import { CONFINE_ENV, ConfinementError, confineTo } from '../workload/confine.js';
import { CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER, ControlAuthError, validateControlToken } from '../workload/control-auth.js';
import { startLoadgen } from '../workload/loadgen.js';
import { EXIT, UsageError } from './exit-codes.js';
import { untilStopSignal } from '../stop-signal.js';

export const LOADGEN_USAGE = `usage: kube-sli loadgen --allow-cidr <cidr> [--allow-cidr <cidr> ...] [--listen <host:port>]

Runs in a client pod and makes connections on request, driven over HTTP (through the API
server's pods/proxy) with a JSON API:
  GET  /healthz, GET /time            liveness; wall clock in epoch ns (clock offset)
  POST /runs                          start a run: {"mode":"requests",...} or {"mode":"stream",...}
  GET  /runs/<id>?since=<k>&limit=<n> state, summary and a page of results; DELETE cancels
  POST /probes                        TCP-connect until a handshake completes or timeoutMs passes
  GET  /probes/<id>                   state, firstSuccessNs, attempts; DELETE cancels

Every request but /healthz must carry the header ${CONTROL_TOKEN_HEADER}: <token>, the secret
in the environment variable ${CONTROL_TOKEN_ENV} (required; the runner sets it). Runs and
probes connect only to IP addresses inside the allowed CIDRs (the cluster's Service and pod
CIDRs); other targets are refused with 403.

options:
  --allow-cidr <cidr>    a range it may connect to (repeatable; default: ${CONFINE_ENV}=<cidr>,<cidr>)
  --listen <host:port>   where to serve (default 0.0.0.0:8090)
  -h, --help             this text

exit codes: 0 stopped by a signal, 2 invalid arguments or no token, 3 other errors`;

export async function loadgenCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string', default: '0.0.0.0:8090' },
        'allow-cidr': { type: 'string', multiple: true },
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
    throw new UsageError(`--listen "${values.listen}" must be <host:port> with a port 0-65535, e.g. 0.0.0.0:8090`);
  }
  const allow = values['allow-cidr'] ?? (process.env[CONFINE_ENV] ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  let token: string;
  try {
    token = validateControlToken(process.env[CONTROL_TOKEN_ENV]);
    confineTo(allow);
  } catch (e) {
    if (e instanceof ControlAuthError || e instanceof ConfinementError || e instanceof CidrError) throw new UsageError(e.message);
    throw e;
  }
  let loadgen;
  try {
    loadgen = await startLoadgen({ host: listen[1] || '0.0.0.0', port, token, allow });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`listen port ${port} is in use: pick another with --listen <host:port>`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new UsageError(`--listen host "${listen[1]}" is not an address of this machine`);
    }
    throw e;
  }
  console.log(JSON.stringify({ listening: loadgen.url }));
  await untilStopSignal(
    (sig) => {
      process.stderr.write(`kube-sli loadgen: ${sig}, stopping\n`);
      return loadgen.close();
    },
    (sig) => process.stderr.write(`kube-sli loadgen: ${sig} again, still stopping\n`),
  );
  return EXIT.ok;
}
