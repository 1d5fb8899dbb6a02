// The kit's tiny HTTP/1.1 dialect: enough for `GET /bytes/N` (a response body of N bytes,
// then the server closes) so client and server agree on exact byte counts, and plain
// enough that any HTTP server (agnhost netexec's /echo) can stand in as a backend.

export const MAX_RESPONSE_BYTES = 16 * 1024 ** 3;

export function requestFor(path: string, host: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${hostHeader(host)}\r\nUser-Agent: kube-sli\r\nConnection: close\r\n\r\n`;
}

/** An address as URL and Host header write it: IPv6 in brackets (RFC 3986 §3.2.2). */
export function hostHeader(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Body size asked for by `/bytes/N`, or undefined for any other path. */
export function requestedBytes(path: string): number | undefined {
  const m = /^\/bytes\/(\d+)$/.exec(path);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n <= MAX_RESPONSE_BYTES ? n : undefined;
}
