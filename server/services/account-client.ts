import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { putBuiltinClient } from '../store/clients.js';

/**
 * /account signs people in through the login page as this public client (authorization code with
 * PKCE, RFC 7636): a person without a Gatehouse session is sent to the authorization endpoint and
 * comes back to /account/callback with one. It asks for `openid` only and never for consent: the
 * page is part of this server (server/oidc/grants.ts). Built in, like the console's client.
 */
export const ACCOUNT_CLIENT_ID = 'gatehouse-account';

export const accountRedirectUri = (issuer: string) => `${issuer}/account/callback`;

export async function ensureAccountClient(db: Queryable, issuer: string): Promise<void> {
  await putBuiltinClient(db, ACCOUNT_CLIENT_ID, {
    client_name: 'Your Gatehouse account',
    type: 'spa',
    grant_types: ['authorization_code'],
    redirect_uris: [accountRedirectUri(issuer)],
    token_endpoint_auth_method: 'none' as const,
    application_type: 'web' as const,
    scope: 'openid',
  });
}

/**
 * Where to send someone without a session: the authorization endpoint, as the built-in account
 * client, which shows the login page and comes back to /account/callback with the session set.
 * The code it brings back is never redeemed (the session is what /account needs); PKCE is required
 * of a public client, so a challenge of a verifier nobody keeps goes with it.
 */
export function signInUrl(issuer: string, options: { back?: 'security'; again?: boolean } = {}): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const params = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: accountRedirectUri(issuer),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  // Where /account/callback returns to: one of our own two pages, named, never a URL (no open redirect).
  if (options.back) params.set('state', options.back);
  // Sign in again even with a live session (OIDC Core §3.1.2.1), before a sensitive change.
  if (options.again) params.set('prompt', 'login');
  return `${issuer}/oauth/authorize?${params}`;
}
