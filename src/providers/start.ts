// Starts (or reuses) the cluster a provider choice names. A user's cluster is never
// stopped; a lab that was already up in the state dir is reused and left up (so
// `kube-sli lab up` once, then many runs); a lab started here is taken down by stop().
import { freeControlPlanePorts } from '../lab/control-plane/index.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { defaultStateDir } from '../lab/state.js';
import type { ProviderChoice } from './choose.js';
import { startK3s } from './k3s.js';
import { startKind } from './kind.js';
import { PROXY_MODES, ProviderConfigError, ProviderError, type ProxyMode, type StartedCluster } from './types.js';

export interface TargetOptions {
  env?: Record<string, string | undefined>;
  onProgress?: (msg: string) => void;
}

/** SLI_PROXY_MODE for clusters the kit brings (lab, kind, k3s); default nftables. */
export function broughtProxyMode(env: Record<string, string | undefined>): ProxyMode {
  const m = env.SLI_PROXY_MODE ?? 'nftables';
  if (!(PROXY_MODES as readonly string[]).includes(m)) {
    throw new ProviderConfigError(`SLI_PROXY_MODE="${m}" is not a kube-proxy mode the kit can bring up: use ${PROXY_MODES.join(' or ')}`);
  }
  return m as ProxyMode;
}

export interface StartedTarget extends StartedCluster {
  reason: string;
  /** the lab's state dir when the provider is the lab */
  labStateDir?: string;
  /** the kubeconfig context to use (SLI_CONTEXT); unset: its current context */
  context?: string;
  /** the kit started it (and stop() takes it down) */
  owned: boolean;
}

export async function startTarget(choice: ProviderChoice, o: TargetOptions = {}): Promise<StartedTarget> {
  const env = o.env ?? process.env;
  const progress = o.onProgress ?? (() => undefined);
  switch (choice.provider) {
    case 'kubeconfig':
      return {
        provider: 'kubeconfig',
        kubeconfigPath: choice.kubeconfig!,
        ...(choice.context ? { context: choice.context } : {}),
        reason: choice.reason,
        owned: false,
        stop: async () => undefined,
      };
    case 'kind': {
      const c = await startKind({ proxyMode: broughtProxyMode(env) });
      return { ...c, reason: choice.reason, owned: true };
    }
    case 'k3s': {
      const c = await startK3s({ proxyMode: broughtProxyMode(env) });
      return { ...c, reason: choice.reason, owned: true };
    }
    case 'lab': {
      const stateDir = defaultStateDir(env);
      const proxyMode = broughtProxyMode(env);
      const status = await labStatus(stateDir);
      if (status.state === 'up' && status.kubeconfigPath) {
        if (env.SLI_PROXY_MODE && status.proxyMode !== proxyMode) {
          throw new ProviderError(
            `a lab is already up in ${stateDir} in ${status.proxyMode} mode but SLI_PROXY_MODE=${proxyMode}: kube-sli lab down first, or unset SLI_PROXY_MODE to use it`,
          );
        }
        progress(`reusing the lab already up in ${stateDir} (${status.proxyMode}); it stays up afterwards`);
        return { provider: 'lab', kubeconfigPath: status.kubeconfigPath, labStateDir: stateDir, reason: `${choice.reason} (already up)`, owned: false, stop: async () => undefined };
      }
      if (status.state !== 'down') {
        progress(`a lab in ${stateDir} is ${status.state} (left by a crashed run): taking it down first`);
        await labDown(stateDir);
      }
      progress(`starting the embedded lab in ${stateDir} (${proxyMode}); after a crash: kube-sli lab down --state-dir ${stateDir}`);
      const lab = await labUp({
        stateDir,
        proxyMode,
        // a lab the kit brings has the families the run asks for (SLI_IP_FAMILY, validated already)
        ipFamily: env.SLI_IP_FAMILY ?? 'ipv4',
        nodes: env.SLI_LAB_NODES ? Number(env.SLI_LAB_NODES) : undefined,
        ports: await freeControlPlanePorts(),
        onProgress: progress,
      });
      return {
        provider: 'lab',
        kubeconfigPath: lab.kubeconfigPath,
        labStateDir: lab.stateDir,
        reason: choice.reason,
        owned: true,
        stop: async () => {
          progress(`taking the lab down (${lab.stateDir})`);
          await labDown(lab.stateDir);
        },
      };
    }
  }
}
