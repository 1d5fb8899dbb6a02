// kind clusters for Docker hosts: a cluster config with the kube-proxy mode under test, and
// the kind CLI to create it, load the kit image and delete it. (No Docker engine here: the
// configuration is unit-tested; the commands run where Docker does.)
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROXY_MODES, ProviderError, type ProxyMode, type StartedCluster } from './types.js';

export interface KindOptions {
  name?: string;
  /** worker nodes besides the control plane (default 1) */
  workers?: number;
  proxyMode?: ProxyMode;
  /** kindest/node image, e.g. kindest/node:v1.34.0 */
  nodeImage?: string;
  /** images to `kind load docker-image` after creation (the kit image) */
  loadImages?: string[];
}

export function kindClusterConfig(o: KindOptions = {}): string {
  const mode = o.proxyMode ?? 'nftables';
  if (!PROXY_MODES.includes(mode)) throw new ProviderError(`proxy mode "${mode}" is not one of ${PROXY_MODES.join(', ')}`);
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 0 || workers > 20) throw new ProviderError(`workers ${workers} must be an integer 0-20`);
  const image = o.nodeImage ? `\n    image: ${o.nodeImage}` : '';
  const nodes = [`  - role: control-plane${image}`, ...Array.from({ length: workers }, () => `  - role: worker${image}`)];
  return [
    'kind: Cluster',
    'apiVersion: kind.x-k8s.io/v1alpha4',
    'networking:',
    `  kubeProxyMode: ${mode}`,
    'nodes:',
    ...nodes,
    '',
  ].join('\n');
}

export function kindClusterName(o: KindOptions): string {
  return o.name ?? `kube-sli-${o.proxyMode ?? 'nftables'}`;
}

export async function startKind(o: KindOptions = {}): Promise<StartedCluster> {
  const name = kindClusterName(o);
  const which = await execa('sh', ['-c', 'command -v kind && command -v docker'], { reject: false });
  if (which.exitCode !== 0) {
    throw new ProviderError('SLI_PROVIDER=kind needs the kind and docker commands and a running Docker engine: install them, or use KUBECONFIG or the embedded lab');
  }
  const dir = await mkdtemp(join(tmpdir(), 'kube-sli-kind-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const create = await execa('kind', ['create', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath, '--config', '-'], {
    input: kindClusterConfig(o),
    reject: false,
  });
  if (create.exitCode !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new ProviderError(`kind create cluster --name ${name} failed: ${String(create.stderr).trim()}`);
  }
  const stop = async (): Promise<void> => {
    await execa('kind', ['delete', 'cluster', '--name', name], { reject: false });
    await rm(dir, { recursive: true, force: true });
  };
  for (const image of o.loadImages ?? []) {
    const load = await execa('kind', ['load', 'docker-image', image, '--name', name], { reject: false });
    if (load.exitCode !== 0) {
      await stop();
      throw new ProviderError(`kind load docker-image ${image} failed: ${String(load.stderr).trim()}`);
    }
  }
  return { provider: 'kind', kubeconfigPath, stop };
}
