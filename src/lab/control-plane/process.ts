// Lab processes: started detached (they outlive the CLI call that made them), logged to a
// file in the state dir, recorded with PID + argv + start time, and stopped only when
// /proc/<pid> still shows that very process (a recycled PID is never signalled).
// kube-proxy and the node runtime use the same functions for their processes.
import { open, readFile, stat } from 'node:fs/promises';
import { execa, type Options } from 'execa';
import type { ProcessRecord } from '../state.js';
import { TIMEOUTS } from '../../timeouts.js';
import { waitFor, WaitTimeoutError } from '../../wait-for.js';

export interface ProcInfo {
  state: string;
  startTicks: number;
  cmdline: string[];
}

/** Field n (1-based, as proc(5) numbers them) of a /proc/<pid>/stat line. The command
 * name (field 2) may hold spaces and parentheses: fields resume after the LAST ')'. */
export function procStatField(stat: string, n: number): string | undefined {
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/)[n - 3];
}

/** /proc/<pid> facts, or undefined if there is no such process. */
export async function procInfo(pid: number): Promise<ProcInfo | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = procStatField(stat, 3) ?? '?';
    const startTicks = Number(procStatField(stat, 22)); // starttime
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const cmdline = raw.split('\0');
    if (cmdline.at(-1) === '') cmdline.pop();
    return { state, startTicks, cmdline };
  } catch {
    return undefined;
  }
}

/** Still running (not a zombie) and still the process the record describes. */
export async function isRecordedProcessAlive(rec: Pick<ProcessRecord, 'pid' | 'argv' | 'startTicks'>): Promise<boolean> {
  const info = await procInfo(rec.pid);
  if (!info || info.state === 'Z' || info.state === 'X') return false;
  if (info.startTicks !== rec.startTicks) return false;
  return info.cmdline.length === rec.argv.length && info.cmdline.every((a, i) => a === rec.argv[i]);
}

export interface SpawnOptions {
  name: string;
  argv: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts argv detached in its own session with stdout+stderr appended to logFile. */
export async function spawnDetached(o: SpawnOptions): Promise<ProcessRecord> {
  const [file, ...args] = o.argv;
  if (!file) throw new Error(`empty argv for ${o.name}`);
  const log = await open(o.logFile, 'a', 0o600);
  try {
    await log.write(`\n=== ${new Date().toISOString()} kube-sli lab starts ${o.name}: ${o.argv.join(' ')}\n`);
    const options: Options = {
      detached: true,
      cleanup: false,
      reject: false,
      stdin: 'ignore',
      // execa passes a raw fd to the child unchanged (its types only list 3-9).
      stdout: log.fd as 3,
      stderr: log.fd as 3,
      ...(o.env ? { env: o.env, extendEnv: false } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    };
    const child = execa(file, args, options);
    // Never await it: the process belongs to the lab, not to this CLI call. With reject: false
    // it settles with its result; a spawn failure is awaited below (no pid).
    child.catch(() => undefined);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) {
      const r = await child;
      throw new Error(`could not start ${o.name} (${o.argv.join(' ')}): ${r.message ?? 'spawn failed'}`);
    }
    const info = await procInfo(pid);
    return {
      name: o.name,
      pid,
      argv: [...o.argv],
      startTicks: info?.startTicks ?? -1,
      logFile: o.logFile,
      startedAt: new Date().toISOString(),
    };
  } finally {
    await log.close();
  }
}

export type StopOutcome = 'not-running' | 'terminated' | 'killed';

/** True once the recorded process is gone, false when it still runs after `ms`. */
async function goneWithin(rec: ProcessRecord, ms: number): Promise<boolean> {
  try {
    return await waitFor(async () => !(await isRecordedProcessAlive(rec)), { timeout: ms, interval: TIMEOUTS.labStopPollMs, what: `${rec.name} (pid ${rec.pid}) to exit` });
  } catch (e) {
    if (e instanceof WaitTimeoutError) return false;
    throw e;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; only if /proc still matches the record. */
export async function stopRecordedProcess(rec: ProcessRecord, graceMs = TIMEOUTS.labStopGraceMs): Promise<StopOutcome> {
  if (!(await isRecordedProcessAlive(rec))) return 'not-running';
  try {
    process.kill(rec.pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await goneWithin(rec, graceMs)) return 'terminated';
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    return 'terminated';
  }
  if (await goneWithin(rec, TIMEOUTS.labKillMs)) return 'killed';
  throw new Error(`${rec.name} (pid ${rec.pid}) survived SIGKILL for ${TIMEOUTS.labKillMs / 1000} s (stuck in the kernel?)`);
}

/** The last `lines` lines of a log file (reads at most the last 64 KiB). */
export async function logTail(path: string, lines = 15): Promise<string> {
  try {
    const size = (await stat(path)).size;
    const fh = await open(path, 'r');
    try {
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('=== ')) // our own start headers
        .slice(-lines)
        .join('\n');
    } finally {
      await fh.close();
    }
  } catch {
    return '(no log)';
  }
}
