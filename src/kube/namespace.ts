// Deleting a namespace and waiting until it is gone (the namespace controller empties it
// first), without failing the caller when it takes too long: gc finishes what is left.
import { apiStatus, type KubeClients } from './clients.js';
import { TIMEOUTS } from '../timeouts.js';
import { waitFor } from '../wait-for.js';

export async function deleteNamespace(clients: KubeClients, name: string, log: (msg: string) => void): Promise<void> {
  try {
    await clients.core.deleteNamespace({ name });
  } catch (e) {
    if (apiStatus(e) === 404) return;
    throw e;
  }
  try {
    await waitFor(
      async () => {
        try {
          const ns = await clients.core.readNamespace({ name });
          return { pending: ns.status?.phase ?? 'present' };
        } catch (e) {
          if (apiStatus(e) === 404) return true;
          throw e;
        }
      },
      { timeout: TIMEOUTS.namespaceGoneMs, interval: TIMEOUTS.namespacePollMs, what: `namespace ${name} gone` },
    );
  } catch (e) {
    log(`${(e as Error).message}; kube-sli gc will finish it`);
  }
}
