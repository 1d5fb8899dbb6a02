// k3s through testcontainers for Docker hosts: the K3sContainer from @testcontainers/k3s,
// told which kube-proxy mode to run. (No Docker engine here: the configuration is
// unit-tested; start() runs where Docker does.)
import { K3sContainer } from '@testcontainers/k3s';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROXY_MODES, ProviderError, type ProxyMode, type StartedCluster } from './types.js';

export const DEFAULT_K3S_IMAGE = 'rancher/k3s:v1.34.1-k3s1';

export interface K3sOptions {
  image?: string;
  proxyMode?: ProxyMode;
}

/** The k3s server arguments: traefik off (not under test), kube-proxy in the chosen mode. */
export function k3sServerArgs(o: K3sOptions = {}): string[] {
  const mode = o.proxyMode ?? 'nftables';
  if (!PROXY_MODES.includes(mode)) throw new ProviderError(`proxy mode "${mode}" is not one of ${PROXY_MODES.join(', ')}`);
  return ['server', '--disable=traefik', `--kube-proxy-arg=proxy-mode=${mode}`];
}

export function k3sContainer(o: K3sOptions = {}): K3sContainer {
  return new K3sContainer(o.image ?? DEFAULT_K3S_IMAGE).withCommand(k3sServerArgs(o)).withLabels({ 'sli.kube-sli.io/provider': 'k3s' });
}

export async function startK3s(o: K3sOptions = {}): Promise<StartedCluster> {
  let started;
  try {
    started = await k3sContainer(o).start();
  } catch (e) {
    throw new ProviderError(`SLI_PROVIDER=k3s needs a running Docker engine (testcontainers): ${(e as Error).message}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'kube-sli-k3s-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, started.getKubeConfig(), { mode: 0o600 });
  return {
    provider: 'k3s',
    kubeconfigPath,
    stop: async () => {
      await started.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
