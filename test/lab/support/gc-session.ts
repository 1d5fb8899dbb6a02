// A kit session as test/lab/gc.test.ts needs one to die: a labelled namespace with a
// heartbeat, 50 Services with EndpointSlices, an agnhost Deployment; prints "ready" and
// then idles until killed (SIGKILL: no clean-up runs).
// usage: node --import tsx test/lab/support/gc-session.ts KUBECONFIG SESSION
import { kubeClients } from '../../../src/kube/clients.js';
import { startHeartbeat } from '../../../src/kube/heartbeat.js';
import { createServiceSet } from '../../../src/kube/services.js';
import { sessionLabels } from '../../../src/kube/session.js';

const [kubeconfig, session] = process.argv.slice(2);
if (!kubeconfig || !session) {
  console.error('usage: gc-session.ts KUBECONFIG SESSION');
  process.exit(2);
}
const clients = kubeClients(kubeconfig);
const namespace = `sli-${session}`;
const labels = sessionLabels(session);

await clients.core.createNamespace({ body: { metadata: { name: namespace, labels } } });
const heartbeat = startHeartbeat(clients, namespace, { intervalMs: 250 });
await heartbeat.first;
if (heartbeat.beats !== 1) throw new Error(`first heartbeat failed: ${JSON.stringify(heartbeat.errors)}`);
await createServiceSet(clients, {
  namespace,
  session,
  count: 50,
  endpointsPerService: 1,
  endpointIps: (i) => [`10.244.200.${i + 1}`],
});
const app = { ...labels, app: 'agnhost' };
await clients.apps.createNamespacedDeployment({
  namespace,
  body: {
    metadata: { name: 'agnhost', labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'agnhost', 'sli.kube-sli.io/session': session } },
      template: {
        metadata: { labels: app },
        spec: {
          containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.56', args: ['netexec', '--http-port=8080'] }],
        },
      },
    },
  },
});
console.log('ready');
// the heartbeat's timer is unref'd: keep the process alive until it is killed
setInterval(() => undefined, 1 << 30);
