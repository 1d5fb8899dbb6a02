// `kube-sli gc`: removes what dead sessions (runs killed before their clean-up) left in a
// cluster. stdout: one line per namespace deleted/kept and a summary; progress on stderr.
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { apiMessage, kubeClients, type KubeClients } from '../kube/clients.js';
import { DEFAULT_GC_TIMEOUT_MS, DEFAULT_STALE_MS, GcTimeoutError, gcSessions, type GcResult } from '../kube/gc.js';
import { SESSION_LABEL } from '../kube/session.js';
import { labKubeconfig, labStatus } from '../lab/lab.js';
import { defaultStateDir } from '../lab/state.js';
import { TIME_UNITS, TIME_UNIT_LIST } from '../sli/units.js';
import { EXIT, UsageError } from './exit-codes.js';

export const GC_USAGE = `usage: kube-sli gc [--kubeconfig <file>] [--session <id> | --all] [--stale <duration>] [--dry-run]

Deletes what runs that died before cleaning up (SIGKILL, a lost machine) left in the
cluster: every namespace labelled ${SESSION_LABEL} whose session's heartbeat is
stale, and that session's labelled Services, EndpointSlices, Deployments, ReplicaSets,
DaemonSets and Pods in other namespaces. Never touches objects without the label.

options:
  --kubeconfig <file> cluster to clean (default: $KUBECONFIG, else ~/.kube/config, else
                      the lab in $KUBE_SLI_LAB_DIR / the default lab state dir)
  --session <id>      only this session, even if its heartbeat is fresh
  --all               every session, even live ones
  --stale <duration>  a session is dead when its newest heartbeat is older (default ${DEFAULT_STALE_MS / 1000}s);
                      durations: 90s, 2m, 500ms, 1m30s (units ${TIME_UNIT_LIST})
  --timeout <duration>  how long to wait for namespaces to finish terminating (default ${DEFAULT_GC_TIMEOUT_MS / 60_000}m)
  --dry-run           print what would be deleted; delete nothing
  -h, --help          this text

exit codes: 0 done, 2 bad flags or no cluster configured, 3 cluster errors or timeout`;

/**
 * Milliseconds of a duration: a number with a unit, or several run together ("1m30s").
 * Units are the threshold language's (src/sli/units.ts TIME_UNITS: ns, us, ms, s, m, h).
 */
export function parseDurationMs(text: string, what = 'duration'): number {
  const t = text.trim();
  const part = /(\d+(?:\.\d*)?|\.\d+)([a-zA-Zµμ]+)/y;
  let total = 0;
  let at = 0;
  let parts = 0;
  while (at < t.length) {
    part.lastIndex = at;
    const m = part.exec(t);
    const factor = m ? TIME_UNITS.get(m[2]!) : undefined;
    if (!m || factor === undefined) {
      const hint = /^\d+(\.\d+)?$/.test(t) ? ` (a bare number: add a unit, e.g. ${t}s)` : '';
      throw new UsageError(`${what} "${text}" is not a duration like 90s, 2m, 500ms or 1m30s${hint}; units: ${TIME_UNIT_LIST}`);
    }
    total += Number(m[1]) * factor * 1000;
    at = part.lastIndex;
    parts++;
  }
  if (parts === 0) throw new UsageError(`${what} is empty; give a duration like 60s`);
  return total;
}

export interface GcArgs {
  help: boolean;
  kubeconfig?: string;
  session?: string;
  all: boolean;
  staleMs: number;
  timeoutMs: number;
  dryRun: boolean;
}

// a label value: at most 63 characters, alphanumerics with - _ . inside
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Parses and validates the flags; throws UsageError (exit 2) before anything is touched. */
export function parseGcArgs(argv: string[]): GcArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        session: { type: 'string' },
        all: { type: 'boolean', default: false },
        stale: { type: 'string' },
        timeout: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${GC_USAGE}`);
  }
  const args: GcArgs = {
    help: values.help,
    all: values.all,
    dryRun: values['dry-run'],
    staleMs: DEFAULT_STALE_MS,
    timeoutMs: DEFAULT_GC_TIMEOUT_MS,
  };
  if (args.help) return args;
  if (values.kubeconfig !== undefined) {
    if (values.kubeconfig === '') throw new UsageError('--kubeconfig must not be empty');
    args.kubeconfig = values.kubeconfig;
  }
  if (values.session !== undefined) {
    if (!LABEL_VALUE.test(values.session)) {
      throw new UsageError(`--session "${values.session}" is not a session id (a label value: 1-63 letters, digits, - _ . ; e.g. ${'mf3k2q-a1b2c3'})`);
    }
    args.session = values.session;
  }
  if (args.all && args.session !== undefined) throw new UsageError('--session and --all exclude each other: clean one session, or all of them');
  if (values.stale !== undefined) {
    args.staleMs = parseDurationMs(values.stale, '--stale');
    if (!(args.staleMs > 0)) throw new UsageError(`--stale "${values.stale}" must be longer than 0 (use --all to ignore heartbeats)`);
  }
  if (values.timeout !== undefined) {
    args.timeoutMs = parseDurationMs(values.timeout, '--timeout');
    if (!(args.timeoutMs > 0)) throw new UsageError(`--timeout "${values.timeout}" must be longer than 0`);
  }
  return args;
}

export interface ClusterChoice {
  /** kubeconfig file; undefined: client-node's default loading (merged $KUBECONFIG list, in-cluster) */
  kubeconfig: string | undefined;
  /** where the choice came from, for messages */
  source: string;
}

const exists = (p: string): Promise<boolean> => access(p, constants.R_OK).then(() => true, () => false);
const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Which cluster: --kubeconfig; else $KUBECONFIG; else ~/.kube/config when it has a current
 * context; else the pod's service account (in-cluster); else the lab of the default state
 * dir ($KUBE_SLI_LAB_DIR) when it is up. Otherwise a UsageError naming the fixes.
 */
export async function resolveGcCluster(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<ClusterChoice> {
  if (flag !== undefined) {
    if (!(await exists(flag))) throw new UsageError(`--kubeconfig ${flag}: no such readable file`);
    return { kubeconfig: flag, source: '--kubeconfig' };
  }
  const notes: string[] = [];
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    const present: string[] = [];
    for (const f of files) if (await exists(f)) present.push(f);
    if (present.length === 0) throw new UsageError(`KUBECONFIG=${env.KUBECONFIG} names no readable file. Fix: correct KUBECONFIG, or pass --kubeconfig <file>`);
    return { kubeconfig: present.length === 1 ? present[0] : undefined, source: 'KUBECONFIG' };
  }
  notes.push('KUBECONFIG is not set');
  const home = join(env.HOME || homedir(), '.kube', 'config');
  if (await exists(home)) {
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(home);
      if (kc.getCurrentContext()) return { kubeconfig: home, source: `${home} (context ${kc.getCurrentContext()})` };
      notes.push(`${home} has no current context`);
    } catch (e) {
      notes.push(`${home} is not a valid kubeconfig (${(e as Error).message.split('\n')[0]})`);
    }
  } else notes.push(`no ${home}`);
  if (env.KUBERNETES_SERVICE_HOST && (await exists(SA_TOKEN))) return { kubeconfig: undefined, source: 'in-cluster service account' };
  const labDir = defaultStateDir(env);
  try {
    const st = await labStatus(labDir);
    const apiserverUp = st.processes.some((p) => p.name === 'kube-apiserver' && p.alive);
    if (st.state === 'up' || (st.state === 'degraded' && apiserverUp)) return { kubeconfig: await labKubeconfig(labDir), source: `the lab in ${st.stateDir}` };
    notes.push(st.state === 'down' ? `no lab in ${st.stateDir}` : `the lab in ${st.stateDir} is ${st.state}`);
  } catch (e) {
    notes.push(`the lab in ${labDir}: ${(e as Error).message.split('\n')[0]}`);
  }
  throw new UsageError(
    `no cluster to clean (${notes.join('; ')}). Fix: pass --kubeconfig <file>, set KUBECONFIG, or point KUBE_SLI_LAB_DIR at a running lab (kube-sli lab up)`,
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The lines gc prints for a result (stdout). */
export function formatGcResult(r: GcResult, dryRun: boolean): string[] {
  const verb = dryRun ? 'would delete' : 'deleted';
  const lines: string[] = [];
  for (const d of r.deleted) {
    if (d.whole) lines.push(`${verb} namespace ${d.namespace} (${d.reason}; ${plural(d.objects, 'labelled object')})`);
    else lines.push(`${verb} ${plural(d.objects, 'object')} in namespace ${d.namespace} (${d.reason})`);
  }
  for (const k of r.kept) lines.push(`kept namespace ${k.namespace}: ${k.reason}`);
  const what = `${plural(r.namespaces.length, 'namespace')} and ${plural(r.objects, 'object')} in other namespaces`;
  const kept = r.kept.length > 0 ? `; kept ${plural(r.kept.length, 'namespace')}` : '';
  lines.push(
    r.namespaces.length + r.objects === 0
      ? `gc: nothing to delete${kept}`
      : `gc: ${verb} ${what} (${plural(r.sessions.length, 'session')}: ${r.sessions.join(', ')})${kept}`,
  );
  return lines;
}

export async function gcCommand(argv: string[]): Promise<number> {
  const args = parseGcArgs(argv);
  if (args.help) {
    console.log(GC_USAGE);
    return EXIT.ok;
  }
  const cluster = await resolveGcCluster(args.kubeconfig);
  let clients: KubeClients;
  try {
    clients = kubeClients(cluster.kubeconfig);
  } catch (e) {
    throw new UsageError(`cannot load the kubeconfig from ${cluster.source}: ${(e as Error).message}`);
  }
  const server = clients.config.getCurrentCluster()?.server ?? '?';
  process.stderr.write(`kube-sli gc: cluster ${server} (from ${cluster.source})${args.dryRun ? ', dry run' : ''}\n`);
  try {
    const r = await gcSessions(clients, {
      session: args.session,
      all: args.all,
      staleMs: args.staleMs,
      timeoutMs: args.timeoutMs,
      dryRun: args.dryRun,
      onProgress: (m) => process.stderr.write(`kube-sli gc: ${m}\n`),
    });
    for (const line of formatGcResult(r, args.dryRun)) console.log(line);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof GcTimeoutError) {
      for (const line of formatGcResult(e.result, false)) console.log(line);
      console.error(`kube-sli gc: ${e.message}`);
      return EXIT.infrastructure;
    }
    console.error(`kube-sli gc: cluster ${server} (from ${cluster.source}): ${apiMessage(e)}`);
    return EXIT.infrastructure;
  }
}

