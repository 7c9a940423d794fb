import type { Database, Queryable } from '../db/database.js';
import { type PendingLogout, claimDueLogouts, deleteLogout, insertLogout, insertLogoutsForAccount, insertLogoutsForSession } from '../store/backchannel-logouts.js';
import { SYSTEM, recordAudit } from './audit.js';

/**
 * Back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0 §2.5): queued in the
 * transaction that ends a session, sent by any node after it commits (server/oidc/backchannel.ts),
 * and audited once each, when it is settled.
 */

/** Attempts per delivery; each waits longer than the one before (RETRY_SECONDS × attempts). */
export const MAX_ATTEMPTS = 3;
export const RETRY_SECONDS = 5;

/** Why: RP-initiated logout, one session ended by its owner (/account), or the account's access ended. */
export type LogoutReason = 'logout' | 'session_ended' | 'deactivated' | 'password_changed' | 'deleted';

/**
 * Every client with a backchannel_logout_uri that the account's grants touch, per session for those
 * that require a sid; before the grants are revoked and the sessions forgotten.
 */
export function queueLogoutsForAccount(tx: Queryable, accountId: string, reason: LogoutReason): Promise<string[]> {
  return insertLogoutsForAccount(tx, accountId, reason);
}

/** Every client with a backchannel_logout_uri that one session signed in to; before it is forgotten. */
export function queueLogoutsForSession(tx: Queryable, accountId: string, sessionUid: string): Promise<string[]> {
  return insertLogoutsForSession(tx, accountId, sessionUid, 'session_ended');
}

/** One session of the account ended at one client (RP-initiated logout: the library names the sid). */
export function queueLogout(db: Queryable, p: { clientId: string; accountId: string; sid: string | null; reason: LogoutReason }): Promise<void> {
  return insertLogout(db, p);
}

export function takeDueLogouts(db: Queryable, limit = 20): Promise<PendingLogout[]> {
  return claimDueLogouts(db, limit, RETRY_SECONDS);
}

/**
 * Records what became of an attempt. Delivered, or failed for the last time (or with nothing left
 * to deliver to): the row goes and the outcome is audited, together. A failure with attempts left
 * keeps the row for the retry claimDueLogouts scheduled.
 */
export async function settleLogout(db: Database, p: PendingLogout, outcome: { delivered: true } | { delivered: false; error: string; final?: boolean }): Promise<'delivered' | 'failed' | 'retry'> {
  if (!outcome.delivered && !outcome.final && p.attempts < MAX_ATTEMPTS) return 'retry';
  await db.transaction(async (tx) => {
    await deleteLogout(tx, p.id);
    await recordAudit(tx, {
      type: outcome.delivered ? 'backchannel_logout.delivered' : 'backchannel_logout.failed',
      actor: SYSTEM,
      target: { type: 'client', id: p.client_id },
      data: {
        user: p.account_id,
        reason: p.reason,
        attempts: p.attempts,
        ...(p.sid ? { sid: true } : {}),
        ...(outcome.delivered ? {} : { error: outcome.error }),
      },
    });
  });
  return outcome.delivered ? 'delivered' : 'failed';
}
