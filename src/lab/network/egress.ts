// The other direction: the apiserver (root namespace) reaching into the lab. The proxy
// subresources the kit reads everything through (pods/proxy, services/proxy,
// nodes/proxy) and logs/exec make the apiserver dial pod IPs and node IPs, which do not
// exist in the root namespace. kube-apiserver has a hook for exactly this: the egress
// selector (--egress-selector-config-file) sends all "cluster" traffic through an HTTP
// CONNECT proxy, reachable over a unix socket. A unix socket lives in the filesystem,
// so it crosses namespaces; this module runs that proxy as a small process inside the
// fabric namespace, from where every node and pod address is routed.
//
// The proxy only opens connections to the lab's own ranges (nodeCidr, clusterCidr) and
// answers 403 to anything else. Its process exits when the process that started it
// goes away (IPC disconnect), so a crash leaves nothing running; destroyAll would kill
// it anyway (it lives in the fabric namespace).
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import type { NetworkPlan } from './plan.js';

export interface EgressProxyOptions {
  /** absolute path of the unix socket the apiserver dials */
  socketPath: string;
  /** CIDRs it may connect to; default the plan's nodeCidr and clusterCidr */
  allow?: string[];
  startTimeoutMs?: number;
}

export interface EgressProxy {
  socketPath: string;
  pid: number;
  /** EgressSelectorConfiguration YAML for kube-apiserver --egress-selector-config-file */
  egressSelectorConfig: string;
  close(): Promise<void>;
}

// Runs inside the fabric namespace. Parameters come as JSON in KSLI_EGRESS, not argv
// (\`node -e SCRIPT -- a b\` drops the "--", so an argv index can silently point at the
// node binary's own path; this once unlinked /usr/bin/node). It only ever unlinks a
// path that is a unix socket.
const WORKER = `
const net = require('node:net');
const fs = require('node:fs');
const { socketPath, allow } = JSON.parse(process.env.KSLI_EGRESS);
const unlinkSocket = () => { try { if (fs.lstatSync(socketPath).isSocket()) fs.unlinkSync(socketPath); } catch {} };
const toNum = (ip) => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
const ranges = allow.map((c) => { const [b, p] = c.split('/'); return [toNum(b), 2 ** (32 - Number(p))]; });
const allowed = (host) => net.isIPv4(host) && ranges.some(([b, n]) => { const x = toNum(host); return x >= b && x < b + n; });
unlinkSocket();
const server = net.createServer((down) => {
  let head = Buffer.alloc(0);
  const onData = (d) => {
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\\r\\n\\r\\n');
    if (end < 0) { if (head.length > 8192) down.destroy(); return; }
    down.off('data', onData);
    down.pause();
    const m = /^CONNECT ([^\\s:]+):(\\d+) HTTP\\/1\\.[01]\\r\\n/.exec(head.toString('latin1'));
    if (!m) { down.end('HTTP/1.1 405 Method Not Allowed\\r\\n\\r\\n'); return; }
    const [, host, port] = m;
    if (!allowed(host)) { down.end('HTTP/1.1 403 Forbidden\\r\\ncontent-type: text/plain\\r\\n\\r\\n' + host + ' is outside the lab\\n'); return; }
    const rest = head.subarray(end + 4);
    const up = net.connect(Number(port), host);
    up.setNoDelay(true); down.setNoDelay(true);
    const drop = () => { up.destroy(); down.destroy(); };
    up.once('connect', () => {
      up.off('error', refuse);
      up.on('error', drop);
      down.write('HTTP/1.1 200 Connection established\\r\\n\\r\\n');
      if (rest.length) up.write(rest);
      down.pipe(up); up.pipe(down); down.resume();
    });
    const refuse = (e) => down.end('HTTP/1.1 502 Bad Gateway\\r\\ncontent-type: text/plain\\r\\n\\r\\n' + e.code + '\\n');
    up.once('error', refuse);
    down.on('error', drop).on('close', () => up.destroy());
  };
  down.on('data', onData);
  down.on('error', () => down.destroy());
});
server.on('error', (e) => { process.send({ error: e.code + ' ' + e.message }, () => process.exit(1)); });
server.listen(socketPath, () => { fs.chmodSync(socketPath, 0o600); process.send({ ready: true }); });
const bye = () => { unlinkSocket(); process.exit(0); };
process.on('disconnect', bye);
process.on('SIGTERM', bye);
`;

export function egressSelectorConfig(socketPath: string): string {
  return [
    'apiVersion: apiserver.k8s.io/v1beta1',
    'kind: EgressSelectorConfiguration',
    'egressSelections:',
    '- name: cluster',
    '  connection:',
    '    proxyProtocol: HTTPConnect',
    '    transport:',
    '      uds:',
    `        udsName: ${socketPath}`,
    '',
  ].join('\n');
}

/** Starts the CONNECT proxy in the plan's fabric namespace, serving `socketPath`. */
export async function startEgressProxy(plan: NetworkPlan, opts: EgressProxyOptions): Promise<EgressProxy> {
  if (!opts.socketPath.startsWith('/')) throw new Error(`egress socketPath must be absolute, got "${opts.socketPath}"`);
  const allow = opts.allow ?? [plan.nodeCidr, plan.clusterCidr];
  const child = spawn(
    'ip',
    ['netns', 'exec', plan.fabric.netns, process.execPath, '-e', WORKER],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, KSLI_EGRESS: JSON.stringify({ socketPath: opts.socketPath, allow }) } },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitReady(child, opts.startTimeoutMs ?? 10_000, () => stderr, plan.fabric.netns);
  let closed: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    pid: child.pid!,
    egressSelectorConfig: egressSelectorConfig(opts.socketPath),
    close: () =>
      (closed ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.disconnect();
          const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(t);
        }
        await removeSocket(opts.socketPath);
      })()),
  };
}

/** Removes the path only when it is a unix socket (never a file someone mistyped). */
async function removeSocket(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await rm(path);
  } catch {
    // gone already
  }
}

function waitReady(child: ChildProcess, timeoutMs: number, stderr: () => string, netns: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`egress proxy in ${netns} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (msg: { ready?: boolean; error?: string }) => {
      clearTimeout(timer);
      if (msg.ready) resolve();
      else reject(new Error(`egress proxy in ${netns} cannot listen: ${msg.error ?? 'unknown'}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`egress proxy in ${netns} exited (${code ?? 'signal'}): ${stderr().trim() || 'no output'}`));
    });
  });
}
