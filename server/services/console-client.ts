import type { Queryable } from '../db/database.js';
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
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    scope: ['openid', 'profile', 'email', ...Object.keys(MANAGEMENT_SCOPES)].join(' '),
  };
  await db.query(
    `INSERT INTO clients (client_id, metadata, builtin) VALUES ($1, $2, true)
     ON CONFLICT (client_id) DO UPDATE SET metadata = EXCLUDED.metadata, builtin = true, enabled = true,
       expires_at = NULL, ip_allowlist = '[]', updated_at = now()
     WHERE clients.metadata IS DISTINCT FROM EXCLUDED.metadata OR NOT clients.builtin OR NOT clients.enabled
       OR clients.expires_at IS NOT NULL OR clients.ip_allowlist <> '[]'`,
    [CONSOLE_CLIENT_ID, JSON.stringify(metadata)],
  );
}
