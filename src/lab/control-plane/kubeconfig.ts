// Kubeconfigs with the certificates embedded (base64), so a kubeconfig keeps working when
// copied. Written as JSON, which is YAML: kubectl and @kubernetes/client-node read it.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { CertPair } from '../pki.js';

export const CLUSTER_NAME = 'kube-sli-lab';

export interface KubeconfigSpec {
  server: string;
  caFile: string;
  client: CertPair;
  user: string;
}

export async function buildKubeconfig(s: KubeconfigSpec): Promise<object> {
  const b64 = async (p: string) => (await readFile(p)).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster: { server: s.server, 'certificate-authority-data': await b64(s.caFile) } }],
    users: [
      {
        name: s.user,
        user: { 'client-certificate-data': await b64(s.client.cert), 'client-key-data': await b64(s.client.key) },
      },
    ],
    contexts: [{ name: `${s.user}@${CLUSTER_NAME}`, context: { cluster: CLUSTER_NAME, user: s.user } }],
    'current-context': `${s.user}@${CLUSTER_NAME}`,
    preferences: {},
  };
}

export async function writeKubeconfig(path: string, s: KubeconfigSpec): Promise<string> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(await buildKubeconfig(s), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return path;
}
