import type { Context } from 'koa';
import type Provider from 'oidc-provider';
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
