import Bowser from 'bowser';
import type { ArtifactStore } from '../../adapters/contract.js';
import type { Database, Queryable } from '../db/database.js';
import { deleteUserSession, forgetSession, listUserSessions, touchUserSession } from '../store/user-sessions.js';
import { recordAudit } from './audit.js';
import { queueLogoutsForSession } from './backchannel-logouts.js';

/** A session as a person recognises it: which browser on which system, from where, when last used. */
export interface SessionView {
  uid: string;
  device: string;
  ip: string | null;
  signedInAt: Date;
  lastSeenAt: Date;
  current: boolean;
}

/** "Chrome 131 on Linux" from a User-Agent; what a person can tell their devices apart by. */
export function describeDevice(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  const parsed = Bowser.parse(userAgent);
  const browser = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
  const system = [parsed.os.name, parsed.os.versionName].filter(Boolean).join(' ');
  if (!browser && !system) return 'Unknown device';
  return system ? `${browser || 'A browser'} on ${system}` : browser;
}

/** oidc-provider's record of the clients a session signed in to: client_id → { sid, grantId, … }. */
export type SessionAuthorizations = Record<string, { sid?: unknown } | undefined> | undefined;

/** The sid each client knows the session by (Back-Channel Logout 1.0 §2.4). */
function clientSidsOf(authorizations: SessionAuthorizations): Record<string, string> {
  const sids: Record<string, string> = {};
  for (const [clientId, a] of Object.entries(authorizations ?? {})) if (typeof a?.sid === 'string') sids[clientId] = a.sid;
  return sids;
}

/** Records a use of a signed-in session (oidc-provider's session.saved, server/oidc/session-tracking.ts). */
export async function recordSessionUse(
  db: Queryable,
  s: { sessionUid: string; userId: string; userAgent: string; ip: string | null; loginTs: number; expiresAt: number; authorizations: SessionAuthorizations },
): Promise<void> {
  const ttlSeconds = Math.max(1, s.expiresAt - Math.floor(Date.now() / 1000));
  await touchUserSession(db, {
    sessionUid: s.sessionUid,
    userId: s.userId,
    userAgent: s.userAgent,
    ip: s.ip,
    signedInAt: new Date(s.loginTs * 1000),
    ttlSeconds,
    clientSids: clientSidsOf(s.authorizations),
  });
}

export async function sessionEnded(db: Queryable, sessionUid: string): Promise<void> {
  await forgetSession(db, sessionUid);
}

export async function sessionsOf(db: Queryable, userId: string, currentUid: string): Promise<SessionView[]> {
  const rows = await listUserSessions(db, userId);
  return rows.map((r) => ({
    uid: r.sessionUid,
    device: describeDevice(r.userAgent),
    ip: r.ip,
    signedInAt: r.signedInAt,
    lastSeenAt: r.lastSeenAt,
    current: r.sessionUid === currentUid,
  }));
}

/**
 * A person ends one of their sessions (OWASP ASVS 3.3.4). The session is destroyed where sessions
 * live (Redis or the database), which every node reads on each request: its cookie finds nothing
 * anywhere from then on. Only their own: a uid of someone else's session ends nothing.
 */
export async function endSession(db: Database, sessions: ArtifactStore, userId: string, sessionUid: string, ip: string): Promise<boolean> {
  const owned = await db.transaction(async (tx) => {
    // The clients it signed in to and that asked to be told hear of it (Back-Channel Logout 1.0 §2.5),
    // as they do when the library ends a session; queued while the session's sids are still known.
    await queueLogoutsForSession(tx, userId, sessionUid);
    if (!(await deleteUserSession(tx, userId, sessionUid))) return false;
    await recordAudit(tx, { type: 'session.ended', actor: { type: 'user', id: userId, ip }, target: { type: 'user', id: userId }, data: { session: sessionUid } });
    return true;
  });
  // After the commit: the session store may be this very database (embedded mode), whose one
  // connection the transaction holds.
  if (owned) await sessions.destroyByUid('Session', sessionUid);
  return owned;
}
