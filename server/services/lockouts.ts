import { z } from 'zod';
import type { Database } from '../db/database.js';
import { recordAudit } from './audit.js';
import { assertMayActOnUser } from './delegation.js';
import type { Principal } from './principal.js';
import { timestamp } from './validation.js';
import { getUser } from './users.js';
import type { LoginThrottle } from './protection/login-throttle.js';

type UserView = Awaited<ReturnType<typeof getUser>>;

export const lockoutSchema = z.strictObject({
  locked_until: timestamp.nullable().meta({ description: 'When sign-in with this account is allowed again; null when it is not locked.' }),
});

/**
 * Sign-in lockouts as administrators see them: a user is locked while sign-in with their account is
 * paused at the longest wait from some address (server/services/protection/login-throttle.ts).
 */
export async function withLockout<U extends { id: string; locked_until: string | null }>(login: LoginThrottle, user: U): Promise<U> {
  const until = await login.lockedUntil(user.id);
  return { ...user, locked_until: until ? until.toISOString() : null };
}

export async function lockoutOf(db: Database, login: LoginThrottle, id: string): Promise<{ locked_until: string | null }> {
  const user: UserView = await getUser(db, id);
  const { locked_until } = await withLockout(login, user);
  return { locked_until };
}

/**
 * An administrator lifts a lockout: the user may sign in again from every address at once (their
 * failure counts are forgotten). Audited as user.unlocked, whether or not a lockout was in force.
 */
export async function unlockUser(db: Database, login: LoginThrottle, id: string, caller: Principal): Promise<void> {
  const user = await getUser(db, id);
  // Unlocking lets guessing at this account resume: acting on the user, so the delegation rule applies.
  await assertMayActOnUser(db, caller, user.id);
  const until = await login.lockedUntil(user.id);
  await login.unlock(user.id);
  await recordAudit(db, { type: 'user.unlocked', actor: caller.actor, target: { type: 'user', id: user.id }, data: { was_locked_until: until?.toISOString() ?? null } });
}
