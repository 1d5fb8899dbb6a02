// `kube-sli lab up|down|status|kubeconfig|daemon`: the embedded lab.
// stdout carries only results (the kubeconfig path for up/kubeconfig, the status); progress
// and errors go to stderr. Arguments are validated before anything is touched.
import { parseArgs } from 'node:util';
import { PROXY_MODES, isProxyMode } from '../lab/kube-proxy.js';
import { LabError, labDown, labDownAll, labKubeconfig, labList, labStatus, labUp } from '../lab/lab.js';
import { IP_FAMILIES, MAX_NODES, isIpFamily, type IpFamily } from '../lab/network/plan.js';
import { MAX_HOLLOW_NODES } from '../lab/hollow.js';
import { defaultStateDir } from '../lab/state.js';
import { findBinaries } from '../lab/binaries.js';
import { ensureLabImages } from '../lab/images/build.js';
import { EXIT, UsageError } from './exit-codes.js';
import { KubeProxyChoiceError, resolveKubeProxy } from '../lab/kube-proxy-choice.js';
import { KubeProxyBuildError } from '../lab/kube-proxy-build.js';
import { isFlagArg } from '../lab/kube-proxy-version.js';

export const LAB_USAGE = `usage: kube-sli lab <subcommand> [options]

The embedded lab: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler on
127.0.0.1; nodes as network namespaces, each a real node: a kubelet with its own containerd
(runc) and CNI plugins, and a real kube-proxy. Images are built locally (never pulled).
Needs Linux and root.

subcommands:
  up          start a lab; prints the admin kubeconfig path (only that) on stdout
  down        remove everything the lab made (also after a crash); idempotent
              --all: every lab on this machine (see list)
  status      processes, namespaces and nodes of the lab (--json for JSON)
  list        every lab on this machine, wherever its state dir (--json for JSON)
  images      build (or find in the cache) the images every lab node holds; prints them
  kubeconfig  print the admin kubeconfig path again
  daemon      (internal) the lab's long-running process, started by "lab up"

options:
  --state-dir <dir>        lab state (default $KUBE_SLI_LAB_DIR, else /var/lib/kube-sli/lab as root)
  up:
  --nodes <n>              nodes (network namespaces), 1-${MAX_NODES} (default 2)
  --proxy-mode <mode>      kube-proxy mode: ${PROXY_MODES.join(' or ')} (default nftables)
  --ip-family <family>     ${IP_FAMILIES.join(', ')} (default ipv4); dual: IPv4 primary, IPv6 secondary
                           (IPv6 ranges: nodes fd00:10:200::/64, pods fd00:10:244::/56, Services fd00:10:96::/112)
  --lab-id <id>            1-8 lowercase letters/digits in every namespace name (default: from the state dir)
  --ports <name>=<port>,...  loopback ports: apiserver, etcdClient, etcdPeer, controllerManager, scheduler
                           (defaults 6443, 42379, 42380, 10257, 10259)
  --cni-bin-dir <dir>      CNI plugin binaries (default /usr/lib/cni)
  --cni-conf-dir <dir>     your CNI configuration instead of the lab's (ptp + host-local per node):
                           run the suites against your own plugin
  --kubelet-arg <flag>     an extra kubelet flag, e.g. --kubelet-arg=--max-pods=250 (repeatable)
  --hollow-nodes <n>       add n kubemark hollow nodes (0-${MAX_HOLLOW_NODES}, default 0): real kubelet code
                           with a fake runtime, Nodes labelled and tainted kube-sli.io/hollow-node=true;
                           refused before anything is made when memory cannot hold them
  --kube-proxy <path|vX.Y.Z>  the kube-proxy every node runs: a binary you built (e.g. from your
                           PR branch), or a release built from the Go module proxy and cached in
                           ~/.cache/kube-sli/bin/kube-proxy-vX.Y.Z (v1.27 or newer; a cold build
                           takes minutes). Default: the lab's own (v1.34.4)
  --kube-proxy-arg <flag>  a kube-proxy flag (repeatable). Feature gates:
                           --kube-proxy-arg=--feature-gates=MinimizeIPTablesRestore=false (they go
                           into the config file). Flags that set other config fields are refused:
                           kube-proxy ignores them next to --config
  status:
  --json                   machine-readable
  -h, --help               this text (also: kube-sli lab <subcommand> --help)

exit codes: 0 done, 2 invalid arguments, 3 the lab failed (status: not cleanly up or down)`;

const PORT_NAMES = ['apiserver', 'etcdClient', 'etcdPeer', 'controllerManager', 'scheduler'] as const;

export interface LabArgs {
  sub: 'up' | 'down' | 'status' | 'list' | 'images' | 'kubeconfig' | 'daemon' | 'help';
  stateDir: string;
  nodes: number;
  proxyMode: 'iptables' | 'nftables';
  ipFamily: IpFamily;
  labId?: string;
  ports: Partial<Record<(typeof PORT_NAMES)[number], number>>;
  json: boolean;
  all: boolean;
  cniBinDir?: string;
  cniConfDir?: string;
  kubeletArgs: string[];
  hollowNodes: number;
  kubeProxy?: string;
  kubeProxyArgs: string[];
}

/** Parses and validates; throws UsageError (exit 2) before anything is touched. */
export function parseLabArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LabArgs {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw new UsageError(`missing subcommand\n\n${LAB_USAGE}`);
    return { sub: 'help', stateDir: '', nodes: 2, proxyMode: 'nftables', ipFamily: 'ipv4', ports: {}, json: false, all: false, kubeletArgs: [], hollowNodes: 0, kubeProxyArgs: [] };
  }
  if (!['up', 'down', 'status', 'list', 'images', 'kubeconfig', 'daemon'].includes(sub)) {
    throw new UsageError(`unknown subcommand "${sub}"; use up, down, status, list, images or kubeconfig\n\n${LAB_USAGE}`);
  }
  const upOnly = {
    nodes: { type: 'string' },
    'proxy-mode': { type: 'string' },
    'ip-family': { type: 'string' },
    'lab-id': { type: 'string' },
    ports: { type: 'string' },
    'cni-bin-dir': { type: 'string' },
    'cni-conf-dir': { type: 'string' },
    'kubelet-arg': { type: 'string', multiple: true },
    'hollow-nodes': { type: 'string' },
    'kube-proxy': { type: 'string' },
    'kube-proxy-arg': { type: 'string', multiple: true },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        'state-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(sub === 'up' ? upOnly : {}),
        ...(sub === 'status' || sub === 'list' ? { json: { type: 'boolean' } } : {}),
        ...(sub === 'down' ? { all: { type: 'boolean' } } : {}),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${LAB_USAGE}`);
  }
  const v = values as Record<string, string | boolean | string[] | undefined>;
  const kubeletArgs = Array.isArray(v['kubelet-arg']) ? v['kubelet-arg'] : [];
  for (const k of kubeletArgs) if (!/^--[a-z0-9-]+(=.*)?$/.test(k)) throw new UsageError(`--kubelet-arg "${k}" must be one kubelet flag, e.g. --kubelet-arg=--max-pods=250`);
  const kubeProxyArgs = Array.isArray(v['kube-proxy-arg']) ? v['kube-proxy-arg'] : [];
  for (const k of kubeProxyArgs) if (!isFlagArg(k)) throw new UsageError(`--kube-proxy-arg "${k}" must be one kube-proxy flag, e.g. --kube-proxy-arg=--feature-gates=MinimizeIPTablesRestore=false`);
  if (v['kube-proxy'] === '') throw new UsageError('--kube-proxy must not be empty: give a kube-proxy binary or a release version like v1.27.16, or leave the option out');
  if (v.help) return { sub: 'help', stateDir: '', nodes: 2, proxyMode: 'nftables', ports: {}, json: false, all: false, kubeletArgs: [], kubeProxyArgs: [], ipFamily: 'ipv4', hollowNodes: 0 };
  const stateDir = typeof v['state-dir'] === 'string' ? v['state-dir'] : defaultStateDir(env);
  if (stateDir === '') throw new UsageError('--state-dir must not be empty');

  const mode = v['proxy-mode'] ?? 'nftables';
  if (!isProxyMode(mode)) {
    throw new UsageError(`--proxy-mode "${String(mode)}" is not a kube-proxy mode the lab runs; choose ${PROXY_MODES.join(' or ')}`);
  }
  const ipFamily = v['ip-family'] ?? 'ipv4';
  if (!isIpFamily(ipFamily)) {
    throw new UsageError(`--ip-family "${String(ipFamily)}" is not an IP family the lab runs; choose ${IP_FAMILIES.join(', ')} (dual: both, IPv4 primary)`);
  }
  const nodesText = typeof v.nodes === 'string' ? v.nodes : '2';
  const nodes = /^\d+$/.test(nodesText) ? Number(nodesText) : NaN;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new UsageError(`--nodes "${nodesText}" must be a whole number from 1 to ${MAX_NODES}`);
  }
  const hollowText = typeof v['hollow-nodes'] === 'string' ? v['hollow-nodes'] : '0';
  const hollowNodes = /^\d+$/.test(hollowText) ? Number(hollowText) : NaN;
  if (!Number.isInteger(hollowNodes) || hollowNodes > MAX_HOLLOW_NODES) {
    throw new UsageError(`--hollow-nodes "${hollowText}" must be a whole number from 0 to ${MAX_HOLLOW_NODES}`);
  }
  const labId = typeof v['lab-id'] === 'string' ? v['lab-id'] : undefined;
  if (labId !== undefined && !/^[a-z0-9]{1,8}$/.test(labId)) {
    throw new UsageError(`--lab-id "${labId}" must be 1-8 lowercase letters or digits, e.g. a1`);
  }
  const ports: LabArgs['ports'] = {};
  if (typeof v.ports === 'string') {
    for (const item of v.ports.split(',').filter((s) => s !== '')) {
      const m = /^([A-Za-z]+)=(\d+)$/.exec(item);
      const name = m?.[1] as (typeof PORT_NAMES)[number] | undefined;
      if (!m || !name || !PORT_NAMES.includes(name)) {
        throw new UsageError(`--ports item "${item}" must be <name>=<port> with <name> one of ${PORT_NAMES.join(', ')}`);
      }
      const port = Number(m[2]);
      if (port < 1 || port > 65535) throw new UsageError(`--ports ${name}=${m[2]}: a port is 1-65535`);
      ports[name] = port;
    }
  }
  for (const opt of ['cni-bin-dir', 'cni-conf-dir'] as const) {
    if (v[opt] === '') throw new UsageError(`--${opt} must not be empty: give a directory, or leave the option out`);
  }
  return {
    sub: sub as LabArgs['sub'],
    stateDir,
    nodes,
    proxyMode: mode,
    ipFamily,
    ...(labId ? { labId } : {}),
    ports,
    json: v.json === true,
    all: v.all === true,
    ...(typeof v['cni-bin-dir'] === 'string' ? { cniBinDir: v['cni-bin-dir'] } : {}),
    ...(typeof v['cni-conf-dir'] === 'string' ? { cniConfDir: v['cni-conf-dir'] } : {}),
    kubeletArgs,
    hollowNodes,
    ...(typeof v['kube-proxy'] === 'string' ? { kubeProxy: v['kube-proxy'] } : {}),
    kubeProxyArgs,
  };
}

export async function labCommand(argv: string[]): Promise<number> {
  const a = parseLabArgs(argv);
  const err = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  try {
    switch (a.sub) {
      case 'help':
        console.log(LAB_USAGE);
        return EXIT.ok;
      case 'up': {
        // which kube-proxy, checked (and built) before anything of the lab exists
        let kubeProxy;
        try {
          kubeProxy =
            a.kubeProxy !== undefined || a.kubeProxyArgs.length > 0
              ? await resolveKubeProxy(a.kubeProxy, a.kubeProxyArgs, {
                  mode: a.proxyMode,
                  labArgv: async () => (await findBinaries({ onProgress: (m) => err(m) })).argv['kube-proxy'],
                  onProgress: (m) => err(`kube-sli lab: ${m}`),
                })
              : undefined;
        } catch (e) {
          if (e instanceof KubeProxyChoiceError || e instanceof KubeProxyBuildError) {
            err(`kube-sli lab up: ${e.message}`);
            return EXIT.invalidConfig;
          }
          throw e;
        }
        if (kubeProxy) err(`kube-sli lab: kube-proxy ${kubeProxy.version} (${kubeProxy.argv.join(' ')})${kubeProxy.args.length ? ` ${kubeProxy.args.join(' ')}` : ''}`);
        const r = await labUp({
          ...(kubeProxy ? { kubeProxy } : {}),
          nodes: a.nodes,
          proxyMode: a.proxyMode,
          ipFamily: a.ipFamily,
          stateDir: a.stateDir,
          ...(a.labId ? { labId: a.labId } : {}),
          ports: a.ports,
          ...(a.cniBinDir ? { cniBinDir: a.cniBinDir } : {}),
          ...(a.cniConfDir ? { cniConfDir: a.cniConfDir } : {}),
          kubeletArgs: a.kubeletArgs,
          hollowNodes: a.hollowNodes,
          onProgress: (m) => err(m.startsWith('kube-sli') ? m : `kube-sli lab: ${m}`),
        });
        process.stdout.write(`${r.kubeconfigPath}\n`);
        return EXIT.ok;
      }
      case 'images': {
        const bins = await findBinaries({ onProgress: (m) => err(m) });
        if (!bins.agnhost) throw new LabError('no agnhost next to the lab binaries. Fix: scripts/build-lab-binaries.sh builds it.');
        const imgs = await ensureLabImages({ agnhostPath: bins.agnhost, onProgress: (m) => err(`kube-sli lab: ${m}`) });
        for (const i of imgs) console.log(`${i.ref}\t${i.archive}`);
        return EXIT.ok;
      }
      case 'list': {
        const labs = await labList();
        if (a.json) console.log(JSON.stringify(labs, null, 2));
        else if (labs.length === 0) console.log('no labs on this machine');
        else for (const l of labs) console.log(`${l.labId}\t${l.state}\t${l.stateDir ?? '(no state dir: namespaces or cgroups without a registry entry)'}`);
        return EXIT.ok;
      }
      case 'down': {
        if (a.all) {
          const results = await labDownAll((m) => err(`kube-sli lab: ${m}`));
          const failed = results.filter((r) => r.error);
          for (const f of failed) err(`kube-sli lab: down ${f.labId} failed: ${f.error}`);
          err(`kube-sli lab: down --all: ${results.length - failed.length} of ${results.length} lab(s) removed`);
          return failed.length > 0 ? EXIT.infrastructure : EXIT.ok;
        }
        const r = await labDown(a.stateDir);
        err(
          `kube-sli lab: down: stopped ${r.stopped.filter((s) => s.outcome !== 'not-running').length} process(es), ` +
            `removed ${r.namespaces.length} namespace(s)${r.removed ? `, removed ${a.stateDir}` : `; ${a.stateDir} kept (it holds files the lab did not make)`}` +
            // not an error: a /proc/sys this machine will not write must not block lab down forever
            (r.kernelTunables.startsWith('failed: ') ? `; kernel tunables: ${r.kernelTunables}` : ''),
        );
        return EXIT.ok;
      }
      case 'status': {
        const s = await labStatus(a.stateDir, { queryNodes: true });
        if (a.json) {
          console.log(JSON.stringify(s, null, 2));
        } else {
          const lines = [`lab in ${s.stateDir}: ${s.state}`];
          if (s.labId) lines.push(`  lab id ${s.labId}, kube-proxy mode ${s.proxyMode ?? '?'}`);
          if (s.kubeconfigPath) lines.push(`  KUBECONFIG=${s.kubeconfigPath}  (${s.apiServerUrl ?? ''})`);
          // hundreds of hollow kubelets: one summary line, and the ones that are gone
          const hollow = s.processes.filter((p) => p.name.startsWith('hollow/'));
          for (const p of s.processes.filter((x) => !x.name.startsWith('hollow/'))) lines.push(`  ${p.alive ? 'running' : 'gone   '} ${p.name} pid ${p.pid}`);
          if (hollow.length > 0) lines.push(`  hollow nodes (kubemark): ${hollow.filter((p) => p.alive).length} of ${hollow.length} running`);
          for (const p of hollow.filter((x) => !x.alive)) lines.push(`  gone    ${p.name} pid ${p.pid}`);
          for (const n of s.netns) lines.push(`  ${n.present ? 'present' : 'missing'} netns ${n.name}`);
          const real = (s.nodes ?? []).filter((n) => !n.hollow);
          const hollowNodes = (s.nodes ?? []).filter((n) => n.hollow);
          for (const n of real) lines.push(`  node ${n.name} Ready=${n.ready}`);
          if (hollowNodes.length > 0) lines.push(`  hollow nodes: ${hollowNodes.filter((n) => n.ready === 'True').length} of ${hollowNodes.length} Ready`);
          console.log(lines.join('\n'));
        }
        return s.state === 'up' || s.state === 'down' ? EXIT.ok : EXIT.infrastructure;
      }
      case 'kubeconfig':
        process.stdout.write(`${await labKubeconfig(a.stateDir)}\n`);
        return EXIT.ok;
      case 'daemon': {
        const { runDaemon } = await import('../lab/daemon.js');
        return await runDaemon(a.stateDir);
      }
    }
  } catch (e) {
    if (e instanceof LabError || (e as Error).name === 'PortInUseError' || (e as Error).name === 'LabNetworkConfigError') {
      err(`kube-sli lab ${a.sub}: ${(e as Error).message}`);
      return EXIT.infrastructure;
    }
    throw e;
  }
}
