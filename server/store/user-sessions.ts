import type { Queryable } from '../db/database.js';

/** A browser session as /account shows it. */
export interface UserSession {
  sessionUid: string;
  userAgent: string;
  ip: string | null;
  signedInAt: Date;
  lastSeenAt: Date;
}

interface Row {
  session_uid: string;
  user_agent: string;
  ip: string | null;
  signed_in_at: Date;
  last_seen_at: Date;
}

/**
 * Records that a session of this user was used now, from this browser and address. The first
 * record of a uid is its sign-in; later ones move last_seen_at (and follow a new address). A session
 * whose account changed (another person signed in in the same browser) is re-recorded for them.
 */
export async function touchUserSession(
  db: Queryable,
  s: { sessionUid: string; userId: string; userAgent: string; ip: string | null; signedInAt: Date; ttlSeconds: number; clientSids: Record<string, string> },
): Promise<void> {
  // A client's sid never changes within a session, so the ones already known are kept and new ones
  // added; a session re-recorded for another person starts again from its own.
  await db.query(
    `INSERT INTO user_sessions (session_uid, user_id, user_agent, ip, signed_in_at, expires_at, client_sids)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::int), $7::jsonb)
     ON CONFLICT (session_uid) DO UPDATE SET user_id = EXCLUDED.user_id, user_agent = EXCLUDED.user_agent, ip = EXCLUDED.ip,
       signed_in_at = EXCLUDED.signed_in_at, last_seen_at = now(), expires_at = EXCLUDED.expires_at,
       client_sids = CASE WHEN user_sessions.user_id = EXCLUDED.user_id THEN user_sessions.client_sids || EXCLUDED.client_sids
                          ELSE EXCLUDED.client_sids END`,
    [s.sessionUid, s.userId, s.userAgent.slice(0, 512), s.ip, s.signedInAt, s.ttlSeconds, JSON.stringify(s.clientSids)],
  );
}

/** The user's live sessions, most recently used first. */
export async function listUserSessions(db: Queryable, userId: string): Promise<UserSession[]> {
  const { rows } = await db.query<Row>(
    `SELECT session_uid, user_agent, ip, signed_in_at, last_seen_at FROM user_sessions
     WHERE user_id = $1 AND expires_at > now() ORDER BY last_seen_at DESC LIMIT 100`,
    [userId],
  );
  return rows.map((r) => ({
    sessionUid: r.session_uid,
    userAgent: r.user_agent,
    ip: r.ip,
    signedInAt: new Date(r.signed_in_at),
    lastSeenAt: new Date(r.last_seen_at),
  }));
}

/** Forgets one session of the user; false when the user has no such session. */
export async function deleteUserSession(db: Queryable, userId: string, sessionUid: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_sessions WHERE user_id = $1 AND session_uid = $2', [userId, sessionUid]);
  return rowCount > 0;
}

/** Forgets a session whoever it belonged to (signed out). */
export async function forgetSession(db: Queryable, sessionUid: string): Promise<void> {
  await db.query('DELETE FROM user_sessions WHERE session_uid = $1', [sessionUid]);
}

/** Forgets every session of the user but `keep` (endUserAccess ends them all). */
export async function deleteUserSessions(db: Queryable, userId: string, keep?: string): Promise<void> {
  await db.query('DELETE FROM user_sessions WHERE user_id = $1 AND session_uid IS DISTINCT FROM $2', [userId, keep ?? null]);
}

export async function sweepUserSessions(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM user_sessions WHERE expires_at < now()');
  return rowCount;
}
