import { lookup as lookupCallback, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';

/**
 * Where the server's own outgoing requests may go. Webhook deliveries and Shared Signals pushes are
 * sent to URLs that administrators or receivers register; without this check a registration could
 * make the server call its own network (SSRF, OWASP ASVS 5.2.6): a cloud metadata endpoint, an
 * internal service, a port scan read from delivery statuses. Loopback, private and other
 * special-use addresses (RFC 6890) are refused unless OUTBOUND_PRIVATE_ADDRESSES=true, the same
 * switch that lifts oidc-provider's own guard on jwks_uri and back-channel logout.
 *
 * The check is made where the connection is made (fetchOutbound below): the addresses a name resolves
 * to when the socket connects are the ones checked, so a DNS answer that changes between a check and
 * the connection (rebinding) cannot slip through. Redirects are not followed by the callers, so a
 * public URL cannot hand over to a private one.
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

const refused = (host: string, address: string) =>
  new OutboundRefusedError(`refused: ${host} is a loopback, private or special-use address (${address}); OUTBOUND_PRIVATE_ADDRESSES=true allows it`);

/**
 * The resolver of outgoing connections when private addresses are not allowed: Node's own lookup,
 * then a refusal if any address is special-use. net.connect calls it for every name it connects to
 * (not for IP literals, which fetchOutbound checks), and connects only to what it returns.
 */
function publicOnlyLookup(
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  lookupCallback(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isSpecialUse(a.address));
    if (blocked) return callback(refused(hostname, blocked.address), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/** fetch's connection pool for outgoing requests that must reach public addresses only. */
export const PUBLIC_ONLY = new Agent({ connect: { lookup: publicOnlyLookup as never } });

/**
 * fetch for the server's own outgoing requests (webhook deliveries, Shared Signals pushes): refused
 * with OutboundRefusedError when the destination is, or at connection time resolves to, a special-use
 * address, unless `allowPrivate`.
 */
export async function fetchOutbound(url: string, init: RequestInit, allowPrivate: boolean): Promise<Response> {
  if (allowPrivate) return fetch(url, init);
  // An IP literal is connected to without a lookup, so it is checked here; a name, as it is resolved.
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isSpecialUse(host)) throw refused(host, host);
  try {
    return await fetch(url, { ...init, dispatcher: PUBLIC_ONLY } as RequestInit);
  } catch (err) {
    // fetch reports a refused connection as "fetch failed" with the lookup's error as its cause.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof OutboundRefusedError) throw cause;
    throw err;
  }
}
