import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where the server's own outgoing requests may go. Webhook deliveries and Shared Signals pushes are
 * sent to URLs that administrators or receivers register; without this check a registration could
 * make the server call its own network (SSRF, OWASP ASVS 5.2.6): a cloud metadata endpoint, an
 * internal service, a port scan read from delivery statuses. Loopback, private and other
 * special-use addresses (RFC 6890) are refused unless OUTBOUND_PRIVATE_ADDRESSES=true, the same
 * switch that lifts oidc-provider's own guard on jwks_uri and back-channel logout.
 *
 * The name is resolved here and again by fetch, so a DNS answer that changes in between (rebinding)
 * is not caught; redirects are not followed by the callers, so a public URL cannot hand over to a
 * private one.
 */
const SPECIAL_USE = new BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [['::', 127], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  SPECIAL_USE.addSubnet(address, prefix, 'ipv6');
}

export class OutboundRefusedError extends Error {}

function isSpecialUse(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return SPECIAL_USE.check(mapped[1], 'ipv4');
  return SPECIAL_USE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** Throws OutboundRefusedError when `url`'s host is, or resolves to, a special-use address. */
export async function assertPublicDestination(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  const blocked = addresses.find(isSpecialUse);
  if (blocked) {
    throw new OutboundRefusedError(`refused: ${host} is a loopback, private or special-use address (${blocked}); OUTBOUND_PRIVATE_ADDRESSES=true allows it`);
  }
}
