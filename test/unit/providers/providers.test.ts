import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeClients } from '../../../src/kube/clients.js';
import { chooseProvider, type HostFacts } from '../../../src/providers/choose.js';
import { describeTargetPlan } from '../../../src/providers/plan.js';
import { ProviderConfigError } from '../../../src/providers/types.js';
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

const TWO_CONTEXTS = `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster: { server: https://prod.example:6443 }
- name: staging
  cluster: { server: https://staging.example:6443 }
users:
- name: u
  user: { token: t }
contexts:
- name: prod
  context: { cluster: prod, user: u }
- name: staging
  context: { cluster: staging, user: u }
`;

describe('chooseProvider', () => {
  it('KUBECONFIG names the target and wins over the lab', () => {
    expect(chooseProvider({ KUBECONFIG: '/k/a' }, host({ '/k/a': KUBECONFIG }))).toMatchObject({ provider: 'kubeconfig', kubeconfig: '/k/a' });
    expect(chooseProvider({ KUBECONFIG: '/k/a' }, host({ '/k/a': KUBECONFIG })).context).toBeUndefined();
  });
  it('KUBECONFIG written as JSON (as the lab writes it) names its current context too', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'lab', cluster: { server: 'https://127.0.0.1:6443' } }], users: [{ name: 'admin', user: {} }], contexts: [{ name: 'admin@lab', context: { cluster: 'lab', user: 'admin' } }], 'current-context': 'admin@lab' });
    expect(chooseProvider({ KUBECONFIG: '/k/lab' }, host({ '/k/lab': json }))).toMatchObject({ provider: 'kubeconfig', kubeconfig: '/k/lab', reason: expect.stringContaining('"admin@lab"') as unknown });
  });
  it('an unnamed current context in ~/.kube/config is refused, with the ways to name it or choose the lab', () => {
    const run = (): unknown => chooseProvider({}, host({ '/home/u/.kube/config': KUBECONFIG }));
    expect(run).toThrow(ProviderConfigError);
    expect(run).toThrow(/\/home\/u\/\.kube\/config has the current context "prod".*SLI_CONTEXT=prod.*SLI_PROVIDER=lab/);
  });
  it('SLI_PROVIDER=kubeconfig alone does not name the context either', () => {
    expect(() => chooseProvider({ SLI_PROVIDER: 'kubeconfig' }, host({ '/home/u/.kube/config': KUBECONFIG }))).toThrow(/SLI_CONTEXT=prod/);
  });
  it('SLI_CONTEXT selects that context of ~/.kube/config, and must exist', () => {
    const files = { '/home/u/.kube/config': TWO_CONTEXTS };
    expect(chooseProvider({ SLI_CONTEXT: 'staging' }, host(files))).toMatchObject({ provider: 'kubeconfig', kubeconfig: '/home/u/.kube/config', context: 'staging' });
    expect(chooseProvider({ SLI_CONTEXT: 'staging', KUBECONFIG: '/k/b' }, host({ '/k/b': TWO_CONTEXTS }))).toMatchObject({ kubeconfig: '/k/b', context: 'staging' });
    expect(() => chooseProvider({ SLI_CONTEXT: 'prdo' }, host(files))).toThrow(/SLI_CONTEXT=prdo is not a context of \/home\/u\/\.kube\/config; its contexts: prod, staging/);
  });
  it('SLI_CONTEXT with a provider that brings its own cluster is a contradiction', () => {
    expect(() => chooseProvider({ SLI_CONTEXT: 'prod', SLI_PROVIDER: 'lab' }, host())).toThrow(/SLI_CONTEXT=prod .* SLI_PROVIDER=lab brings its own cluster/);
  });
  it('a KUBECONFIG without a current context asks for SLI_CONTEXT', () => {
    expect(() => chooseProvider({ KUBECONFIG: '/k/a' }, host({ '/k/a': 'apiVersion: v1\nkind: Config\n' }))).toThrow(/has no current context: name the context with SLI_CONTEXT/);
  });
  it('without KUBECONFIG, SLI_CONTEXT or a current context: the lab', () => {
    expect(chooseProvider({}, host({ '/home/u/.kube/config': 'apiVersion: v1\nkind: Config\n' })).provider).toBe('lab');
    expect(chooseProvider({}, host()).provider).toBe('lab');
    expect(chooseProvider({ SLI_PROVIDER: 'lab' }, host({ '/home/u/.kube/config': KUBECONFIG })).provider).toBe('lab');
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

describe('kubeClients with a named context', () => {
  it('uses SLI_CONTEXT, not the current context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksli-kc-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(file, TWO_CONTEXTS);
      expect(kubeClients(file).config.getCurrentCluster()?.server).toBe('https://prod.example:6443');
      expect(kubeClients(file, 'staging').config.getCurrentCluster()?.server).toBe('https://staging.example:6443');
      expect(() => kubeClients(file, 'nope')).toThrow(/has no context "nope"/);
      // a KUBECONFIG list: merged, the first file's current context wins, SLI_CONTEXT reaches into any file
      const other = join(dir, 'other');
      writeFileSync(other, TWO_CONTEXTS.replace(/prod/g, 'dev').replace('staging.example', 'staging-dup.example'));
      const list = `${other}:${file}`;
      expect(kubeClients(list).config.getCurrentCluster()?.server).toBe('https://dev.example:6443');
      expect(kubeClients(list, 'prod').config.getCurrentCluster()?.server).toBe('https://prod.example:6443');
      expect(kubeClients(list, 'staging').config.getCurrentCluster()?.server).toBe('https://staging-dup.example:6443');
      expect(chooseProvider({ KUBECONFIG: list, SLI_CONTEXT: 'prod' }, host({ [file]: TWO_CONTEXTS, [other]: 'x' }))).toMatchObject({ kubeconfig: list, context: 'prod' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('describeTargetPlan', () => {
  it('names the API server, the nodes and what will be created', () => {
    const text = describeTargetPlan({
      server: 'https://prod.example:6443',
      context: 'prod',
      nodes: ['n1', 'n2'],
      workload: { services: [100, 5000, 1000], clients: 4, bigServiceEndpoints: 1000 },
      agentPrivileged: false,
    }).join('\n');
    expect(text).toContain('API server https://prod.example:6443 (context prod)');
    expect(text).toContain('nodes (2): n1, n2');
    expect(text).toMatch(/up to 5000 Services/);
    expect(text).toMatch(/DaemonSet kube-sli-agent .*capabilities NET_ADMIN, NET_RAW/);
    expect(text).toMatch(/4 loadgen client pods/);
    expect(describeTargetPlan({ server: 's', nodes: [], workload: { services: [1], clients: 1, bigServiceEndpoints: 1 }, agentPrivileged: true }).join('\n')).toMatch(/privileged/);
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
