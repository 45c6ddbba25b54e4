import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

/**
 * Keeps subscription URLs from reaching inside the network the service runs in (server-side
 * request forgery): a URL must be https (or http when allowed), and every address its host
 * resolves to must be public, unless private addresses are allowed. The check runs when a
 * subscription is created and again at each connection, through the socket's own `lookup`, so
 * the address checked is the address connected to even when DNS changes in between.
 */

export type AddressClass =
  'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

export interface UrlPolicy {
  /** http as well as https. */
  readonly allowHttp: boolean;
  /** Loopback, private, link-local and metadata addresses too. */
  readonly allowPrivate: boolean;
}

/** Resolves a host name to all its addresses (node:dns lookup with all: true by default). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

export class UrlRefused extends Error {
  override readonly name = 'UrlRefused';
}

function blockList(entries: readonly [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of entries) list.addSubnet(net, prefix, type);
  return list;
}

// Cloud metadata services: AWS, GCP, Azure (169.254.169.254), AWS over IPv6, Alibaba.
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const LINK_LOCAL = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['fc00::', 7, 'ipv6'], // unique local
]);
const RESERVED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'], // multicast, reserved and broadcast
  ['::', 128, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
]);

/** An IPv4 address carried in an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96). */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1]) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** What kind of address an IP literal is; anything not an IP address is `reserved`. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const version = isIP(bare);
  if (version === 0) return 'reserved';
  if (version === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return classifyAddress(v4);
  }
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.has(bare.toLowerCase())) return 'metadata';
  if (LOOPBACK.check(bare, type)) return 'loopback';
  if (LINK_LOCAL.check(bare, type)) return 'link-local';
  if (PRIVATE.check(bare, type)) return 'private';
  if (RESERVED.check(bare, type)) return 'reserved';
  return 'public';
}

function refuseAddress(host: string, address: string, policy: UrlPolicy): void {
  const kind = classifyAddress(address);
  if (kind !== 'public' && !policy.allowPrivate) {
    throw new UrlRefused(`${host} resolves to a ${kind} address (${address})`);
  }
}

/**
 * Checks a subscription URL: scheme, no credentials, and every address its host resolves to.
 * Throws UrlRefused saying why; resolves to the parsed URL.
 */
export async function checkUrl(
  raw: string,
  policy: UrlPolicy,
  resolve: Resolver = systemResolver,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new UrlRefused(policy.allowHttp ? 'must be http or https' : 'must be https');
  }
  if (url.username !== '' || url.password !== '') {
    throw new UrlRefused('must not carry credentials');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    refuseAddress(host, host, policy);
    return url;
  }
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new UrlRefused(`host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new UrlRefused(`host ${host} does not resolve`);
  for (const { address } of addresses) refuseAddress(host, address, policy);
  return url;
}

/**
 * A socket `lookup` that resolves with `resolve` and fails the connection when any address is
 * refused: the connection goes to an address that was checked, never to one looked up again.
 */
export function guardedLookup(
  policy: UrlPolicy,
  resolve: Resolver = systemResolver,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        try {
          if (addresses.length === 0) throw new UrlRefused(`host ${hostname} does not resolve`);
          for (const { address } of addresses) refuseAddress(hostname, address, policy);
        } catch (error) {
          callback(error as NodeJS.ErrnoException, '', 4);
          return;
        }
        const family = options.family === 6 ? 6 : options.family === 4 ? 4 : 0;
        const usable = addresses.filter((a) => family === 0 || a.family === family);
        if (options.all) {
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [...usable]);
          return;
        }
        const first = usable[0];
        if (!first) callback(new UrlRefused(`host ${hostname} has no IPv${family} address`), '', 4);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => {
        callback(error as NodeJS.ErrnoException, '', 4);
      },
    );
  };
}
