// Lab orchestration without a kernel: kube-proxy config generation, CLI validation
// (refused before anything is touched, exit 2), preflight messages, labId derivation.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseLabArgs } from '../../../src/cli/lab-command.js';
import { EXIT, UsageError } from '../../../src/cli/exit-codes.js';
import { main } from '../../../src/cli/run.js';
import { isProxyMode, kubeProxyConfig } from '../../../src/lab/kube-proxy.js';
import { defaultLabId, ipv6Preflight, labKubeconfig, labPaths, labPreflight, labStatus, requiredTools, LabPreflightError } from '../../../src/lab/lab.js';
import { emptyState, writeLabState } from '../../../src/lab/state.js';

describe('kubeProxyConfig', () => {
  const base = { clusterCIDR: '10.244.0.0/16', nodeName: 'node1', nodeIP: '10.200.0.3', kubeconfig: '/s/kubeconfigs/kube-proxy.kubeconfig' };
  it.each(['iptables', 'nftables'] as const)('%s: the fields the lab relies on', (mode) => {
    const c = kubeProxyConfig({ ...base, mode });
    expect(c).toMatchObject({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode,
      clusterCIDR: '10.244.0.0/16',
      hostnameOverride: 'node1',
      bindAddress: '10.200.0.3',
      metricsBindAddress: '0.0.0.0:10249',
      healthzBindAddress: '0.0.0.0:10256',
      clientConnection: { kubeconfig: '/s/kubeconfigs/kube-proxy.kubeconfig' },
      conntrack: { maxPerCore: 0, min: 0 },
      nodePortAddresses: ['10.200.0.3/32'],
    });
    // JSON is YAML: the file kube-proxy reads is exactly this
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });
  it('sync periods are configurable and default to upstream', () => {
    expect(kubeProxyConfig({ ...base, mode: 'nftables' }).nftables).toMatchObject({ syncPeriod: '30s', minSyncPeriod: '1s' });
    expect(kubeProxyConfig({ ...base, mode: 'iptables', minSyncPeriod: '0s' }).iptables).toMatchObject({ minSyncPeriod: '0s' });
  });
  it('modes and tools', () => {
    expect(isProxyMode('nftables')).toBe(true);
    expect(isProxyMode('ipvs')).toBe(false);
    expect(requiredTools('nftables')).toContain('nft');
    expect(requiredTools('iptables')).toEqual(expect.arrayContaining(['iptables', 'iptables-save', 'iptables-restore']));
    expect(requiredTools('iptables', 'ipv6')).toEqual(['ip', 'ip6tables', 'ip6tables-save', 'ip6tables-restore']);
    expect(requiredTools('iptables', 'dual')).toEqual(expect.arrayContaining(['iptables-restore', 'ip6tables-restore']));
    expect(requiredTools('nftables', 'dual')).toEqual(['ip', 'nft']);
  });
  it('dual-stack: both pod ranges, NodePorts on both node addresses', () => {
    const c = kubeProxyConfig({ ...base, mode: 'nftables', clusterCIDR: '10.244.0.0/16,fd00:10:244::/56', nodeIPs: ['10.200.0.3', 'fd00:10:200::3'] });
    expect(c).toMatchObject({ clusterCIDR: '10.244.0.0/16,fd00:10:244::/56', bindAddress: '10.200.0.3', nodePortAddresses: ['10.200.0.3/32', 'fd00:10:200::3/128'] });
    const v6 = kubeProxyConfig({ ...base, mode: 'iptables', clusterCIDR: 'fd00:10:244::/56', nodeIP: 'fd00:10:200::3', nodeIPs: ['fd00:10:200::3'] });
    expect(v6).toMatchObject({ bindAddress: 'fd00:10:200::3', nodePortAddresses: ['fd00:10:200::3/128'] });
  });
});

describe('parseLabArgs', () => {
  const env = { KUBE_SLI_LAB_DIR: '/tmp/x' };
  it('defaults', () => {
    expect(parseLabArgs(['up'], env)).toMatchObject({ sub: 'up', stateDir: '/tmp/x', nodes: 2, proxyMode: 'nftables', ports: {} });
  });
  it('options', () => {
    const a = parseLabArgs(['up', '--nodes', '3', '--proxy-mode', 'iptables', '--lab-id', 'a1', '--ports', 'apiserver=16443,etcdClient=16379', '--state-dir', '/d'], env);
    expect(a).toMatchObject({ nodes: 3, proxyMode: 'iptables', labId: 'a1', stateDir: '/d', ports: { apiserver: 16443, etcdClient: 16379 } });
  });
  it.each([
    [['up', '--proxy-mode', 'ipvs'], /--proxy-mode "ipvs".*iptables or nftables/],
    [['up', '--nodes', '0'], /--nodes "0" must be a whole number from 1 to 50/],
    [['up', '--nodes', 'two'], /--nodes "two"/],
    [['up', '--nodes', '51'], /--nodes "51"/],
    [['up', '--lab-id', 'Bad_Id'], /--lab-id "Bad_Id"/],
    [['up', '--ports', 'apiserver=99999'], /a port is 1-65535/],
    [['up', '--ports', 'web=80'], /<name> one of apiserver/],
    [['up', '--ip-family', 'ipv5'], /--ip-family "ipv5" is not an IP family the lab runs; choose ipv4, ipv6, dual/],
    [['up', '--ip-family', 'IPv6'], /--ip-family "IPv6"/],
    [['down', '--ip-family', 'dual'], /Unknown option '--ip-family'/],
    [['down', '--nodes', '2'], /Unknown option '--nodes'/],
    [['sideways'], /unknown subcommand "sideways"/],
    [[], /missing subcommand/],
  ])('%j → UsageError', (argv, message) => {
    expect(() => parseLabArgs(argv, env)).toThrow(UsageError);
    expect(() => parseLabArgs(argv, env)).toThrow(message);
  });
  it('--ip-family: ipv4 by default, ipv6 and dual on request', () => {
    expect(parseLabArgs(['up'], env).ipFamily).toBe('ipv4');
    expect(parseLabArgs(['up', '--ip-family', 'ipv6'], env).ipFamily).toBe('ipv6');
    expect(parseLabArgs(['up', '--ip-family=dual'], env).ipFamily).toBe('dual');
  });
  it('--help', () => {
    expect(parseLabArgs(['up', '--help'], env).sub).toBe('help');
    expect(parseLabArgs(['--help'], env).sub).toBe('help');
  });
});

describe('kube-sli lab via main(): exit codes', () => {
  const errors: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
  });
  it('unknown proxy mode: exit 2, names the value and the choices, touches nothing', async () => {
    vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    const dir = join(tmpdir(), `ksli-unit-never-${process.pid}`);
    expect(await main(['lab', 'up', '--proxy-mode', 'ipvs', '--state-dir', dir])).toBe(EXIT.invalidConfig);
    expect(errors.join('\n')).toMatch(/"ipvs".*iptables or nftables/);
    await expect(import('node:fs/promises').then((f) => f.stat(dir))).rejects.toThrow();
  });
  it('help exits 0', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m: unknown) => void out.push(String(m)));
    expect(await main(['lab', '--help'])).toBe(EXIT.ok);
    expect(out.join('\n')).toMatch(/kube-sli lab <subcommand>/);
  });
  it('kubeconfig without a lab: exit 3 naming the fix', async () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((m: unknown) => (err.push(String(m)), true));
    expect(await main(['lab', 'kubeconfig', '--state-dir', join(tmpdir(), `ksli-unit-none-${process.pid}`)])).toBe(EXIT.infrastructure);
    expect(err.join('')).toMatch(/no lab in .*Fix: kube-sli lab up/);
  });
});

describe('preflight (nothing made)', () => {
  const o = { proxyMode: 'nftables', nodes: 2, stateDir: '/nonexistent/ksli', labId: 'u1' };
  it('unknown mode', async () => {
    await expect(labPreflight({ ...o, proxyMode: 'ipvs' })).rejects.toThrow(/unknown proxy mode "ipvs".*iptables, nftables/);
  });
  it('unknown IP family, before the platform is even looked at', async () => {
    await expect(labPreflight({ ...o, ipFamily: 'ipv5', platform: 'darwin' })).rejects.toThrow(/unknown IP family "ipv5" \(--ip-family\)\. Fix: use one of ipv4, ipv6, dual/);
  });
  it('a kernel without IPv6', async () => {
    await expect(ipv6Preflight('/nonexistent/proc/sys/net/ipv6')).rejects.toThrow(/no IPv6.*--ip-family ipv6\/dual needs it\. Fix:.*--ip-family ipv4/);
    await expect(ipv6Preflight()).resolves.toBeUndefined();
  });
  it('not Linux', async () => {
    await expect(labPreflight({ ...o, platform: 'darwin', uid: 0 })).rejects.toThrow(/needs Linux.*darwin.*Fix/);
  });
  it('not root', async () => {
    await expect(labPreflight({ ...o, platform: 'linux', uid: 1000 })).rejects.toThrow(/needs root.*Fix/);
  });
  it('missing tool', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(labPreflight({ ...o, platform: 'linux', uid: 0 })).rejects.toThrow(/"ip" is not on PATH.*Fix: install iproute2/);
    } finally {
      process.env.PATH = path;
    }
  });
  it('bad node count', async () => {
    await expect(labPreflight({ ...o, nodes: 0 })).rejects.toThrow(LabPreflightError);
  });
  it('a stale lab.json (no live processes) → run lab down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ksli-unit-'));
    try {
      await writeLabState(dir, { ...emptyState(), processes: [{ name: 'etcd', pid: 999999, argv: ['x'], startTicks: 1, logFile: '/dev/null', startedAt: '' }] });
      // root and ip are needed to get that far; elsewhere the earlier checks answer
      if (process.getuid?.() === 0 && process.platform === 'linux') {
        await expect(labPreflight({ ...o, stateDir: dir })).rejects.toThrow(/remains of a lab.*kube-sli lab down/);
      }
      expect((await labStatus(dir)).state).toBe('stopped');
      await writeFile(join(dir, 'x'), '');
      await expect(labKubeconfig(join(dir, 'nope'))).rejects.toThrow(/no lab/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('labId and paths', () => {
  it('defaultLabId is a valid, stable id per state dir', () => {
    const a = defaultLabId('/var/lib/kube-sli/lab');
    expect(a).toMatch(/^[a-z0-9]{1,8}$/);
    expect(defaultLabId('/var/lib/kube-sli/lab/')).toBe(a);
    expect(defaultLabId('/tmp/other')).not.toBe(a);
  });
  it('run files live under <state>/run', () => {
    expect(labPaths('/s')).toMatchObject({ egressSocket: '/s/run/egress.sock', egressConfig: '/s/run/egress-selector.yaml', daemonReady: '/s/run/daemon.ready' });
  });
});
