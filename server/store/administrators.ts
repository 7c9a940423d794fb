import type { Queryable } from '../db/database.js';

/** The built-in role that may do everything (migrations/002); the one an installation cannot lose. */
export const ADMIN_ROLE = 'admin';

/**
 * How many active users other than `userId` hold the admin role. Locks those users' rows for the
 * rest of the transaction, so that two administrators demoting each other at the same moment cannot
 * both see the other one still standing.
 */
export async function countOtherActiveAdmins(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id
     WHERE ur.role_name = $1 AND u.active AND u.id <> $2
     ORDER BY u.id FOR UPDATE OF u`,
    [ADMIN_ROLE, userId],
  );
  return rows.length;
}
