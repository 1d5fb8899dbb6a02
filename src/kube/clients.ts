// @kubernetes/client-node clients for one kubeconfig; the only place that builds them.
import https from 'node:https';
import { delimiter } from 'node:path';
import * as k8s from '@kubernetes/client-node';

export interface KubeClients {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  discovery: k8s.DiscoveryV1Api;
  apps: k8s.AppsV1Api;
  authz: k8s.AuthorizationV1Api;
  coordination: k8s.CoordinationV1Api;
  networking: k8s.NetworkingV1Api;
  version: k8s.VersionApi;
}

/**
 * client-node 1.x builds a new https.Agent for every request, so every call pays a TLS
 * handshake (measured: ~50 objects/s against the lab). This KubeConfig keeps client-node's
 * authentication but hands every request one keep-alive agent with the same TLS options.
 * Credentials carried in headers (tokens, exec plugins) are still applied per request.
 */
class KeepAliveKubeConfig extends k8s.KubeConfig {
  private shared: https.Agent | undefined;
  private sharedKey: string | undefined;

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof https.Agent)) return; // proxies and plain http: leave as is
    const opts = (fresh as https.Agent & { options: https.AgentOptions }).options;
    const key = JSON.stringify([opts.ca, opts.cert, opts.key, opts.rejectUnauthorized, opts.servername].map(String));
    if (this.shared === undefined || this.sharedKey !== key) {
      this.shared?.destroy();
      this.shared = new https.Agent({ ...opts, keepAlive: true, maxSockets: 64 });
      this.sharedKey = key;
    }
    fresh.destroy();
    context.setAgent(this.shared);
  }
}

/** `context` names the kubeconfig context to use (SLI_CONTEXT); unset: its current context. */
export function kubeClients(kubeconfigPath?: string, context?: string): KubeClients {
  const config = new KeepAliveKubeConfig();
  // a KUBECONFIG list (a:b) is merged as kubectl does: the first file's current context wins
  const [first, ...more] = (kubeconfigPath ?? '').split(delimiter).filter(Boolean);
  if (first) {
    config.loadFromFile(first);
    for (const f of more) {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(f);
      // first definition of a name wins, as in kubectl
      if (!config.currentContext && kc.currentContext) config.setCurrentContext(kc.currentContext);
      for (const c of kc.clusters) if (!config.getCluster(c.name)) config.addCluster(c);
      for (const u of kc.users) if (!config.getUser(u.name)) config.addUser(u);
      for (const c of kc.contexts) if (!config.getContextObject(c.name)) config.addContext(c);
    }
  } else config.loadFromDefault();
  if (context !== undefined) {
    if (!config.getContextObject(context)) throw new Error(`kubeconfig ${kubeconfigPath ?? '(default)'} has no context "${context}": set SLI_CONTEXT to one of ${config.getContexts().map((c) => c.name).join(', ')}`);
    config.setCurrentContext(context);
  }
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    discovery: config.makeApiClient(k8s.DiscoveryV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    authz: config.makeApiClient(k8s.AuthorizationV1Api),
    coordination: config.makeApiClient(k8s.CoordinationV1Api),
    networking: config.makeApiClient(k8s.NetworkingV1Api),
    version: config.makeApiClient(k8s.VersionApi),
  };
}

/** HTTP status of a client-node error, or undefined for non-API errors. */
export function apiStatus(e: unknown): number | undefined {
  return e instanceof k8s.ApiException ? e.code : undefined;
}

/** The API server's own words for a failed request ("Service \"x\" is invalid: …"). */
export function apiMessage(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const body: unknown = typeof e.body === 'string' ? safeJson(e.body) : e.body;
    const msg = body && typeof body === 'object' && 'message' in body ? String(body.message) : undefined;
    return `${e.code}: ${msg ?? e.message.split('\n')[0]}`;
  }
  return (e as Error).message ?? String(e);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
