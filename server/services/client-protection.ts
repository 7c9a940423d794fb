import { z } from 'zod';
import type { ClientMetadata } from '../store/clients.js';
import { invalidRequest } from './errors.js';

/**
 * Per-client protections of the authorization request and of the tokens issued (issue 12): PKCE,
 * pushed authorization requests (RFC 9126) and DPoP-bound access tokens (RFC 9449). Kept in one
 * place so that the Management API, the seed file, the CLI and the provider's view of a client read
 * the same three fields the same way.
 */
export const protectionFields = {
  require_pkce: z.boolean().optional().meta({
    description:
      'Authorization requests must carry a PKCE code_challenge (S256), RFC 7636 (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1). Always true for public clients (spa, native); optional for confidential ones.',
  }),
  require_pushed_authorization_requests: z.boolean().optional().meta({
    description: 'Authorization requests must first be pushed to /oauth/par (RFC 9126 §6); a plain /oauth/authorize request is refused.',
  }),
  dpop_bound_access_tokens: z.boolean().optional().meta({
    description: 'Every token request must carry a DPoP proof (RFC 9449 §5.2), so that every access token is bound to the client’s key (cnf.jkt).',
  }),
};

/** As the Management API shows them: every field present. */
export const protectionView = {
  require_pkce: z.boolean().meta({ description: protectionFields.require_pkce.description }),
  require_pushed_authorization_requests: z.boolean().meta({ description: protectionFields.require_pushed_authorization_requests.description }),
  dpop_bound_access_tokens: z.boolean().meta({ description: protectionFields.dpop_bound_access_tokens.description }),
};

export type ProtectionInput = { [K in keyof typeof protectionFields]?: boolean };

/** The stored settings after `input`, on top of what the client had (`before`). */
export function withProtection<M extends ClientMetadata>(metadata: M, input: ProtectionInput): M {
  const out = { ...metadata };
  for (const key of Object.keys(protectionFields) as (keyof ProtectionInput)[]) {
    if (input[key] !== undefined) out[key] = input[key];
  }
  return out;
}

/** Consistency rules, checked with the rest of a client's shape (services/clients.ts checkShape). */
export function checkProtection(m: ClientMetadata): void {
  const isPublic = m.token_endpoint_auth_method === 'none';
  // RFC 9700 §2.1.1: a public client cannot authenticate, so only PKCE binds its code to it.
  if (isPublic && m.require_pkce === false) {
    throw invalidRequest('require_pkce: a public client (spa, native) always uses PKCE (RFC 9700 §2.1.1); it cannot be turned off', 'require_pkce');
  }
  if (m.require_pushed_authorization_requests && !m.grant_types.includes('authorization_code')) {
    throw invalidRequest('require_pushed_authorization_requests: pushed authorization requests (RFC 9126) are for clients that use authorization_code', 'require_pushed_authorization_requests');
  }
}

/** What the Management API shows: PKCE is on for every public client whatever is stored. */
export function serializeProtection(m: ClientMetadata): { [K in keyof typeof protectionView]: boolean } {
  return {
    require_pkce: m.token_endpoint_auth_method === 'none' || m.require_pkce === true,
    require_pushed_authorization_requests: m.require_pushed_authorization_requests === true,
    dpop_bound_access_tokens: m.dpop_bound_access_tokens === true,
  };
}
