import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planNetwork } from '../../../src/lab/network/plan.js';
import {
  PodNetworkError,
  emptyPodState,
  hostNetworkPod,
  nextPodIp,
  readPodState,
  uniquePodHash,
  type PodNetworkState,
  type PodRecord,
} from '../../../src/lab/network/pods.js';

const plan = planNetwork({ labId: 'u1', nodes: 2, podCidrPrefix: 28 });
const node0 = plan.nodes[0]!;

function withPods(ips: string[], last?: string): PodNetworkState {
  const s = emptyPodState(plan);
  ips.forEach((ip, i) => {
    const rec: PodRecord = { key: `p${i}`, node: 0, ip, hash: `h${i}`, netns: `n${i}`, iface: 'eth0', hostIface: `vp${i}`, nodeNetns: node0.netns };
    s.pods[rec.key] = rec;
  });
  if (last) s.lastAllocated['0'] = last;
  return s;
}

describe('pod IP allocation', () => {
  it('starts at the first pod address of the node (.0 network, .1 kept free)', () => {
    expect(node0.podIpRange).toEqual({ first: '10.244.0.2', last: '10.244.0.14' });
    expect(nextPodIp(node0, emptyPodState(plan))).toBe('10.244.0.2');
    expect(nextPodIp(plan.nodes[1]!, emptyPodState(plan))).toBe('10.244.0.18');
  });

  it('hands out round-robin after the cursor, so a freed IP is not reused at once', () => {
    expect(nextPodIp(node0, withPods(['10.244.0.2', '10.244.0.3'], '10.244.0.3'))).toBe('10.244.0.4');
    // .2 was freed, cursor at .3: the next is .4, not .2
    expect(nextPodIp(node0, withPods(['10.244.0.3'], '10.244.0.3'))).toBe('10.244.0.4');
    // wraps at the end and skips used addresses
    expect(nextPodIp(node0, withPods(['10.244.0.2', '10.244.0.14'], '10.244.0.14'))).toBe('10.244.0.3');
    // a cursor outside the node's range (another layout) is ignored
    expect(nextPodIp(node0, withPods([], '10.9.9.9'))).toBe('10.244.0.2');
  });

  it('fails clearly when the node range is full', () => {
    const all = Array.from({ length: 13 }, (_, i) => `10.244.0.${i + 2}`);
    expect(() => nextPodIp(node0, withPods(all))).toThrow(PodNetworkError);
    expect(() => nextPodIp(node0, withPods(all))).toThrow(/no free pod IP: all 13 are in use/);
  });

  it('picks another hash when one is taken by a different pod', () => {
    const first = uniquePodHash(plan, 'default/a', emptyPodState(plan));
    const s = withPods(['10.244.0.2']);
    s.pods['p0']!.hash = first;
    const second = uniquePodHash(plan, 'default/a', s);
    expect(second).not.toBe(first);
    expect(second).toMatch(/^[0-9a-f]{8}$/);
  });

  it('hostNetwork pods get the node namespace and InternalIP', () => {
    expect(hostNetworkPod(plan, 1)).toEqual({ netns: 'ksli-lab-u1-node1', ip: '10.200.0.3' });
    expect(() => hostNetworkPod(plan, 2)).toThrow(/nodes 0..1; there is no node 2/);
  });
});

describe('pod state file', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts empty, and refuses files of another lab or format', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ksli-unit-'));
    const file = join(dir, 'pods.json');
    expect(await readPodState(plan, file)).toEqual(emptyPodState(plan));
    await writeFile(file, JSON.stringify({ ...emptyPodState(plan), labId: 'other' }));
    await expect(readPodState(plan, file)).rejects.toThrow(/belongs to lab "other"/);
    await writeFile(file, '{not json');
    await expect(readPodState(plan, file)).rejects.toThrow(/not valid JSON/);
    await writeFile(file, JSON.stringify({ version: 9 }));
    await expect(readPodState(plan, file)).rejects.toThrow(/unknown format/);
    expect(await readFile(file, 'utf8')).toContain('9');
  });
});
