import { describe, expect, it } from 'vitest';
import {
  LabNetworkConfigError,
  MAX_IFNAME,
  MAX_NODES,
  classifyNetns,
  ipv4InCidr,
  planNetwork,
  podHash,
  podHostIface,
  podNetnsName,
  type LabNetworkOptions,
} from '../../../src/lab/network/plan.js';

function configError(opts: LabNetworkOptions): LabNetworkConfigError {
  try {
    planNetwork(opts);
  } catch (e) {
    if (e instanceof LabNetworkConfigError) return e;
    throw e;
  }
  throw new Error('expected a LabNetworkConfigError');
}

describe('lab network plan', () => {
  it('computes names, InternalIPs, podCIDRs and the fabric address with defaults', () => {
    const plan = planNetwork({ labId: 'a1' });
    expect(plan.prefix).toBe('ksli-lab-a1-');
    expect(plan.fabric).toEqual({ netns: 'ksli-lab-a1-fabric', bridge: 'br0', address: '10.200.0.1', addresses: ['10.200.0.1'] });
    expect(plan.ipFamily).toBe('ipv4');
    expect(plan.families).toEqual(['ipv4']);
    expect(plan.nodePrefixLength).toBe(24);
    expect(plan.nodes).toEqual([
      {
        index: 0,
        name: 'node0',
        netns: 'ksli-lab-a1-node0',
        iface: 'eth0',
        fabricIface: 'node0',
        internalIp: '10.200.0.2',
        podCidr: '10.244.0.0/24',
        podIpRange: { first: '10.244.0.2', last: '10.244.0.254' },
        internalIps: ['10.200.0.2'],
        podCidrs: ['10.244.0.0/24'],
      },
      {
        index: 1,
        name: 'node1',
        netns: 'ksli-lab-a1-node1',
        iface: 'eth0',
        fabricIface: 'node1',
        internalIp: '10.200.0.3',
        podCidr: '10.244.1.0/24',
        podIpRange: { first: '10.244.1.2', last: '10.244.1.254' },
        internalIps: ['10.200.0.3'],
        podCidrs: ['10.244.1.0/24'],
      },
    ]);
    expect(plan.serviceCidr).toBe('10.96.0.0/16');
    expect(plan.podGateway).toBe('169.254.1.1');
  });

  it('keeps every interface name within 15 characters, also at the maximum', () => {
    const plan = planNetwork({ labId: 'abcdefgh', nodes: MAX_NODES });
    for (const n of plan.nodes) {
      expect(n.iface.length).toBeLessThanOrEqual(MAX_IFNAME);
      expect(n.fabricIface.length).toBeLessThanOrEqual(MAX_IFNAME);
    }
    expect(podHostIface(podHash('abcdefgh', 'default/some-very-long-pod-name')).length).toBeLessThanOrEqual(MAX_IFNAME);
    expect(new Set(plan.nodes.map((n) => n.internalIp)).size).toBe(MAX_NODES);
    expect(plan.nodes.at(-1)!.podCidr).toBe('10.244.49.0/24');
    expect(plan.nodes.at(-1)!.internalIp).toBe('10.200.0.51');
  });

  it('honours custom ranges and pod prefix', () => {
    const plan = planNetwork({ labId: 'x', nodes: 3, nodeCidr: '192.168.50.0/29', clusterCidr: '172.20.0.0/20', podCidrPrefix: 26, serviceCidr: '172.21.0.0/24' });
    expect(plan.nodes.map((n) => [n.internalIp, n.podCidr])).toEqual([
      ['192.168.50.2', '172.20.0.0/26'],
      ['192.168.50.3', '172.20.0.64/26'],
      ['192.168.50.4', '172.20.0.128/26'],
    ]);
    expect(plan.nodes[1]!.podIpRange).toEqual({ first: '172.20.0.66', last: '172.20.0.126' });
    expect(plan.fabric.address).toBe('192.168.50.1');
  });

  it('rejects node counts below 1, fractional or above the maximum', () => {
    expect(configError({ labId: 'a', nodes: 0 }).option).toBe('nodes');
    expect(configError({ labId: 'a', nodes: 1.5 }).option).toBe('nodes');
    const e = configError({ labId: 'a', nodes: MAX_NODES + 1 });
    expect(e.option).toBe('nodes');
    expect(e.message).toContain(`at most ${MAX_NODES}`);
  });

  it('rejects bad lab ids with the rule', () => {
    for (const labId of ['', 'UPPER', 'has-dash', 'waytoolong1', 'a/b']) {
      const e = configError({ labId });
      expect(e.option).toBe('labId');
      expect(e.message).toMatch(/1-8 lowercase letters or digits/);
    }
  });

  it('names both ranges when they overlap', () => {
    const e = configError({ labId: 'a', clusterCidr: '10.0.0.0/8' });
    expect(e.option).toBe('clusterCidr');
    expect(e.message).toContain('overlaps nodeCidr 10.200.0.0/24');
    const s = configError({ labId: 'a', serviceCidr: '10.244.128.0/20' });
    expect(s.option).toBe('serviceCidr');
    expect(s.message).toContain('clusterCidr 10.244.0.0/16');
  });

  it('rejects reserved ranges, IPv6, host bits and garbage', () => {
    expect(configError({ labId: 'a', nodeCidr: '127.1.0.0/24' }).message).toContain('loopback');
    expect(configError({ labId: 'a', serviceCidr: '169.254.0.0/24' }).message).toContain('link-local');
    expect(configError({ labId: 'a', clusterCidr: 'fd00::/64' }).message).toContain('clusterCidr6');
    expect(configError({ labId: 'a', nodeCidr: '10.200.0.5/24' }).message).toContain('use 10.200.0.0/24');
    expect(configError({ labId: 'a', serviceCidr: 'banana' }).option).toBe('serviceCidr');
    expect(configError({ labId: 'a', serviceCidr: '10.300.0.0/16' }).option).toBe('serviceCidr');
  });

  it('says how large the node range must be for the node count', () => {
    const e = configError({ labId: 'a', nodes: 6, nodeCidr: '10.200.0.0/29' });
    expect(e.option).toBe('nodeCidr');
    expect(e.message).toContain('room for 5 nodes but nodes=6');
    expect(e.message).toContain('/28');
    expect(configError({ labId: 'a', nodeCidr: '10.200.0.0/30' }).message).toContain('/29 or larger');
  });

  it('says when the cluster range cannot give every node a pod range', () => {
    const e = configError({ labId: 'a', nodes: 5, clusterCidr: '10.244.0.0/22' });
    expect(e.option).toBe('clusterCidr');
    expect(e.message).toContain('holds 4 /24 pod ranges but nodes=5');
    expect(configError({ labId: 'a', podCidrPrefix: 16 }).option).toBe('podCidrPrefix');
    expect(configError({ labId: 'a', podCidrPrefix: 30 }).option).toBe('podCidrPrefix');
  });

  it('names pods by a short stable hash and classifies lab namespaces', () => {
    const h = podHash('a1', 'default/web-0');
    expect(h).toMatch(/^[0-9a-f]{8}$/);
    expect(podHash('a1', 'default/web-0')).toBe(h);
    expect(podHash('a2', 'default/web-0')).not.toBe(h);
    expect(podHash('a1', 'default/web-0', 1)).not.toBe(h);
    expect(podNetnsName('a1', h)).toBe(`ksli-lab-a1-pod-${h}`);
    expect(classifyNetns('a1', `ksli-lab-a1-pod-${h}`)).toBe('pod');
    expect(classifyNetns('a1', 'ksli-lab-a1-node3')).toBe('node');
    expect(classifyNetns('a1', 'ksli-lab-a1-fabric')).toBe('fabric');
    expect(classifyNetns('a1', 'ksli-lab-a12-fabric')).toBeUndefined();
    expect(classifyNetns('a1', 'ksli-k123-0-n')).toBeUndefined();
  });

  it('tests membership of addresses in ranges', () => {
    expect(ipv4InCidr('10.244.1.7', '10.244.1.0/24')).toBe(true);
    expect(ipv4InCidr('10.244.2.0', '10.244.1.0/24')).toBe(false);
  });
});

describe('egress selector config', () => {
  it('points kube-apiserver cluster egress at the unix socket with HTTPConnect', async () => {
    const { egressSelectorConfig } = await import('../../../src/lab/network/egress.js');
    expect(egressSelectorConfig('/run/ksli/egress.sock')).toBe(
      [
        'apiVersion: apiserver.k8s.io/v1beta1',
        'kind: EgressSelectorConfiguration',
        'egressSelections:',
        '- name: cluster',
        '  connection:',
        '    proxyProtocol: HTTPConnect',
        '    transport:',
        '      uds:',
        '        udsName: /run/ksli/egress.sock',
        '',
      ].join('\n'),
    );
  });

  describe('IP families', () => {
    it('an ipv6 lab has only IPv6: unique-local InternalIPs, a /64 per node, a /112 Service range', () => {
      const plan = planNetwork({ labId: 'a1', ipFamily: 'ipv6' });
      expect(plan.families).toEqual(['ipv6']);
      expect(plan.fabric.addresses).toEqual(['fd00:10:200::1']);
      expect(plan.fabric.address).toBe('fd00:10:200::1');
      expect(plan.serviceCidrs).toEqual(['fd00:10:96::/112']);
      expect(plan.clusterCidrs).toEqual(['fd00:10:244::/56']);
      expect(plan.podCidrPrefixes).toEqual([64]);
      expect(plan.nodePrefixLengths).toEqual([64]);
      expect(plan.nodes.map((n) => [n.internalIp, n.podCidr, n.internalIps, n.podCidrs])).toEqual([
        ['fd00:10:200::2', 'fd00:10:244::/64', ['fd00:10:200::2'], ['fd00:10:244::/64']],
        ['fd00:10:200::3', 'fd00:10:244:1::/64', ['fd00:10:200::3'], ['fd00:10:244:1::/64']],
      ]);
      // ::1 is the pods' gateway on the node side (ptp)
      expect(plan.nodes[1]!.podIpRange).toEqual({ first: 'fd00:10:244:1::2', last: 'fd00:10:244:1:ffff:ffff:ffff:ffff' });
    });

    it('a dual lab is IPv4 first, IPv6 second, everywhere', () => {
      const plan = planNetwork({ labId: 'a1', ipFamily: 'dual', nodes: 3 });
      expect(plan.families).toEqual(['ipv4', 'ipv6']);
      expect(plan.serviceCidrs).toEqual(['10.96.0.0/16', 'fd00:10:96::/112']);
      expect(plan.clusterCidrs).toEqual(['10.244.0.0/16', 'fd00:10:244::/56']);
      expect(plan.fabric.addresses).toEqual(['10.200.0.1', 'fd00:10:200::1']);
      expect(plan.fabric.address).toBe('10.200.0.1');
      expect(plan.nodes[2]!.internalIps).toEqual(['10.200.0.4', 'fd00:10:200::4']);
      expect(plan.nodes[2]!.podCidrs).toEqual(['10.244.2.0/24', 'fd00:10:244:2::/64']);
      expect(plan.nodes[2]!.internalIp).toBe('10.200.0.4');
      // the IPv4 ranges are those of an ipv4 lab
      const v4 = planNetwork({ labId: 'a1', nodes: 3 });
      expect(plan.nodes.map((n) => n.podCidr)).toEqual(v4.nodes.map((n) => n.podCidr));
    });

    it('honours custom IPv6 ranges and pod prefix', () => {
      const plan = planNetwork({ labId: 'x', ipFamily: 'ipv6', nodes: 2, nodeCidr6: 'fd12:3::/120', clusterCidr6: 'fd12:4::/48', podCidrPrefix6: 56, serviceCidr6: 'fd12:5::/108' });
      expect(plan.nodes.map((n) => [n.internalIp, n.podCidr])).toEqual([
        ['fd12:3::2', 'fd12:4::/56'],
        ['fd12:3::3', 'fd12:4:0:100::/56'],
      ]);
      expect(plan.serviceCidr).toBe('fd12:5::/108');
    });

    it('rejects a bad family, IPv4 where IPv6 belongs, reserved and overlapping IPv6 ranges, and sizes kube-apiserver or the controller-manager refuse', () => {
      const bad = configError({ labId: 'a', ipFamily: 'ipv5' as never });
      expect(bad.option).toBe('ipFamily');
      expect(bad.message).toContain('ipv4, ipv6, dual');
      expect(configError({ labId: 'a', ipFamily: 'ipv6', serviceCidr6: '10.96.0.0/16' }).message).toMatch(/is IPv4; serviceCidr6 is an IPv6 range/);
      expect(configError({ labId: 'a', ipFamily: 'ipv6', nodeCidr6: 'fe80::/64' }).message).toContain('link-local');
      expect(configError({ labId: 'a', ipFamily: 'dual', clusterCidr6: '::1/128' }).message).toContain('::/8');
      const o = configError({ labId: 'a', ipFamily: 'ipv6', serviceCidr6: 'fd00:10:244:1::/112' });
      expect(o.option).toBe('serviceCidr6');
      expect(o.message).toContain('overlaps clusterCidr6 fd00:10:244::/56');
      expect(configError({ labId: 'a', ipFamily: 'ipv6', serviceCidr6: 'fd00:10:96::/100' }).message).toContain('/108 or longer');
      expect(configError({ labId: 'a', ipFamily: 'ipv6', podCidrPrefix6: 80 }).option).toBe('podCidrPrefix6');
      expect(configError({ labId: 'a', ipFamily: 'ipv6', nodeCidr6: 'fd00:10:200::5/64' }).message).toContain('use fd00:10:200::/64');
      // an ipv6 lab does not look at the IPv4 options, a dual lab does
      expect(planNetwork({ labId: 'a', ipFamily: 'ipv6', clusterCidr: 'banana' }).families).toEqual(['ipv6']);
      expect(configError({ labId: 'a', ipFamily: 'dual', clusterCidr: 'banana' }).option).toBe('clusterCidr');
    });
  });
});
