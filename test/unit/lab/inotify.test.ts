import { describe, expect, test } from 'vitest';
import { inotifyInUse, inotifyProblem, instancesNeeded, instancesOf } from '../../../src/lab/inotify.js';

describe('inotify instances before a lab starts', () => {
  test('a 2-node lab fits the kernel default of 128 on a quiet machine', () => {
    expect(instancesNeeded(2)).toBe(42);
    expect(inotifyProblem({ max: 128, used: 20, nodes: 2 })).toBeUndefined();
  });

  test('50 hollow nodes beside it do not, and the error names the sysctl and the fix', () => {
    const p = inotifyProblem({ max: 128, used: 20, nodes: 2, hollowNodes: 50 });
    expect(p).toMatch(/a lab of 2 node\(s\) and 50 hollow node\(s\) needs about 167 inotify instances, and 108 of fs\.inotify\.max_user_instances = 128 are free \(20 in use/);
    expect(p).toMatch(/Fix: sysctl -w fs\.inotify\.max_user_instances=8192 \(npm run setup raises it\), or fewer nodes\./);
  });

  test('hollow nodes added to a running lab count only their own', () => {
    expect(inotifyProblem({ max: 1024, used: 1000, nodes: 0, hollowNodes: 20, controlPlane: false })).toMatch(/^20 hollow node\(s\) more needs about 50 inotify instances, and 24 of/);
    expect(inotifyProblem({ max: 1024, used: 900, nodes: 0, hollowNodes: 20, controlPlane: false })).toBeUndefined();
  });

  test('counts a process\'s instances from /proc, and the machine\'s sum includes them', async () => {
    const { watch } = await import('node:fs');
    // libuv opens one instance per event loop on the first watch (and keeps it)
    const w = watch('.');
    try {
      const mine = await instancesOf(process.pid);
      expect(mine).toBeGreaterThanOrEqual(1);
      expect(await inotifyInUse()).toBeGreaterThanOrEqual(mine);
      expect(await instancesOf(2 ** 30)).toBe(0);
    } finally {
      w.close();
    }
  }, 60_000); // the scan reads every process's fds: seconds on a machine running several labs
});
