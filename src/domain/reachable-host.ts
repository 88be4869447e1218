// The host to print in an address for a server bound to HOST (the ready lines, the worker's
// metrics URL): what a person on the same machine can paste and reach.

/**
 * A wildcard bind (`0.0.0.0`, `::`) answers on loopback, so `127.0.0.1`; an IPv6 literal gets
 * the brackets a URL needs; any other host is itself (an API bound to `::1` or to one interface
 * does not answer on 127.0.0.1).
 */
export function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
