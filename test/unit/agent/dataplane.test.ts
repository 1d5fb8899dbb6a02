import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataplaneReadError, parseIptablesKubeServices, parseNftServiceMap } from '../../../src/agent/dataplane.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/dataplane/${name}`, import.meta.url), 'utf8');

describe('dataplane Service rules', () => {
  it('nftables: every element of the service-ips map, with or without a comment', () => {
    expect(parseNftServiceMap(fixture('nft-service-ips.json'))).toEqual([
      { ip: '10.96.5.7', protocol: 'tcp', port: 80 },
      { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
    ]);
  });

  it('nftables: output without the map is an error, not an empty dataplane', () => {
    expect(() => parseNftServiceMap('{"nftables":[{"metainfo":{}}]}')).toThrow(DataplaneReadError);
  });

  it('iptables: KUBE-SERVICES ClusterIP rules in chain order, the nodeports rule and other chains left out', () => {
    expect(parseIptablesKubeServices(fixture('iptables-nat.txt'))).toEqual([
      { ip: '10.96.0.1', protocol: 'tcp', port: 443 },
      { ip: '10.96.12.34', protocol: 'tcp', port: 80 },
      { ip: '10.96.3.2', protocol: 'tcp', port: 80 },
    ]);
  });
});
