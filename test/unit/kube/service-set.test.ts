import { describe, expect, it } from 'vitest';
import { syntheticService, type ServiceSetSpec } from '../../../src/kube/services.js';

describe('syntheticService ClusterIP', () => {
  const spec: ServiceSetSpec = { namespace: 'n', session: 's', count: 2, endpointsPerService: 1, endpointIps: () => ['10.244.0.5'] };
  it('leaves the ClusterIP to the API server unless the set chooses one', () => {
    expect(syntheticService(spec, 1).spec).not.toHaveProperty('clusterIP');
    const chosen = syntheticService({ ...spec, clusterIp: (i) => `10.96.16.${i}` }, 1);
    expect(chosen.spec?.clusterIP).toBe('10.96.16.1');
    expect(chosen.spec?.type).toBe('ClusterIP');
  });
});
