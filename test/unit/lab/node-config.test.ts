// The configuration of a real lab node, as text: what keeps two nodes on one kernel apart
// and what this machine needs (restrict_oom_score_adj, cgroupfs, netns under the state dir).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLabArgs } from '../../../src/cli/lab-command.js';
import { repoRoot } from '../../../src/lab/binaries.js';
import { dockerfileCopySources } from '../../../src/lab/images/build.js';
import { nodePreflight } from '../../../src/lab/lab.js';
import { cniConfList, containerdConfig, kubeletConfig, PAUSE_IMAGE } from '../../../src/lab/node/config.js';
import { nodeCgroupRoot, nodeLayout } from '../../../src/lab/node/layout.js';

const l0 = nodeLayout('/var/lib/kube-sli/lab', 'node0');
const l1 = nodeLayout('/var/lib/kube-sli/lab', 'node1');
const tmp: string[] = [];
afterAll(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

describe('node layout', () => {
  it('gives every node its own paths, and sockets fit a unix socket name', () => {
    const v0 = Object.values(l0);
    for (const p of Object.values(l1)) expect(v0).not.toContain(p);
    expect(Buffer.byteLength(`${l0.containerdSocket}.ttrpc`)).toBeLessThan(108);
    expect(nodeCgroupRoot('ab12', 'node0')).toBe('/ksli-ab12-node0');
  });
});

describe('containerd config', () => {
  const text = containerdConfig({ layout: l0, cniBinDir: '/usr/lib/cni', cniConfDir: l0.cniConfDir });
  it('keeps root, state, socket and runc root per node', () => {
    for (const p of [l0.containerdRoot, l0.containerdState, l0.containerdSocket, l0.runcRoot, l0.cniConfDir]) expect(text).toContain(JSON.stringify(p));
    expect(text).not.toContain('/run/containerd');
    expect(text).not.toContain('/var/lib/containerd');
  });
  it('carries what this machine needs: oom_score_adj restricted, runc v2 by name, netns under the state dir', () => {
    expect(text).toMatch(/restrict_oom_score_adj = true/);
    expect(text).toMatch(/default_runtime_name = "runc"/);
    expect(text).toMatch(/runtime_type = "io\.containerd\.runc\.v2"/);
    expect(text).toMatch(/netns_mounts_under_state_dir = true/);
    expect(text).toMatch(/SystemdCgroup = false/);
    expect(text).toContain(`sandbox_image = "${PAUSE_IMAGE}"`);
  });
});

describe('kubelet config', () => {
  const cfg = kubeletConfig({ layout: l0, nodeIp: '10.200.0.2', cgroupRoot: '/ksli-ab12-node0', clientCaFile: '/ca.crt', tlsCertFile: '/s.crt', tlsKeyFile: '/s.key' });
  it('serves on the InternalIP with webhook authn/authz and the lab CA', () => {
    expect(cfg).toMatchObject({
      address: '10.200.0.2',
      port: 10250,
      readOnlyPort: 0,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: '/ca.crt' } },
      authorization: { mode: 'Webhook' },
      tlsCertFile: '/s.crt',
    });
  });
  it('uses cgroupfs under its own root, per-QoS cgroups, and the node containerd', () => {
    expect(cfg).toMatchObject({ cgroupDriver: 'cgroupfs', cgroupRoot: '/ksli-ab12-node0', cgroupsPerQOS: true, containerRuntimeEndpoint: `unix://${l0.containerdSocket}`, podLogsDir: l0.podLogs });
  });
});

describe('CNI network', () => {
  it('is ptp + host-local over the node podCIDR with per-node IPAM state, no masquerade, portmap', () => {
    const c = cniConfList({ podCidr: '10.244.1.0/24', ipamDataDir: l1.cniIpamDir }) as { plugins: Record<string, unknown>[] };
    expect(c.plugins.map((p) => p.type)).toEqual(['ptp', 'portmap']);
    expect(c.plugins[0]).toMatchObject({ ipMasq: false, ipam: { type: 'host-local', dataDir: l1.cniIpamDir, ranges: [[{ subnet: '10.244.1.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } });
  });
  it('dual-stack: one range set and one default route per family; IPv6 alone has no IPv4', () => {
    const dual = cniConfList({ podCidr: ['10.244.1.0/24', 'fd00:10:244:1::/64'], ipamDataDir: l1.cniIpamDir }) as { plugins: Record<string, unknown>[] };
    expect(dual.plugins[0]).toMatchObject({ ipam: { ranges: [[{ subnet: '10.244.1.0/24' }], [{ subnet: 'fd00:10:244:1::/64' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] } });
    const v6 = cniConfList({ podCidr: ['fd00:10:244:1::/64'], ipamDataDir: l1.cniIpamDir }) as { plugins: { ipam?: unknown }[] };
    expect(v6.plugins[0]!.ipam).toMatchObject({ ranges: [[{ subnet: 'fd00:10:244:1::/64' }]], routes: [{ dst: '::/0' }] });
  });
});

describe('kit image key', () => {
  it('reads the COPY sources from the repository Dockerfile', async () => {
    const df = await readFile(join(repoRoot(), 'Dockerfile'), 'utf8');
    expect(dockerfileCopySources(df)).toEqual(['bin', 'package-lock.json', 'package.json', 'reporters', 'src', 'src/conntrack/native/ct-events.c', 'tsconfig.json']);
    expect(dockerfileCopySources('COPY --from=build /a /b\nCOPY --chown=1:1 x y/ /dst/\n')).toEqual(['x', 'y']);
  });
});

describe('node preflight (bad input, nothing made)', () => {
  async function fakeHost(o: { plugins: string[]; controllers: string[] }): Promise<{ bin: string; cg: string }> {
    const d = await mkdtemp(join(tmpdir(), 'ksli-preflight-'));
    tmp.push(d);
    const bin = join(d, 'bin');
    const cg = join(d, 'cgroup');
    await mkdir(bin);
    for (const p of o.plugins) await writeFile(join(bin, p), '');
    for (const c of o.controllers) {
      await mkdir(join(cg, c), { recursive: true });
      await writeFile(join(cg, c, 'cgroup.procs'), '');
    }
    return { bin, cg };
  }
  const all = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'];
  it('names missing CNI plugins and the package that brings them', async () => {
    const h = await fakeHost({ plugins: ['loopback'], controllers: all });
    await expect(nodePreflight({ cniBinDir: h.bin, cgroupRoot: h.cg })).rejects.toThrow(/ptp, host-local, portmap not found in .*apt-get install containernetworking-plugins/);
  });
  it('names a missing cgroup controller', async () => {
    const h = await fakeHost({ plugins: ['ptp', 'host-local', 'portmap', 'loopback'], controllers: ['cpu', 'cpuacct', 'cpuset', 'memory'] });
    await expect(nodePreflight({ cniBinDir: h.bin, cgroupRoot: h.cg })).rejects.toThrow(/cgroup controller\(s\) pids are not mounted/);
  });
  it('refuses a CNI configuration directory without a configuration', async () => {
    const h = await fakeHost({ plugins: ['loopback'], controllers: all });
    await expect(nodePreflight({ cniBinDir: h.bin, cniConfDir: h.bin, cgroupRoot: h.cg })).rejects.toThrow(/holds no CNI configuration/);
    await expect(nodePreflight({ cniBinDir: h.bin, cniConfDir: join(h.bin, 'nope'), cgroupRoot: h.cg })).rejects.toThrow(/does not exist/);
  });
});

describe('lab CLI: real-node options', () => {
  const env = { KUBE_SLI_LAB_DIR: '/tmp/x' };
  it('parses --cni-bin-dir, --cni-conf-dir, down --all and list', () => {
    expect(parseLabArgs(['up', '--cni-conf-dir', '/etc/cni/net.d', '--cni-bin-dir', '/opt/cni/bin'], env)).toMatchObject({ cniConfDir: '/etc/cni/net.d', cniBinDir: '/opt/cni/bin' });
    expect(parseLabArgs(['down', '--all'], env)).toMatchObject({ sub: 'down', all: true });
    expect(parseLabArgs(['list', '--json'], env)).toMatchObject({ sub: 'list', json: true });
    expect(() => parseLabArgs(['up', '--cni-conf-dir', ''], env)).toThrow(/must not be empty/);
    expect(() => parseLabArgs(['down', '--cni-conf-dir', '/x'], env)).toThrow();
  });
});
