import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Context } from 'koa';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import { recordSessionUse, sessionEnded, type SessionAuthorizations } from '../services/user-sessions.js';
import type { HotReads } from '../store/cache.js';

interface SavedSession {
  uid: string;
  accountId?: string;
  loginTs?: number;
  exp?: number;
  authorizations?: SessionAuthorizations;
}

const pending = new WeakMap<object, Promise<unknown>[]>();

function hold(ctx: Context | undefined, write: Promise<unknown>): void {
  if (!ctx) return;
  const list = pending.get(ctx) ?? [];
  list.push(write);
  pending.set(ctx, list);
}

/**
 * Keeps /account's list of sessions (user_sessions) in step with oidc-provider's: every save of a
 * signed-in session records its browser, address and time of use, and a destroyed one (sign-out) is
 * forgotten. A session from before the user's cut-off (sessions_valid_after) is over and not
 * recorded again. The writes finish before the response (recordSessionUses), so the list a person
 * sees next is already up to date.
 */
export function trackSessions(provider: Provider, db: Database, reads: Pick<HotReads, 'findUserById'>, logger: Logger): void {
  const record = async (ctx: Context | undefined, session: SavedSession) => {
    // Saves outside a provider request (/account's own, server/account/page.ts) record themselves.
    if (!ctx || !session.accountId || !session.loginTs || !session.exp) return;
    const user = await reads.findUserById(session.accountId);
    if (!user || !user.active) return;
    if (user.sessionsValidAfter && session.loginTs * 1000 < user.sessionsValidAfter.getTime()) return;
    await recordSessionUse(db, {
      sessionUid: session.uid,
      userId: user.id,
      userAgent: ctx.get('user-agent'),
      ip: normaliseIp(ctx.ip),
      loginTs: session.loginTs,
      expiresAt: session.exp,
      authorizations: session.authorizations,
    });
  };
  const failed = (err: Error) => logger.warn({ err: err.message }, 'could not record a session for /account');
  provider.on('session.saved', (session: SavedSession) => {
    const ctx = Provider.ctx as Context | undefined;
    hold(ctx, record(ctx, session).catch(failed));
  });
  provider.on('session.destroyed', (session: SavedSession) => {
    hold(Provider.ctx as Context | undefined, sessionEnded(db, session.uid).catch(failed));
  });
}

/** Waits for the session records of this request (see trackSessions) before the response goes out. */
export async function recordSessionUses(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  try {
    await next();
  } finally {
    const writes = pending.get(ctx);
    if (writes) await Promise.all(writes);
  }
}
