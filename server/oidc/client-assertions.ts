import { type Configuration, errors } from 'oidc-provider';
import type { Config } from '../config.js';
import { ipAllowed } from '../net/ip-allowlist.js';

/** A client's JWK Set fetched from its jwks_uri larger than this is refused (a JWKS of ten RSA keys is ~5 KiB). */
export const JWKS_URI_MAX_BYTES = 64 * 1024;

/**
 * Checks run after oidc-provider has verified a private_key_jwt assertion (RFC 7523 §3: iss and sub
 * are the client, aud is this server, exp is present, the signature is the client's, and the jti is
 * remembered until exp so that it is used once). Ours: the client's IP allowlist, which a secret
 * client meets in compareClientSecret (oidc/clients.ts), and a bounded lifetime, so that the replay
 * record is short-lived and a leaked assertion is useless within minutes.
 */
const MAX_ASSERTION_LIFETIME = 10 * 60;

export function clientAssertionCheck(requestIp: () => string | undefined): Configuration['assertJwtClientAuthClaimsAndHeader'] {
  return async function checkClientAssertion(_ctx, claims, _header, client) {
    const allowlist = (client as unknown as { gatehouse_ip_allowlist?: string[] }).gatehouse_ip_allowlist ?? [];
    const ip = requestIp();
    if (allowlist.length && !(ip && ipAllowed(allowlist, ip))) {
      throw new errors.InvalidClientAuth('request from outside the client\'s IP allowlist');
    }
    const exp = Number(claims.exp);
    if (exp - Math.floor(Date.now() / 1000) > MAX_ASSERTION_LIFETIME) {
      throw new errors.InvalidClientAuth(`client_assertion must expire within ${MAX_ASSERTION_LIFETIME} seconds`);
    }
  };
}

/**
 * Outbound requests oidc-provider makes for us: a client's jwks_uri and back-channel logout. The
 * library times each out after 2.5 s and, by default, refuses loopback and private addresses (SSRF);
 * OUTBOUND_PRIVATE_ADDRESSES=true lifts that for development and tests. The JWKS body is bounded.
 * A fetched key set is cached by the library for at least 60 s, longer if its Cache-Control or
 * Expires says so, and until the client's registration changes.
 */
export function outboundRequests(config: Pick<Config, 'outboundPrivateAddresses'>): Pick<Configuration, 'fetch' | 'fetchResponseBodyLimits'> {
  return {
    fetchResponseBodyLimits: { jwks_uri: JWKS_URI_MAX_BYTES } as never,
    fetch: (url, options) => {
      if (!config.outboundPrivateAddresses) return globalThis.fetch(url, options);
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
  };
}
