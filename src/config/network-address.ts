// Where an address points: loopback, a private network, or the public internet. Used by the
// production checks on HOST and on the hosts of DATABASE_URL and REDIS_URL.
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

// RFC 1918, carrier-grade NAT (RFC 6598), link-local, IPv6 unique-local and link-local.
const PRIVATE = new BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** A bare address from a URL's hostname (`[::1]` → `::1`). */
function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const address = bare(host).toLowerCase();
  if (address === 'localhost' || address.endsWith('.localhost')) return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An IP address on the public internet: not loopback, private, link-local or a wildcard. A
 * host name is not an IP address and is never called public here (it cannot be known without DNS).
 */
export function isPublicIpAddress(host: string): boolean {
  const address = bare(host);
  const family = isIP(address);
  if (family === 0 || WILDCARDS.has(address) || isLoopbackHost(address)) return false;
  return !PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
