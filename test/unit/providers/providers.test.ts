import { describe, expect, it } from 'vitest';
import { chooseProvider, type HostFacts } from '../../../src/providers/choose.js';
import { k3sContainer, k3sServerArgs } from '../../../src/providers/k3s.js';
import { kindClusterConfig, kindClusterName } from '../../../src/providers/kind.js';

const host = (files: Record<string, string> = {}, over: Partial<HostFacts> = {}): HostFacts => ({
  platform: 'linux',
  uid: 0,
  home: '/home/u',
  readFile: (p) => files[p],
  ...over,
});
const KUBECONFIG = 'apiVersion: v1\nkind: Config\ncurrent-context: prod\n';

describe('chooseProvider', () => {
  it('KUBECONFIG wins over the lab', () => {
    expect(chooseProvider({ KUBECONFIG: '/k/a' }, host({ '/k/a': KUBECONFIG }))).toMatchObject({ provider: 'kubeconfig', kubeconfig: '/k/a' });
  });
  it('a current context in ~/.kube/config is the user cluster; without one, the lab', () => {
    expect(chooseProvider({}, host({ '/home/u/.kube/config': KUBECONFIG })).provider).toBe('kubeconfig');
    expect(chooseProvider({}, host({ '/home/u/.kube/config': 'apiVersion: v1\nkind: Config\n' })).provider).toBe('lab');
    expect(chooseProvider({}, host()).provider).toBe('lab');
  });
  it('SLI_PROVIDER chooses explicitly and is validated', () => {
    expect(chooseProvider({ SLI_PROVIDER: 'kind', KUBECONFIG: '/k/a' }, host({ '/k/a': KUBECONFIG })).provider).toBe('kind');
    expect(() => chooseProvider({ SLI_PROVIDER: 'minikube' }, host())).toThrow(/SLI_PROVIDER="minikube" is not a provider: use one of kubeconfig, lab, kind, k3s/);
  });
  it('explains why the lab cannot run, with the ways out', () => {
    expect(() => chooseProvider({}, host({}, { uid: 1000 }))).toThrow(/needs root .*set KUBECONFIG/);
    expect(() => chooseProvider({}, host({}, { platform: 'darwin' }))).toThrow(/needs Linux \(this is darwin\)/);
  });
  it('a KUBECONFIG that points nowhere is an error naming the path', () => {
    expect(() => chooseProvider({ KUBECONFIG: '/nope/config' }, host())).toThrow(/no kubeconfig file exists at \/nope\/config/);
  });
});

describe('kind and k3s configuration', () => {
  it('kind: the proxy mode under test and the node count', () => {
    const yaml = kindClusterConfig({ proxyMode: 'iptables', workers: 2, nodeImage: 'kindest/node:v1.34.0' });
    expect(yaml).toContain('  kubeProxyMode: iptables');
    expect(yaml.match(/role: worker/g)).toHaveLength(2);
    expect(yaml).toContain('image: kindest/node:v1.34.0');
    expect(kindClusterName({ proxyMode: 'iptables' })).toBe('kube-sli-iptables');
    expect(() => kindClusterConfig({ proxyMode: 'ipvs' as never })).toThrow(/proxy mode "ipvs"/);
  });
  it('k3s: kube-proxy mode passed to the server, traefik off', () => {
    expect(k3sServerArgs({ proxyMode: 'nftables' })).toEqual(['server', '--disable=traefik', '--kube-proxy-arg=proxy-mode=nftables']);
    const c = k3sContainer({ proxyMode: 'iptables' }) as unknown as { createOpts: { Cmd?: string[]; Image: string } };
    expect(c.createOpts.Cmd).toContain('--kube-proxy-arg=proxy-mode=iptables');
    expect(c.createOpts.Image).toMatch(/^rancher\/k3s:v1\.34/);
  });
});
