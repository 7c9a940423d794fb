import { isIPv6 } from 'node:net';
import { normaliseIp } from '../../net/ip-allowlist.js';

/**
 * The address a limit counts. IPv4 addresses count one by one. An IPv6 host is usually given a whole
 * /64 (RFC 6177), so counting single IPv6 addresses would let one attacker rotate through 2^64 of
 * them: IPv6 is counted by its /64 prefix.
 */
export function limitAddress(ip: string): string {
  const address = normaliseIp(ip);
  // Every IPv6 address has a colon and no IPv4 address has one: the common case skips the parser.
  if (!address.includes(':') || !isIPv6(address)) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
