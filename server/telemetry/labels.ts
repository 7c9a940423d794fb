import type { Context } from 'koa';

/**
 * Bounded words for metric labels and span attributes: what a caller sent is only ever reported as
 * one of a fixed set, or `other`, so no label can hold a client id, a secret or an unbounded value.
 */

/** The grant types the token endpoint serves (server/oidc/provider.ts), as they appear in requests. */
const GRANT_TYPES = new Set(['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange']);

/** RFC 6749 §5.2 and its extensions' error codes, and ours (429 too_many_requests, 503 temporarily_unavailable). */
const ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'too_many_requests',
  'temporarily_unavailable',
  'server_error',
  'access_denied',
  'invalid_dpop_proof',
  'use_dpop_nonce',
]);

/** The grant type of a token request: one we serve, `other`, or `none` (not sent, or refused before it was read). */
export function grantTypeOf(ctx: Context): string {
  // oidc-provider defines ctx.oidc on the requests it routes; its params exist once the body is read.
  const grant = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type;
  if (typeof grant !== 'string') return 'none';
  return GRANT_TYPES.has(grant) ? grant : 'other';
}

/** How a protocol request ended: `success`, the RFC 6749 error code of its JSON body, or `other_error`. */
export function outcomeOf(ctx: Context): string {
  if (ctx.status < 400) return 'success';
  const error = (ctx.body as { error?: unknown } | null | undefined)?.error;
  return typeof error === 'string' && ERROR_CODES.has(error) ? error : 'other_error';
}
