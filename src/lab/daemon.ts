// The lab daemon: the long-running process of a lab (`kube-sli lab daemon --state-dir D`,
// started detached by `lab up`, recorded in lab.json). It hosts what must outlive the
// `lab up` call:
//   - the apiserver relays (listeners inside the node/fabric namespaces, see relay.ts):
//     kubelets, kube-proxies and pods reach the API server through them;
//   - the egress proxy (a child in the fabric namespace serving run/egress.sock, which
//     kube-apiserver's egress selector dials for nodes/proxy, pods/proxy, logs, exec,
//     port-forward: the kubelets' port 10250 and the pods' ports).
// Then it writes run/daemon.ready and waits; SIGTERM/SIGINT stop everything and exit 0.
// A SIGKILL leaves nothing running either: the relays are this process's sockets, the
// egress proxy exits on IPC disconnect, and `lab down` kills whatever is left in the
// lab's namespaces.
import { rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { startApiserverRelays, startEgressProxy, planNetwork } from './network/index.js';
import { readLabState, stateLayout } from './state.js';
import { labPaths, type DaemonReady, type OrchestratedState } from './lab.js';
import { untilStopSignal } from '../stop-signal.js';

export interface RunningDaemon {
  ready: DaemonReady;
  stop(): Promise<void>;
}

export async function startDaemon(stateDir: string, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<RunningDaemon> {
  const state: OrchestratedState | undefined = await readLabState(stateDir);
  if (!state?.lab) throw new Error(`no lab recorded in ${stateDir}/lab.json: the daemon is started by kube-sli lab up`);
  const info = state.lab;
  const plan = planNetwork({ labId: info.labId, nodes: info.nodes, ipFamily: info.ipFamily ?? 'ipv4' });
  const port = state.ports.apiserver;
  if (!port) throw new Error(`lab.json in ${stateDir} has no apiserver port`);
  const paths = labPaths(stateDir);
  const layout = stateLayout(stateDir);

  const closers: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch((e: unknown) => log(`stop: ${(e as Error).message}`));
    await rm(paths.daemonReady, { force: true });
  };
  try {
    const relays = await startApiserverRelays(plan, { port });
    closers.push(() => relays.close());
    log(`relays: ${relays.relays.map((r) => `${r.netns} ${r.host}:${r.port}`).join(', ')}`);
    const egress = await startEgressProxy(plan, { socketPath: paths.egressSocket });
    closers.push(() => egress.close());
    log(`egress proxy: pid ${egress.pid} on ${paths.egressSocket}`);
    const ready: DaemonReady = { pid: process.pid, nodes: plan.nodes.map((n) => n.name) };
    const tmp = join(paths.runDir, `.daemon.ready.${process.pid}`);
    await writeFile(tmp, JSON.stringify(ready) + '\n', { mode: 0o600 });
    await rename(tmp, paths.daemonReady);
    log(`ready (logs in ${layout.logs})`);
    return { ready, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** `kube-sli lab daemon`: runs until SIGTERM/SIGINT. */
export async function runDaemon(stateDir: string): Promise<number> {
  const log = (l: string): void => {
    process.stderr.write(`${new Date().toISOString()} lab-daemon: ${l}\n`);
  };
  const d = await startDaemon(stateDir, log);
  await untilStopSignal(
    (sig) => {
      log(`${sig}: stopping`);
      return d.stop();
    },
    (sig) => log(`${sig} again: still stopping`),
  );
  log('stopped');
  return 0;
}
