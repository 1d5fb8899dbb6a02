// The UDP rows of `npm run bench -- overhead` (run by bench/overhead.bench.ts through
// bench/overhead-udp.vitest.config.ts, not a suite: nothing is judged). The request-overhead
// scene's kit server echoes UDP on its TCP port, so the same four paths carry UDP
// request/response exchanges (the shape of DNS): the host-network pod on its port at the
// node's address, the pod IP, and a UDP NodePort Service in front of the same pod (its
// ClusterIP and its NodePort on the server node). One open-loop leg per path, A B C D D C B A
// (fixtures/measure-udp.ts measureUdpPaths); client round trips only. Rows go to the JSON
// file OVERHEAD_UDP_OUT names.
import { writeFile } from 'node:fs/promises';
import { test } from '../fixtures/index.js';
import { waitTargetsProgrammed } from '../fixtures/measure.js';
import { measureUdpPaths, type UdpPathFigures } from '../fixtures/measure-udp.js';
import { PATHS } from '../fixtures/overhead.js';
import { addressOfFamily, ipFamilyFields, type IpFamilyName } from '../src/kube/services.js';
import { sessionLabels } from '../src/kube/session.js';
import { APP_LABEL } from '../src/kube/workloads.js';

export interface UdpBenchRow {
  family: IpFamilyName;
  figures: UdpPathFigures;
  rate: number;
}

test('UDP over the four request-overhead paths', async ({ run, overhead, agent, namespace }) => {
  const out = process.env.OVERHEAD_UDP_OUT;
  if (!out) throw new Error('OVERHEAD_UDP_OUT: set it to the JSON file the rows go to (bench/overhead.bench.ts does)');
  const name = `${overhead.backend.name}-udp`;
  const svc = await run.clients.core.createNamespacedService({
    namespace,
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels: sessionLabels(run.target.session) },
      spec: { type: 'NodePort', ...ipFamilyFields(overhead.families), selector: { [APP_LABEL]: overhead.backend.name }, ports: [{ name: 'udp', protocol: 'UDP', port: 53, targetPort: overhead.backend.targetPort }] },
    },
  });
  const nodePort = svc.spec!.ports![0]!.nodePort!;
  const clusterIps = svc.spec!.clusterIPs ?? [svc.spec!.clusterIP!];
  const rows: UdpBenchRow[] = [];
  const w = run.config.workload;
  for (const family of overhead.families) {
    const tcp = overhead.targetsOf(family);
    const vip = { host: addressOfFamily(clusterIps, family)!, port: 53 };
    await waitTargetsProgrammed(run.target.facts.proxyMode, agent, [vip], 1);
    const targets = {
      'host-network': tcp['host-network'],
      'pod-ip': tcp['pod-ip'],
      'cluster-ip': vip,
      'node-port': { host: tcp['node-port'].host, port: nodePort },
    };
    const figures = await measureUdpPaths([overhead.client], w, PATHS.map((path) => ({ path, targets: [targets[path]] })));
    for (const f of figures) {
      run.log(`udp ${family} ${f.path}: sent ${f.sent}, answered ${f.answered}, loss ${(f.lossRatio * 100).toFixed(2)} %, p50 ${(f.p50Seconds * 1000).toFixed(3)} ms, p99 ${(f.p99Seconds * 1000).toFixed(3)} ms, p99.9 ${(f.p999Seconds * 1000).toFixed(3)} ms, late p99 ${(f.lateP99Seconds * 1000).toFixed(3)} ms`);
      rows.push({ family, figures: f, rate: w.udpRate });
    }
  }
  await writeFile(out, JSON.stringify(rows));
  await run.clients.core.deleteNamespacedService({ namespace, name }).catch(() => undefined);
});
