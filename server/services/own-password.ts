import type { Database } from '../db/database.js';
import { hashPassword, verifySignIn } from '../crypto/passwords.js';
import { findUserById, updateUserFields } from '../store/users.js';
import { recordAudit } from './audit.js';
import { endUserAccess, password } from './users.js';

export class PasswordChangeRefusedError extends Error {}

/** The current password given was wrong: a guess, counted against the sign-in limits by the caller. */
export class WrongCurrentPasswordError extends PasswordChangeRefusedError {}

/**
 * A person changes their own password on /account (OWASP ASVS 2.1.5: the current one is asked for).
 * What the old password started ends (endUserAccess), but the session this is done from, which the
 * caller signs in again after the cut-off.
 */
export async function changeOwnPassword(db: Database, userId: string, current: string, next: string, keepSession: string, ip: string): Promise<Date> {
  const user = await findUserById(db, userId);
  if (!user || !user.active) throw new PasswordChangeRefusedError('This account cannot sign in.');
  if (!(await verifySignIn(user.passwordHash, current))) throw new WrongCurrentPasswordError('The current password is incorrect.');
  const checked = password.safeParse(next);
  if (!checked.success) throw new PasswordChangeRefusedError(checked.error.issues[0]?.message ?? 'this password cannot be used');
  const passwordHash = await hashPassword(next);
  await db.transaction(async (tx) => {
    await updateUserFields(tx, userId, { passwordHash });
    const revoked = await endUserAccess(tx, userId, 'password_changed', { type: 'user', id: userId, ip }, keepSession);
    await recordAudit(tx, { type: 'user.password_changed', actor: { type: 'user', id: userId, ip }, target: { type: 'user', id: userId }, data: { revoked_artifacts: revoked, by: 'self' } });
  });
  // The cut-off the kept session must be signed in again after.
  return (await findUserById(db, userId))?.sessionsValidAfter ?? new Date();
}
