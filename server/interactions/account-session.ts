import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/database.js';
import { findUserById, type User } from '../store/users.js';

/** The cookie oidc-provider keeps its session id in (server/oidc/provider.ts cookies.names). */
const SESSION_COOKIE = 'gh_session';

/**
 * The person signed in to Gatehouse in this browser, for pages of their own: the session
 * oidc-provider keeps (its cookie is signed with the same COOKIE_SECRETS as ours), for an account
 * that can still sign in, and not ended since (users.sessions_valid_after, as findAccount checks).
 */
export async function signedInPerson(ctx: Context, provider: Provider, db: Database): Promise<{ user: User; sessionUid: string; loginTs: number } | undefined> {
  const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (!id) return undefined;
  const session = await provider.Session.find(id);
  if (!session?.accountId || !session.loginTs) return undefined;
  const user = await findUserById(db, session.accountId);
  if (!user || !user.active) return undefined;
  if (user.sessionsValidAfter && session.loginTs * 1000 < user.sessionsValidAfter.getTime()) return undefined;
  return { user, sessionUid: session.uid, loginTs: session.loginTs };
}
