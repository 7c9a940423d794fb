import type { Queryable } from '../db/database.js';

/** A logout token waiting to be sent (migration 010). */
export interface PendingLogout {
  id: string;
  client_id: string;
  account_id: string;
  sid: string | null;
  reason: string;
  attempts: number;
}

/** One delivery, for a session the library ended (RP-initiated logout) with its sid. */
export async function insertLogout(q: Queryable, p: { clientId: string; accountId: string; sid: string | null; reason: string }): Promise<void> {
  await q.query('INSERT INTO backchannel_logouts (client_id, account_id, sid, reason) VALUES ($1, $2, $3, $4)', [p.clientId, p.accountId, p.sid, p.reason]);
}

/**
 * One delivery per client with a backchannel_logout_uri that the account has a grant with: the
 * clients its sessions signed it in to. A client that requires a sid
 * (backchannel_logout_session_required; Back-Channel Logout 1.0 §2.4, where the OP then MUST include
 * one) gets one delivery per session of the account it knows, with that session's sid (migration
 * 018); one that does not, or whose sessions are unknown, one naming the account only, which ends
 * all of its sessions there. Run before the grants are revoked and the sessions forgotten, in the
 * same transaction. Returns the client_ids queued, once per delivery.
 */
export async function insertLogoutsForAccount(q: Queryable, accountId: string, reason: string): Promise<string[]> {
  const { rows } = await q.query<{ client_id: string }>(
    `INSERT INTO backchannel_logouts (client_id, account_id, sid, reason)
     SELECT DISTINCT c.client_id, $1, s.sid, $2
       FROM oidc_artifacts a
       JOIN clients c ON c.client_id = a.payload->>'clientId'
       LEFT JOIN LATERAL (
         SELECT us.client_sids->>c.client_id AS sid FROM user_sessions us
          WHERE us.user_id = $3::uuid AND us.client_sids ? c.client_id
            AND (c.metadata->>'backchannel_logout_session_required')::boolean) s ON true
      WHERE a.model = 'Grant' AND a.payload->>'accountId' = $1 AND c.metadata ? 'backchannel_logout_uri'
     RETURNING client_id`,
    // The account id twice: as the text the queue and the grants hold, and as the users.id it is.
    [accountId, reason, accountId],
  );
  return rows.map((r) => r.client_id);
}

/**
 * One delivery per client with a backchannel_logout_uri that one session of the account signed in
 * to, with the sid that client knows the session by: the session ended without the library (its
 * owner ended it from /account). Run before the session is forgotten, in the same transaction.
 */
export async function insertLogoutsForSession(q: Queryable, accountId: string, sessionUid: string, reason: string): Promise<string[]> {
  const { rows } = await q.query<{ client_id: string }>(
    `INSERT INTO backchannel_logouts (client_id, account_id, sid, reason)
     SELECT c.client_id, $1, e.value, $3
       FROM user_sessions us
       CROSS JOIN LATERAL jsonb_each_text(us.client_sids) e
       JOIN clients c ON c.client_id = e.key
      WHERE us.user_id = $4::uuid AND us.session_uid = $2 AND c.metadata ? 'backchannel_logout_uri'
     RETURNING client_id`,
    [accountId, sessionUid, reason, accountId],
  );
  return rows.map((r) => r.client_id);
}

/**
 * Takes up to `limit` due deliveries for this node: each gets its attempt counted and its next
 * attempt moved to `retryInSeconds` from now, in one statement, so that another node polling at the
 * same moment takes others (and a node that dies mid-delivery leaves it to be retried).
 */
export async function claimDueLogouts(q: Queryable, limit: number, retryInSeconds: number): Promise<PendingLogout[]> {
  const { rows } = await q.query<PendingLogout>(
    `UPDATE backchannel_logouts SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2::int * (attempts + 1))
      WHERE id IN (SELECT id FROM backchannel_logouts WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, client_id, account_id, sid, reason, attempts`,
    [limit, retryInSeconds],
  );
  return rows;
}

export async function deleteLogout(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM backchannel_logouts WHERE id = $1', [id]);
}
