// Address-range membership for service CIDRs, on strings and on raw packet bytes.
// ipaddr.js does the parsing (well kept, handles every IPv6 notation); matching on raw
// bytes avoids building a string per packet on the capture hot path.
import ipaddr from 'ipaddr.js';

export interface Cidr {
  family: 4 | 6;
  text: string;
  /** network address bytes (4 or 16) */
  bytes: Uint8Array;
  prefix: number;
}

export class CidrError extends Error {}

export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = trimmed.includes('/')
      ? ipaddr.parseCIDR(trimmed)
      : [ipaddr.parse(trimmed), ipaddr.parse(trimmed).kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new CidrError(
      `invalid CIDR "${text}": expected an address range such as 10.96.0.0/12 or fd00:10:96::/112`,
    );
  }
  const [addr, prefix] = parsed;
  const bytes = Uint8Array.from(addr.toByteArray());
  return { family: addr.kind() === 'ipv4' ? 4 : 6, text: trimmed, bytes, prefix };
}

/** True when the address bytes (4 or 16 long, at `offset` in `buf`) lie inside the range. */
export function cidrContainsBytes(cidr: Cidr, buf: Uint8Array, offset = 0, len = buf.length - offset): boolean {
  if (len !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((buf[offset + i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv6' && cidr.family === 4 && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return cidrContainsBytes(cidr, Uint8Array.from(addr.toByteArray()));
}

export function anyCidrContains(cidrs: readonly Cidr[], address: string): boolean {
  return cidrs.some((c) => cidrContains(c, address));
}

/** Canonical text of an address from raw bytes (IPv6 in RFC 5952 short form). */
export function addressFromBytes(buf: Uint8Array, offset: number, len: 4 | 16): string {
  const part = Array.from(buf.subarray(offset, offset + len));
  return len === 4 ? part.join('.') : ipaddr.fromByteArray(part).toString();
}
