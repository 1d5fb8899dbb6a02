// Unit tests of the control-plane plumbing that needs no Kubernetes binaries:
// port checks, detached process records and PID-safe stopping, preflight messages.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LabError,
  PortInUseError,
  assertPortsFree,
  isRecordedProcessAlive,
  logTail,
  preflight,
  spawnDetached,
  stopControlPlane,
  stopRecordedProcess,
} from '../../../src/lab/control-plane/index.js';
import { emptyState, readLabState, writeLabState } from '../../../src/lab/state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksli-cp-unit-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('ports', () => {
  it('names the port in use, its owner and the fix', async () => {
    const srv = await listen();
    const port = (srv.address() as { port: number }).port;
    try {
      const err = await assertPortsFree([{ port, purpose: 'kube-apiserver secure port', option: 'ports.apiserver' }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortInUseError);
      const msg = (err as Error).message;
      expect(msg).toContain(`port ${port} on 127.0.0.1 (kube-apiserver secure port) is already in use`);
      expect(msg).toContain(`by pid ${process.pid}`);
      expect(msg).toMatch(/Fix: .*kube-sli lab down.*ports\.apiserver/);
    } finally {
      srv.close();
    }
  });

  it('passes free ports and rejects a port configured twice', async () => {
    const srv = await listen();
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    await assertPortsFree([{ port, purpose: 'x', option: 'o' }]);
    await expect(
      assertPortsFree([
        { port, purpose: 'etcd client port', option: 'a' },
        { port, purpose: 'kube-apiserver secure port', option: 'b' },
      ]),
    ).rejects.toThrow(/configured twice/);
  });
});

describe('preflight', () => {
  it('names the missing OS or privilege and the fix', () => {
    expect(() => preflight('darwin', 0)).toThrow(/needs Linux.*this is darwin.*Fix/);
    expect(() => preflight('linux', 1000)).toThrow(LabError);
    expect(() => preflight('linux', 1000)).toThrow(/needs root.*Fix: run as root/);
    expect(() => preflight('linux', 0)).not.toThrow();
  });
});

describe('detached processes', () => {
  it('records, verifies and stops only the process it started', async () => {
    const log = join(dir, 'sleep.log');
    const rec = await spawnDetached({ name: 'sleeper', argv: ['sleep', '60'], logFile: log });
    try {
      expect(rec.startTicks).toBeGreaterThan(0);
      expect(await isRecordedProcessAlive(rec)).toBe(true);
      // Same PID, different command line or start time: treated as somebody else's.
      const forged = { ...rec, argv: ['sleep', '61'] };
      expect(await isRecordedProcessAlive(forged)).toBe(false);
      expect(await stopRecordedProcess(forged, 100)).toBe('not-running');
      expect(await isRecordedProcessAlive({ ...rec, startTicks: rec.startTicks - 1 })).toBe(false);
      expect(await isRecordedProcessAlive(rec)).toBe(true);
      expect(await stopRecordedProcess(rec, 5000)).toBe('terminated');
      expect(await isRecordedProcessAlive(rec)).toBe(false);
      expect(await stopRecordedProcess(rec, 100)).toBe('not-running');
    } finally {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });

  it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const rec = await spawnDetached({
      name: 'stubborn',
      argv: ['sh', '-c', 'trap "" TERM; exec sleep 60'],
      logFile: join(dir, 'stubborn.log'),
    });
    // `exec` replaces sh: wait until /proc shows sleep, then re-read the cmdline for the record.
    await new Promise((r) => setTimeout(r, 200));
    const { procInfo } = await import('../../../src/lab/control-plane/index.js');
    const info = await procInfo(rec.pid);
    const rec2 = { ...rec, argv: info!.cmdline };
    const t0 = Date.now();
    expect(await stopRecordedProcess(rec2, 500)).toBe('killed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('logTail returns the last lines', async () => {
    const p = join(dir, 'x.log');
    await writeFile(p, Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect((await logTail(p, 3)).split('\n')).toEqual(['line 47', 'line 48', 'line 49']);
    expect(await logTail(join(dir, 'missing.log'))).toBe('(no log)');
  });

  it('stopControlPlane works from lab.json alone and is idempotent', async () => {
    const lab = join(dir, 'lab');
    const rec = await spawnDetached({ name: 'etcd-ish', argv: ['sleep', '60'], logFile: join(dir, 'e.log') });
    await writeLabState(lab, { ...emptyState(), processes: [rec] });
    const r1 = await stopControlPlane(lab, { graceMs: 2000 });
    expect(r1.stopped).toEqual([{ name: 'etcd-ish', pid: rec.pid, outcome: 'terminated' }]);
    expect(r1.removed).toBe(true);
    expect(await readLabState(lab)).toBeUndefined();
    expect((await stopControlPlane(lab)).stopped).toEqual([]);
  });

  it('keeps lab.json when network namespaces are still recorded', async () => {
    const lab = join(dir, 'lab');
    await writeLabState(lab, { ...emptyState(), netns: ['ksli-node-1'] });
    const r = await stopControlPlane(lab);
    expect(r.removed).toBe(false);
    expect((await readLabState(lab))?.netns).toEqual(['ksli-node-1']);
  });
});
