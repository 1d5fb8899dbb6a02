// Hollow nodes without a kernel: the memory estimate (refused before anything is made),
// kubemark's flags and wrapper, where kubemark is found, the CLI option, and that the
// kit's facts and agent leave hollow nodes out.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLabArgs } from '../../../src/cli/lab-command.js';
import { UsageError } from '../../../src/cli/exit-codes.js';
import { agentDaemonSet } from '../../../src/agent/daemonset.js';
import { withoutHollow } from '../../../src/kube/hollow-nodes.js';
import {
  HOLLOW_LABEL,
  HOLLOW_MEMORY_RESERVE_BYTES,
  HOLLOW_MEMORY_SHARE,
  HOLLOW_NODE_RSS_BYTES,
  MAX_HOLLOW_NODES,
  hollowFit,
  hollowKubeletArgs,
  hollowNodesProblem,
  hollowWrapper,
  kubemarkArgv,
  kubemarkPathProblem,
  parseMemAvailable,
  parseSmapsRollup,
} from '../../../src/lab/hollow.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

// the head of this machine's /proc/meminfo, recorded
const MEMINFO = `MemTotal:       24683816 kB
MemFree:         6511032 kB
MemAvailable:   20566784 kB
Buffers:          123456 kB
Cached:         13900000 kB
`;

describe('memory estimate', () => {
  it('reads MemAvailable in bytes', () => {
    expect(parseMemAvailable(MEMINFO)).toBe(20566784 * 1024);
    expect(() => parseMemAvailable('MemTotal: 1 kB\n')).toThrow(/MemAvailable/);
  });

  it('fits (available - reserve) * share / per-node', () => {
    const avail = 20 * GiB;
    const f = hollowFit(100, avail, 40 * MiB);
    expect(f.budgetBytes).toBeCloseTo((avail - HOLLOW_MEMORY_RESERVE_BYTES) * HOLLOW_MEMORY_SHARE);
    expect(f.fits).toBe(Math.floor(((avail - HOLLOW_MEMORY_RESERVE_BYTES) * HOLLOW_MEMORY_SHARE) / (40 * MiB)));
    expect(f.needBytes).toBe(100 * 40 * MiB);
    // less memory than the reserve holds none
    expect(hollowFit(1, HOLLOW_MEMORY_RESERVE_BYTES / 2).fits).toBe(0);
  });

  it('accepts what fits and 0, refuses one more with the figures and the fix', () => {
    const avail = 20 * GiB;
    const fits = hollowFit(0, avail).fits;
    expect(hollowNodesProblem(0, 0)).toBeUndefined();
    expect(hollowNodesProblem(fits, avail)).toBeUndefined();
    const msg = hollowNodesProblem(fits + 1, avail);
    expect(msg).toMatch(new RegExp(`^--hollow-nodes ${fits + 1} needs about [\\d.]+ GiB \\(${HOLLOW_NODE_RSS_BYTES / MiB} MiB per hollow kubelet\\)`));
    expect(msg).toContain('20.0 GiB available');
    expect(msg).toContain(`Fix: --hollow-nodes ${fits} or fewer`);
  });

  it('at the measured 27 MiB per hollow node (PSS + control-plane growth), 500 fit from 21 GiB available, 483 at 20 GiB', () => {
    expect(HOLLOW_NODE_RSS_BYTES).toBe(27 * MiB);
    expect(hollowNodesProblem(500, 21 * GiB)).toBeUndefined();
    expect(hollowNodesProblem(500, 20 * GiB)).toMatch(/Fix: --hollow-nodes 483 or fewer/);
  });

  it('refuses counts outside 0..MAX_HOLLOW_NODES whatever the memory', () => {
    for (const n of [-1, 1.5, MAX_HOLLOW_NODES + 1]) expect(hollowNodesProblem(n, 1e15)).toMatch(/must be a whole number from 0 to/);
  });
});

// /proc/<pid>/smaps_rollup of a shell on this machine (kernel 6.18), recorded
const SMAPS_ROLLUP = `558b347d2000-7ffc5db5e000 ---p 00000000 00:00 0                          [rollup]
Rss:                1740 kB
Pss:                 239 kB
Pss_Dirty:           112 kB
Pss_Anon:            112 kB
Pss_File:            127 kB
Pss_Shmem:             0 kB
Shared_Clean:       1588 kB
Shared_Dirty:          0 kB
Private_Clean:        40 kB
Private_Dirty:       112 kB
Referenced:         1740 kB
Anonymous:           112 kB
KSM:                   0 kB
LazyFree:              0 kB
`;

describe('process memory', () => {
  it('reads RSS, PSS, USS (private clean + dirty) and anonymous memory from smaps_rollup', () => {
    expect(parseSmapsRollup(SMAPS_ROLLUP)).toEqual({ rssBytes: 1740 * 1024, pssBytes: 239 * 1024, ussBytes: (40 + 112) * 1024, anonBytes: 112 * 1024 });
    // Pss_Dirty must not be read as Pss, nor a missing field as 0
    expect(() => parseSmapsRollup(SMAPS_ROLLUP.replace(/^Pss: .*\n/m, ''))).toThrow(/no Pss line/);
  });
});

describe('kubemark', () => {
  it('runs as a hollow kubelet labelled and tainted, on its own port, without the host image service', () => {
    const a = hollowKubeletArgs({ name: 'hollow-7', kubeconfig: '/tmp/kubeconfig', port: 20007 });
    expect(a).toEqual(
      expect.arrayContaining([
        '--morph=kubelet',
        '--name=hollow-7',
        '--kubeconfig=/tmp/kubeconfig',
        '--kubelet-port=20007',
        '--kubelet-read-only-port=0',
        `--node-labels=${HOLLOW_LABEL}=true`,
        `--register-with-taints=${HOLLOW_LABEL}=true:NoSchedule`,
        '--use-host-image-service=false',
      ]),
    );
  });

  it('wraps it in the fabric namespace with a private /tmp', () => {
    expect(hollowWrapper('ksli-lab-a1-fabric', '/s/hollow/hollow-0/tmp')).toEqual([
      'nsenter',
      '--net=/var/run/netns/ksli-lab-a1-fabric',
      '--',
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$0" /tmp && exec "$@"',
      '/s/hollow/hollow-0/tmp',
    ]);
  });

  it('refuses a kubemark binary under /tmp (hidden by the private /tmp)', () => {
    expect(kubemarkPathProblem(['/tmp/bin/kube-lab', 'kubemark'])).toMatch(/under \/tmp.*Fix:/);
    expect(kubemarkPathProblem(['/root/.cache/kube-sli/bin/k8s-v1.34.4/kube-lab', 'kubemark'])).toBeUndefined();
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is found as the multi-call command, beside a kubelet symlink, or as its own binary', async () => {
    expect(await kubemarkArgv(['/b/kube-lab', 'kubelet'])).toEqual(['/b/kube-lab', 'kubemark']);
    const d = await mkdtemp(join(tmpdir(), 'ksli-km-'));
    dirs.push(d);
    expect(await kubemarkArgv([join(d, 'kubelet')])).toEqual([join(d, 'kubemark')]);
    await writeFile(join(d, 'kube-lab'), '#!/bin/sh\n');
    await chmod(join(d, 'kube-lab'), 0o755);
    expect(await kubemarkArgv([join(d, 'kubelet')])).toEqual([join(d, 'kube-lab'), 'kubemark']);
  });
});

describe('lab up --hollow-nodes', () => {
  const env = { KUBE_SLI_LAB_DIR: '/tmp/x' };
  it('defaults to 0 and takes a count', () => {
    expect(parseLabArgs(['up'], env).hollowNodes).toBe(0);
    expect(parseLabArgs(['up', '--hollow-nodes', '500'], env).hollowNodes).toBe(500);
  });
  it.each(['x', '-1', '1.5', String(MAX_HOLLOW_NODES + 1), ''])('refuses %j before anything is touched', (v) => {
    expect(() => parseLabArgs(['up', '--hollow-nodes', v], env)).toThrow(UsageError);
    expect(() => parseLabArgs(['up', '--hollow-nodes', v], env)).toThrow(/--hollow-nodes/);
  });
  it('is an option of up only', () => {
    expect(() => parseLabArgs(['down', '--hollow-nodes', '5'], env)).toThrow(UsageError);
  });
});

describe('the kit measures real nodes only', () => {
  // Node objects as a hollow kubelet and a real one registered them (trimmed)
  const nodes: k8s.V1Node[] = [
    { metadata: { name: 'node0', labels: { 'kubernetes.io/hostname': 'node0' } } },
    { metadata: { name: 'hollow-0', labels: { 'kubernetes.io/hostname': 'hollow-0', [HOLLOW_LABEL]: 'true' } } },
    { metadata: { name: 'hollow-1', labels: { [HOLLOW_LABEL]: 'true' } } },
  ];
  it('facts leave hollow nodes out', () => {
    const r = withoutHollow(nodes);
    expect(r.real.map((n) => n.metadata?.name)).toEqual(['node0']);
    expect(r.hollow).toBe(2);
  });
  it('the agent DaemonSet, which tolerates every taint, keeps off hollow nodes', () => {
    const ds = agentDaemonSet({ namespace: 'n', session: 's', image: 'i', serviceCidrs: ['10.96.0.0/12'] });
    const terms = ds.spec!.template.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms).toEqual([{ matchExpressions: [{ key: HOLLOW_LABEL, operator: 'DoesNotExist' }] }]);
  });
});
