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
