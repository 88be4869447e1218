// The http agent's SSRF guard: which hosts a URL may name (the deployment's allow-list) and which
// addresses a name may resolve to. The check runs inside the connection's own DNS lookup, so the
// address checked is the address connected to (no window for DNS rebinding in between).
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { UnrecoverableStageError } from '../domain/errors.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (default: the system resolver, as `fetch` uses). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

interface HostRule {
  /** Lowercase host name or IP (IPv6 without brackets); for a wildcard, the suffix after `*.`. */
  host: string;
  /** Undefined: the scheme's default port only. */
  port: number | undefined;
  wildcard: boolean;
}

/** Addresses no wildcard entry may reach: loopback, private, link-local, CGNAT, multicast, reserved. */
const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast and reserved, 224.0.0.0–255.255.255.255
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** True for an address a public service could have. IPv4-mapped IPv6 addresses are judged as IPv4. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const unbracket = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

function parseRule(entry: string): HostRule {
  const text = entry.trim().toLowerCase();
  const match = /^(\*\.)?(\[[0-9a-f:.]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
    throw new Error(`http agent: allowedHosts entry "${entry}" is not host, host:port, *.domain or *.domain:port`);
  }
  return { host: unbracket(match[2]!), port, wildcard: match[1] !== undefined };
}

export interface HostGuard {
  /** The rule that lets `url` through, or undefined when none does. */
  allows(url: URL): { wildcard: boolean } | undefined;
  /** A `lookup` for node:http that refuses non-public addresses of a wildcard-allowed host. */
  lookupFor(url: URL): LookupFunction;
  /** The allow-list as configured, for messages. */
  readonly entries: readonly string[];
}

const defaultResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The guard for a deployment's `allowedHosts`: `host` (the scheme's default port), `host:port`,
 * `*.domain` (its subdomains) or `*.domain:port`. An exact entry is explicit: its name may resolve
 * to any address (an operator listing `localhost:3000` means it). A wildcard entry reaches only
 * public addresses.
 */
export function createHostGuard(entries: readonly string[], resolve: Resolver = defaultResolver): HostGuard {
  const rules = entries.map(parseRule);
  const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
  function allows(url: URL) {
    const host = unbracket(url.hostname.toLowerCase());
    const port = portOf(url);
    const portMatches = (rule: HostRule) => (rule.port ?? (url.protocol === 'https:' ? 443 : 80)) === port;
    if (rules.some((rule) => !rule.wildcard && rule.host === host && portMatches(rule))) return { wildcard: false };
    const wild = rules.some((rule) => rule.wildcard && host.endsWith(`.${rule.host}`) && isIP(host) === 0 && portMatches(rule));
    return wild ? { wildcard: true } : undefined;
  }
  function lookupFor(url: URL): LookupFunction {
    const publicOnly = allows(url)?.wildcard ?? true;
    return (hostname, options, callback) => {
      resolve(hostname).then(
        (addresses) => {
          const refused = publicOnly ? addresses.find((a) => !isPublicAddress(a.address)) : undefined;
          if (refused) {
            const message = `${hostname} resolves to ${refused.address}, which is not public; only an exact allowedHosts entry may reach it`;
            return callback(new UnrecoverableStageError('HTTP_ADDRESS_REFUSED', message), '', 0);
          }
          const wanted = addresses.filter((a) => !options.family || a.family === options.family);
          if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
          if (options.all) return callback(null, wanted);
          callback(null, wanted[0]!.address, wanted[0]!.family);
        },
        (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
      );
    };
  }
  return { allows, lookupFor, entries: [...entries] };
}
