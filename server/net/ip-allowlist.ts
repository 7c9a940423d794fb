import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1 for allowlist purposes. */
export function normaliseIp(ip: string): string {
  if (!ip.startsWith('::')) return ip;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}

/** Validates a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address; returns an error text or undefined. */
export function cidrProblem(value: string): string | undefined {
  const [address, bits, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return `"${value}" is not an IP address or CIDR range`;
  if (bits === undefined) return undefined;
  const n = Number(bits);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(bits) || n > max) return `"${value}" has a prefix length outside 0-${max}`;
  return undefined;
}

/**
 * Whether `ip` may use a credential restricted to `allowlist`. An empty list allows every address.
 */
export function ipAllowed(allowlist: readonly string[], ip: string): boolean {
  if (!allowlist.length) return true;
  const address = normaliseIp(ip);
  const family = isIP(address);
  if (!family) return false;
  const list = new BlockList();
  for (const entry of allowlist) {
    const [net, bits] = entry.split('/');
    const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(bits), type);
  }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}
