// A pod's network made by the real CNI plugins, without a kubelet: the test creates a
// namespace with the lab's prefix and runs the node's CNI network (ptp + host-local, as
// the lab's containerd would) on it through the CNI protocol (CNI_COMMAND=ADD, the
// network configuration on stdin). destroyAll removes the namespace with the lab.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cniConfList } from '../../../src/lab/node/config.js';
import { DEFAULT_CNI_BIN_DIR } from '../../../src/lab/node/node.js';
import type { NodePlan } from '../../../src/lab/network/plan.js';
import { addNetns } from '../../../src/netns/netns.js';

export interface CniPod {
  netns: string;
  ip: string;
  node: NodePlan;
}

export async function addCniPod(o: { node: NodePlan; netns: string; ipamDir: string; id: string }): Promise<CniPod> {
  await addNetns(o.netns);
  await mkdir(o.ipamDir, { recursive: true });
  const list = cniConfList({ podCidr: o.node.podCidr, ipamDataDir: o.ipamDir }) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  const ptp = list.plugins[0]!;
  // the plugin runs in the node's namespace, as containerd (started there) runs it
  const r = await execa('nsenter', [`--net=/var/run/netns/${o.node.netns}`, '--', join(DEFAULT_CNI_BIN_DIR, 'ptp')], {
    input: JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...ptp }),
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: o.id, CNI_NETNS: `/var/run/netns/${o.netns}`, CNI_IFNAME: 'eth0', CNI_PATH: DEFAULT_CNI_BIN_DIR },
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`ptp ADD for ${o.netns} failed: ${r.stdout} ${r.stderr}`);
  const result = JSON.parse(String(r.stdout)) as { ips: { address: string }[] };
  const ip = result.ips[0]?.address.split('/')[0];
  if (!ip) throw new Error(`ptp ADD for ${o.netns} returned no address: ${r.stdout}`);
  return { netns: o.netns, ip, node: o.node };
}
