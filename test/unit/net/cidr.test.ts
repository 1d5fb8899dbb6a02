import { describe, expect, it } from 'vitest';
import { addressFromBytes, cidrContains, parseCidr } from '../../../src/net/cidr.js';

describe('cidr', () => {
  it('matches IPv4 ranges on prefix boundaries', () => {
    const c = parseCidr('10.96.0.0/12');
    expect(cidrContains(c, '10.96.0.1')).toBe(true);
    expect(cidrContains(c, '10.111.255.255')).toBe(true);
    expect(cidrContains(c, '10.112.0.0')).toBe(false);
    expect(cidrContains(c, 'fd00::1')).toBe(false);
  });
  it('matches IPv6 ranges and renders short form', () => {
    const c = parseCidr('fd00:10:96::/112');
    expect(cidrContains(c, 'fd00:10:96::a')).toBe(true);
    expect(cidrContains(c, 'fd00:10:97::a')).toBe(false);
    const bytes = new Uint8Array(16);
    bytes[0] = 0xfd; bytes[15] = 1;
    expect(addressFromBytes(bytes, 0, 16)).toBe('fd00::1');
  });
  it('names the bad input', () => {
    expect(() => parseCidr('10.96.0.0/33')).toThrow(/invalid CIDR "10.96.0.0\/33"/);
  });
});

describe('cidr with host bits set (as written in a lab plan or by hand)', () => {
  it('masks the network address, so the whole range matches', () => {
    const c = parseCidr('10.244.1.7/16');
    expect(cidrContains(c, '10.244.0.1')).toBe(true);
    expect(cidrContains(c, '10.244.255.254')).toBe(true);
    expect(cidrContains(c, '10.245.0.0')).toBe(false);
  });
  it('treats a bare address as a single host', () => {
    const c = parseCidr('192.0.2.1');
    expect(c.prefix).toBe(32);
    expect(cidrContains(c, '192.0.2.1')).toBe(true);
    expect(cidrContains(c, '192.0.2.2')).toBe(false);
  });
});
