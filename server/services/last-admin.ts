import type { Queryable } from '../db/database.js';
import { ADMIN_ROLE, countOtherActiveAdmins } from '../store/administrators.js';
import type { UserView } from '../store/users.js';
import { conflict } from './errors.js';

/** What is about to happen to a user: their roles replaced, their account deactivated, or deleted. */
export type UserChange = { roles?: string[]; active?: boolean } | 'delete';

/**
 * An installation never loses its last administrator: nobody could then grant roles, and only a
 * restart with a seed file would bring one back (OWASP ASVS 4.0 §4.1.5, fail securely; NIST SP 800-53
 * AC-2). Refuses, with why, to take the admin role from, deactivate or delete the only active user
 * who holds it. Called inside the change's transaction, before the change.
 */
export async function assertKeepsAnAdministrator(tx: Queryable, user: UserView, change: UserChange): Promise<void> {
  const isActiveAdmin = user.active && (user.roles ?? []).includes(ADMIN_ROLE);
  if (!isActiveAdmin) return;
  const loses = change === 'delete' || change.active === false || (change.roles !== undefined && !change.roles.includes(ADMIN_ROLE));
  if (!loses) return;
  if ((await countOtherActiveAdmins(tx, user.id)) > 0) return;
  const action = change === 'delete' ? 'delete' : change.active === false ? 'deactivate' : 'remove the admin role from';
  throw conflict(`you cannot ${action} ${user.email}: they are the only active administrator. Give another user the admin role first.`);
}
