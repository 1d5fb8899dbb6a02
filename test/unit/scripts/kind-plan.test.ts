// scripts/kind.mjs: arguments → the kind cluster it makes (planKind, pure), and that the
// configuration is src/providers/kind.ts's. No kind or Docker runs here.
import { describe, expect, it } from 'vitest';
import { kindClusterConfig } from '../../../src/providers/kind.js';

interface KindPlan {
  action: 'up' | 'down' | 'config' | 'help';
  name: string;
  config: { proxyMode: string; workers?: number; nodeImage?: string };
}
interface KindModule {
  planKind: (argv: string[]) => KindPlan;
  KindPlanError: new (message: string) => Error & { exitCode: number };
}
const { planKind, KindPlanError } = (await import(new URL('../../../scripts/kind.mjs', import.meta.url).href)) as KindModule;

describe('scripts/kind.mjs', () => {
  it('up: the proxy mode names the cluster unless --name does; options go to kindClusterConfig', () => {
    expect(planKind(['up'])).toEqual({ action: 'up', name: 'kube-sli-nftables', config: { proxyMode: 'nftables' } });
    expect(planKind(['up', '--proxy-mode', 'iptables'])).toEqual({ action: 'up', name: 'kube-sli-iptables', config: { proxyMode: 'iptables' } });
    const p = planKind(['up', '--proxy-mode', 'iptables', '--name', 'ci-1', '--workers', '0', '--node-image', 'kindest/node:v1.34.0']);
    expect(p).toEqual({ action: 'up', name: 'ci-1', config: { proxyMode: 'iptables', workers: 0, nodeImage: 'kindest/node:v1.34.0' } });
    expect(kindClusterConfig(p.config as Parameters<typeof kindClusterConfig>[0])).toContain('kubeProxyMode: iptables');
    expect(planKind(['down', '--name', 'ci-1'])).toMatchObject({ action: 'down', name: 'ci-1' });
    expect(planKind(['down', '--proxy-mode', 'iptables']).name).toBe('kube-sli-iptables');
    expect(planKind(['config']).action).toBe('config');
    expect(planKind(['--help']).action).toBe('help');
  });

  it.each([
    [[], /missing command/],
    [['create'], /unknown command "create"/],
    [['up', '--proxy-mode', 'ipvs'], /--proxy-mode "ipvs" must be iptables or nftables/],
    [['up', '--name', 'Not_OK'], /--name "Not_OK" is not a kind cluster name/],
    [['up', '--workers', '21'], /--workers "21" must be an integer 0-20/],
    [['up', '--workers', '-1'], /argument is ambiguous|must be an integer/],
    [['up', '--node-image', 'a b'], /--node-image "a b" is not an image reference/],
    [['down', '--workers', '2'], /Unknown option '--workers'/],
  ])('%j is refused with exit code 2', (argv, message) => {
    let err: unknown;
    try {
      planKind(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KindPlanError);
    expect((err as { exitCode: number }).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
  });
});
