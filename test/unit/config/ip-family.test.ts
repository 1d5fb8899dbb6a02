// SLI_IP_FAMILY and what it changes without a cluster: validation of the knob, the check
// against what a cluster has (the error names the knob, the cluster's ranges and the fix),
// the Services' ipFamilies and EndpointSlices per family, and the parsers that must read
// IPv6 (kube-proxy's ip6tables rules, Host headers).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadRunConfig, runFamilies } from '../../../src/config/knobs.js';
import { clusterIpFamilies } from '../../../src/kube/facts.js';
import { addressOfFamily, ipFamilyFields, syntheticEndpointSlices, syntheticService, type ServiceSetSpec } from '../../../src/kube/services.js';
import { backendManifests } from '../../../src/kube/workloads.js';
import { benchmarkAddress6, fillerEndpoints, fillerServiceSet } from '../../../fixtures/big-service.js';
import { parseIptablesKubeServices } from '../../../src/agent/dataplane.js';
import { hostHeader, requestFor } from '../../../src/workload/protocol.js';

function configProblems(env: Record<string, string>): string[] {
  try {
    loadRunConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('SLI_IP_FAMILY', () => {
  it('is ipv4 by default; ipv6 and dual on request', () => {
    expect(loadRunConfig({}).workload.ipFamily).toBe('ipv4');
    expect(loadRunConfig({ SLI_IP_FAMILY: 'ipv6' }).workload.ipFamily).toBe('ipv6');
    expect(loadRunConfig({ SLI_IP_FAMILY: 'dual' }).workload.ipFamily).toBe('dual');
  });
  it('anything else is refused with the knob and the choices, among every other problem', () => {
    const p = configProblems({ SLI_IP_FAMILY: 'IPv6', CLIENTS: 'zero' });
    expect(p).toHaveLength(2);
    expect(p.join('\n')).toMatch(/env SLI_IP_FAMILY="IPv6": not an IP family; use ipv4, ipv6, dual/);
  });
});

describe('runFamilies: SLI_IP_FAMILY against the cluster', () => {
  const v4 = { ipFamilies: ['ipv4' as const], serviceCidrs: ['10.96.0.0/16'], podCidrs: ['10.244.0.0/24'] };
  const v6 = { ipFamilies: ['ipv6' as const], serviceCidrs: ['fd00:10:96::/112'], podCidrs: ['fd00:10:244::/64'] };
  const dual6 = { ipFamilies: ['ipv6' as const, 'ipv4' as const], serviceCidrs: ['fd00:10:96::/112', '10.96.0.0/16'], podCidrs: ['fd00:10:244::/64', '10.244.0.0/24'] };
  it('a family the cluster has', () => {
    expect(runFamilies('ipv4', v4)).toEqual(['ipv4']);
    expect(runFamilies('ipv6', v6)).toEqual(['ipv6']);
    expect(runFamilies('ipv4', dual6)).toEqual(['ipv4']);
  });
  it('dual follows the cluster: its primary family first', () => {
    expect(runFamilies('dual', dual6)).toEqual(['ipv6', 'ipv4']);
  });
  it('a family the cluster lacks: the knob, what the cluster has, and the fix', () => {
    expect(() => runFamilies('ipv6', v4)).toThrow(ConfigError);
    expect(() => runFamilies('ipv6', v4)).toThrow(/SLI_IP_FAMILY=ipv6: the cluster has no ipv6 \(it has ipv4: Service CIDRs 10\.96\.0\.0\/16, pod CIDRs 10\.244\.0\.0\/24\); set SLI_IP_FAMILY=ipv4.*kube-sli lab up --ip-family ipv6/);
    expect(() => runFamilies('ipv4', v6)).toThrow(/SLI_IP_FAMILY=ipv4: the cluster has no ipv4 .*set SLI_IP_FAMILY=ipv6 \(ipv4 is the default\)/);
    expect(() => runFamilies('dual', v4)).toThrow(/SLI_IP_FAMILY=dual: the cluster has no ipv6 .*--ip-family dual/);
  });
  it('the cluster\'s families are those with a Service range and a pod range, in the Service ranges\' order', () => {
    expect(clusterIpFamilies(['fd00:10:96::/112', '10.96.0.0/16'], ['10.244.0.0/24', 'fd00:10:244::/64'])).toEqual(['ipv6', 'ipv4']);
    // an IPv6 Service range without IPv6 pods is no IPv6 cluster
    expect(clusterIpFamilies(['10.96.0.0/16', 'fd00:10:96::/112'], ['10.244.0.0/24'])).toEqual(['ipv4']);
  });
});

describe('Services by family', () => {
  it('one family is SingleStack of it, two RequireDualStack in order, none the cluster default', () => {
    expect(ipFamilyFields(['ipv6'])).toEqual({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
    expect(ipFamilyFields(['ipv4', 'ipv6'])).toEqual({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    expect(ipFamilyFields()).toEqual({});
    const b = backendManifests({ namespace: 'n', session: 's', name: 'b', replicas: 1, port: 8080, families: ['ipv6'] });
    expect(b.service.spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
    expect(backendManifests({ namespace: 'n', session: 's', name: 'b', replicas: 1, port: 8080 }).service.spec?.ipFamilies).toBeUndefined();
  });
  it('a dual-stack filler Service gets one EndpointSlice per family, each with its family\'s pod IPs', () => {
    const pods = { ipv4: ['10.244.0.5', '10.244.1.5'], ipv6: ['fd00:10:244::5', 'fd00:10:244:1::5'] };
    const spec = fillerServiceSet({ namespace: 'n', session: 's', first: 0, count: 2, perService: 3, podIps: pods.ipv4, targetPort: 8080, families: ['ipv4', 'ipv6'], podIpsOf: (f) => pods[f] });
    expect(syntheticService(spec, 1).spec).toMatchObject({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    const slices = syntheticEndpointSlices(spec, 1);
    expect(slices.map((s) => [s.metadata?.name, s.addressType])).toEqual([
      ['sli-fill-1-sli', 'IPv4'],
      ['sli-fill-1-sli6', 'IPv6'],
    ]);
    expect(slices[1]!.endpoints.map((e) => e.addresses[0])).toEqual(['fd00:10:244:1::5', 'fd00:10:244::5', '2001:2::1']);
    expect(slices[0]!.endpoints.map((e) => e.addresses[0])).toEqual(['10.244.1.5', '10.244.0.5', '198.18.0.1']);
  });
  it('a Service set without families keeps one slice, typed by its addresses', () => {
    const spec: ServiceSetSpec = { namespace: 'n', session: 's', count: 1, endpointsPerService: 1, endpointIps: () => ['fd00::7'] };
    expect(syntheticEndpointSlices(spec, 0).map((s) => [s.metadata?.name, s.addressType])).toEqual([['sli-svc-0-sli6', 'IPv6']]);
    expect(syntheticService(spec, 0).spec?.ipFamilyPolicy).toBeUndefined();
  });
  it('IPv6 fillers beyond the pods use RFC 5180\'s benchmarking range, and never a pod of the other family', () => {
    expect(benchmarkAddress6(0)).toBe('2001:2::1');
    expect(benchmarkAddress6(70000)).toBe('2001:2::1:1171');
    expect(fillerEndpoints(0, 2, ['fd00::5'])).toEqual({ ips: ['fd00::5', '2001:2::1'], reachable: false });
  });
  it('picks the address of a family among clusterIPs or podIPs', () => {
    expect(addressOfFamily(['10.96.0.10', 'fd00:10:96::a'], 'ipv6')).toBe('fd00:10:96::a');
    expect(addressOfFamily(['10.96.0.10'], 'ipv6')).toBeUndefined();
  });
});

describe('IPv6 on the wire and in the rules', () => {
  it('kube-proxy\'s ip6tables KUBE-SERVICES rules (recorded from kube-proxy v1.34 in iptables mode)', () => {
    const text = [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      '-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m comment --comment "sli-x/backend:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEF',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      'COMMIT',
    ].join('\n');
    expect(parseIptablesKubeServices(text)).toEqual([
      { ip: 'fd00:10:96::a', protocol: 'tcp', port: 80 },
      { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
    ]);
  });
  it('an IPv6 host is bracketed in the Host header (RFC 3986)', () => {
    expect(hostHeader('fd00:10:96::a')).toBe('[fd00:10:96::a]');
    expect(hostHeader('10.96.0.10')).toBe('10.96.0.10');
    expect(hostHeader('[fd00::1]')).toBe('[fd00::1]');
    expect(requestFor('/bytes/1', 'fd00::1')).toContain('\r\nHost: [fd00::1]\r\n');
  });
});
