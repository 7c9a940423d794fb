import type { Queryable } from '../db/database.js';
import { putBuiltinClient } from '../store/clients.js';
import { MANAGEMENT_SCOPES } from './management-api.js';

/** The admin console signs in as this public client (authorization code + PKCE, RFC 7636). */
export const CONSOLE_CLIENT_ID = 'gatehouse-console';

export const consoleRedirectUri = (issuer: string) => `${issuer}/console/callback`;
export const consoleSignedOutUri = (issuer: string) => `${issuer}/console/signed-out`;

/**
 * Registers the console's client at every start (idempotent), like the Management API itself. It is
 * a browser app, so public (RFC 6749 §2.1) and bound to PKCE; it may ask for every Management API
 * permission, and each token carries only what the signed-in user's roles allow (the Management API
 * enforces roles, server/oidc/resources.ts). It is built in: the Management API will not change it.
 */
export async function ensureConsoleClient(db: Queryable, issuer: string): Promise<void> {
  const metadata = {
    client_name: 'Gatehouse console',
    type: 'spa',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [consoleRedirectUri(issuer)],
    post_logout_redirect_uris: [consoleSignedOutUri(issuer)],
    token_endpoint_auth_method: 'none' as const,
    application_type: 'web' as const,
    scope: ['openid', 'profile', 'email', ...Object.keys(MANAGEMENT_SCOPES)].join(' '),
  };
  await putBuiltinClient(db, CONSOLE_CLIENT_ID, metadata);
}
