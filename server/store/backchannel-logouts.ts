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
 * clients its sessions signed it in to. Run before the grants are revoked, in the same transaction.
 * Returns the client_ids queued.
 */
export async function insertLogoutsForAccount(q: Queryable, accountId: string, reason: string): Promise<string[]> {
  const { rows } = await q.query<{ client_id: string }>(
    `INSERT INTO backchannel_logouts (client_id, account_id, reason)
     SELECT DISTINCT c.client_id, $1, $2
       FROM oidc_artifacts a JOIN clients c ON c.client_id = a.payload->>'clientId'
      WHERE a.model = 'Grant' AND a.payload->>'accountId' = $1 AND c.metadata ? 'backchannel_logout_uri'
     RETURNING client_id`,
    [accountId, reason],
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
