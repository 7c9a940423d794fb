import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID, accountRedirectUri } from '../services/account-client.js';
import { type User, findUserById } from '../store/users.js';
import type { Queryable } from '../db/database.js';

/** oidc-provider's browser session, as its Session model reads it from the cookie. */
export type BrowserSession = Awaited<ReturnType<Provider['Session']['get']>>;

export interface SignedIn {
  session: BrowserSession;
  user: User;
}

/**
 * The person this browser is signed in as, by their Gatehouse session cookie (the one the login
 * page set), under the same rules as findAccount (server/oidc/accounts.ts): an active user, and a
 * sign-in after their cut-off (sessions_valid_after). Undefined otherwise.
 */
export async function signedIn(ctx: Context, provider: Provider, db: Queryable): Promise<SignedIn | undefined> {
  const session = await provider.Session.get(ctx);
  if (!session.accountId || !session.loginTs) return undefined;
  const user = await findUserById(db, session.accountId);
  if (!user || !user.active) return undefined;
  if (user.sessionsValidAfter && session.loginTs * 1000 < user.sessionsValidAfter.getTime()) return undefined;
  return { session, user };
}

/**
 * Where to send someone without a session: the authorization endpoint, as the built-in account
 * client, which shows the login page and comes back to /account/callback with the session set.
 * The code it brings back is never redeemed (the session is what /account needs); PKCE is required
 * of a public client, so a challenge of a verifier nobody keeps goes with it.
 */
export function signInUrl(issuer: string): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const params = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: accountRedirectUri(issuer),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${issuer}/oauth/authorize?${params}`;
}
