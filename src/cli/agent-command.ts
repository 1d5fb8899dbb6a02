// `kube-sli agent`: the node agent as a long-running process.
import { parseArgs } from 'node:util';
import { AgentConfigError, startAgent } from '../agent/agent.js';
import { CidrError } from '../net/cidr.js';
import { EXIT, UsageError } from './exit-codes.js';
import { untilStopSignal } from '../stop-signal.js';

export const AGENT_USAGE = `usage: kube-sli agent --service-cidr <cidr> [--service-cidr <cidr> ...] [options]

Observes Service connections in one network namespace with packet capture (tcpdump) and
conntrack events, and serves what it saw:
  /metrics           Prometheus histograms and loss counters
  /flows?since=<n>   exact flow records as JSON lines (header x-kube-sli-next: next cursor)
  /status            collector state, loss report, mergeable histograms
  /healthz           200 while both collectors run
  /kube-proxy/metrics  kube-proxy's own /metrics, relayed (502 with the reason if unreachable)

options:
  --netns <name>          observe this network namespace (default: the agent's own)
  --service-cidr <cidr>   Service IP range(s) to watch (repeatable; required)
  --listen <host:port>    where to serve (default 127.0.0.1:9464)
  --iface <name>          capture interface (default any)
  --mode <mode>           records: keep flow records for /flows; histogram: only
                          histograms (flat memory) (default records)
  --no-capture, --no-conntrack  disable one collector
  --conntrack-buffer <bytes>  netlink receive buffer (default 67108864)
  --conntrack-reader <reader>  auto, kube-sli-ct-events or conntrack: the event reader
                          (default auto: kube-sli-ct-events, which filters the Service
                          CIDRs in the kernel, when it can be found or built; else conntrack -E)
  --kube-proxy-metrics <url>  kube-proxy metrics to relay on /kube-proxy/metrics
                          (default http://127.0.0.1:10249/metrics)
  -h, --help              this text

exit codes: 0 stopped by a signal, 2 invalid arguments, 3 the agent could not start (tool
missing, no permission, port in use)`;

export async function agentCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        netns: { type: 'string' },
        'service-cidr': { type: 'string', multiple: true },
        listen: { type: 'string', default: '127.0.0.1:9464' },
        iface: { type: 'string', default: 'any' },
        mode: { type: 'string', default: 'records' },
        'no-capture': { type: 'boolean', default: false },
        'no-conntrack': { type: 'boolean', default: false },
        'conntrack-buffer': { type: 'string' },
        'conntrack-reader': { type: 'string', default: 'auto' },
        'kube-proxy-metrics': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${AGENT_USAGE}`);
  }
  if (values.help) {
    console.log(AGENT_USAGE);
    return EXIT.ok;
  }
  const listen = /^\[?([^\]]*?)\]?:(\d+)$/.exec(values.listen);
  if (!listen) throw new UsageError(`--listen "${values.listen}" must be <host:port>, e.g. 127.0.0.1:9464`);
  if (values.mode !== 'records' && values.mode !== 'histogram') {
    throw new UsageError(`--mode "${values.mode}" must be records or histogram`);
  }
  const buf = values['conntrack-buffer'];
  if (buf !== undefined && !/^\d+$/.test(buf)) throw new UsageError(`--conntrack-buffer "${buf}" must be a byte count`);
  const reader = values['conntrack-reader'];
  if (reader !== 'auto' && reader !== 'kube-sli-ct-events' && reader !== 'conntrack') {
    throw new UsageError(`--conntrack-reader "${reader}" must be auto, kube-sli-ct-events or conntrack`);
  }

  let agent;
  try {
    agent = await startAgent({
      netns: values.netns,
      serviceCidrs: values['service-cidr'] ?? [],
      captureIface: values.iface,
      capture: !values['no-capture'],
      conntrack: !values['no-conntrack'],
      conntrackBufferBytes: buf === undefined ? undefined : Number(buf),
      conntrackReader: reader,
      listenHost: listen[1] || '127.0.0.1',
      listenPort: Number(listen[2]),
      mode: values.mode,
      kubeProxyMetricsUrl: values['kube-proxy-metrics'],
    });
  } catch (e) {
    if (e instanceof AgentConfigError || e instanceof CidrError) throw new UsageError(e.message);
    throw e;
  }
  console.log(JSON.stringify({ listening: agent.url }));
  await untilStopSignal(
    (sig) => {
      process.stderr.write(`kube-sli agent: ${sig}, stopping collectors\n`);
      return agent.stop();
    },
    (sig) => process.stderr.write(`kube-sli agent: ${sig} again, still stopping collectors\n`),
  );
  return EXIT.ok;
}
