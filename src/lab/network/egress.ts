// The other direction: the apiserver (root namespace) reaching into the lab. The proxy
// subresources the kit reads everything through (pods/proxy, services/proxy,
// nodes/proxy) and logs/exec make the apiserver dial pod IPs and node IPs, which do not
// exist in the root namespace. kube-apiserver has a hook for exactly this: the egress
// selector (--egress-selector-config-file) sends all "cluster" traffic through an HTTP
// CONNECT proxy, reachable over a unix socket. A unix socket lives in the filesystem,
// so it crosses namespaces; this module runs that proxy as a small process inside the
// fabric namespace, from where every node and pod address is routed.
//
// The proxy (egress-proxy-main.ts) only opens connections to the lab's own ranges
// (nodeCidr, clusterCidr) and answers 403 to anything else. Its process exits when the
// process that started it goes away (IPC disconnect), so a crash leaves nothing running;
// destroyAll would kill it anyway (it lives in the fabric namespace).
import type { ChildProcess } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import { parseCidr } from '../../net/cidr.js';
import { EGRESS_CONFIG_ENV, type EgressProxyConfig, type EgressProxyMessage } from './egress-proxy-main.js';
import { spawnNetnsProgram } from './netns-program.js';
import type { NetworkPlan } from './plan.js';

export interface EgressProxyOptions {
  /** absolute path of the unix socket the apiserver dials */
  socketPath: string;
  /** CIDRs it may connect to; default the plan's node and cluster ranges (every family) */
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
  const allow = opts.allow ?? [...plan.nodeCidrs, ...plan.clusterCidrs];
  for (const c of allow) parseCidr(c); // a CidrError names the bad range before anything starts
  const config: EgressProxyConfig = { socketPath: opts.socketPath, allow };
  const child = spawnNetnsProgram(plan.fabric.netns, new URL('./egress-proxy-main.ts', import.meta.url), EGRESS_CONFIG_ENV, config);
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
    child.once('message', (msg: EgressProxyMessage) => {
      clearTimeout(timer);
      if ('ready' in msg) resolve();
      else reject(new Error(`egress proxy in ${netns} cannot listen: ${msg.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`egress proxy in ${netns} exited (${code ?? 'signal'}): ${stderr().trim() || 'no output'}`));
    });
  });
}
