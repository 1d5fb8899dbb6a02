// The network-ready suite's pod: plain JavaScript run by `node` itself (no TypeScript
// loader), so it is up within tens of milliseconds of the container's start and the
// latency it helps measure is the network's, not this program's start-up.
//   node netready-pod.mjs <port>     listens on <port> (accepts and closes), and with
//   KUBE_SLI_EGRESS_PROBE=<host>:<port> connects to that Service VIP every 10 ms
//   (overlapping attempts, each bounded by 250 ms, so a dropped SYN does not blind it for
//   the kernel's 1 s retransmission) until one completes.
// Each event is one JSON line on stdout, the runner reads them from the pod's log:
//   {"egress":{"target","firstAttemptNs","firstSuccessNs","attempts"}}  {"listening":port,"epochNs"}
// Instants are epoch ns on this node's clock (Date.now() once, then hrtime), as
// src/workload/clock.ts does for the loadgen.
import net from 'node:net';

const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const now = () => base + process.hrtime.bigint();
const INTERVAL_MS = 10;
const CONNECT_TIMEOUT_MS = 250;
const GIVE_UP_MS = 10 * 60_000;
const MAX_IN_FLIGHT = 64;

export function egressProbe(target, onSuccess) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!m) throw new Error(`KUBE_SLI_EGRESS_PROBE=${JSON.stringify(target)}: give host:port, e.g. 10.96.0.10:80`);
  const [, host, port] = m;
  const firstAttemptNs = now();
  let attempts = 0;
  let done = false;
  const inFlight = new Set();
  const stop = () => {
    done = true;
    clearInterval(ticker);
    clearTimeout(giveUp);
    for (const s of inFlight) s.destroy();
  };
  const attempt = () => {
    if (done || inFlight.size >= MAX_IN_FLIGHT) return;
    attempts++;
    const sock = net.connect({ host, port: Number(port) });
    inFlight.add(sock);
    const timer = setTimeout(() => sock.destroy(), CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      const at = now();
      if (!done) {
        stop();
        onSuccess({ target, firstAttemptNs: String(firstAttemptNs), firstSuccessNs: String(at), attempts });
      }
      sock.destroy();
    });
    sock.once('error', () => undefined);
    sock.once('close', () => {
      clearTimeout(timer);
      inFlight.delete(sock);
    });
  };
  const ticker = setInterval(attempt, INTERVAL_MS);
  const giveUp = setTimeout(stop, GIVE_UP_MS);
  attempt();
  return stop;
}

function main() {
  const port = Number(process.argv[2] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port "${process.argv[2]}": give a TCP port 0-65535`);
    process.exit(2);
  }
  const target = process.env.KUBE_SLI_EGRESS_PROBE;
  // before the listener: egress readiness must not wait for anything of this program's own
  if (target) egressProbe(target, (r) => console.log(JSON.stringify({ egress: r })));
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.end();
  });
  server.listen({ port, host: '::', ipv6Only: false }, () => {
    const a = server.address();
    console.log(JSON.stringify({ listening: typeof a === 'object' && a ? a.port : port, epochNs: String(now()) }));
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
