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
  ['fec0::', 10], // site-local, deprecated (RFC 3879) but still routed inside some networks
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail and a zone id allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const middle = tail === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  return [...front, ...middle, ...back].map((group) => parseInt(group, 16));
}

/**
 * The IPv4 address an IPv6 address stands for when a translator on the path would deliver it
 * there: NAT64's well-known prefix `64:ff9b::/96` (RFC 6052), 6to4 `2002::/16` (RFC 3056), SIIT's
 * `::ffff:0:0/96` and the deprecated IPv4-compatible `::/96`. `64:ff9b::a9fe:a9fe` reaches
 * 169.254.169.254 on a network with NAT64 (an IPv6-only cluster), so it is judged as that address.
 */
function embeddedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zero = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!);
  if (zero(0, 6) && !zero(6, 8)) return v4(g[6]!, g[7]!);
  return undefined;
}

/**
 * True for an address a public service could have. IPv4-mapped IPv6 addresses, and those a
 * translator maps to IPv4 (NAT64, 6to4, SIIT, IPv4-compatible), are judged as that IPv4 address.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const ipv4 = embeddedIPv4(address);
    if (ipv4 !== undefined) return isPublicAddress(ipv4);
  }
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
