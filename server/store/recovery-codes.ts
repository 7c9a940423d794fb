import type { Queryable } from '../db/database.js';

/** Replaces every recovery code of a user with new ones (their digests). */
export async function replaceRecoveryCodes(db: Queryable, userId: string, digests: readonly string[]): Promise<void> {
  await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [userId, digests]);
}

/** Spends a code: true once, for an unused code of this user; false ever after. */
export async function useRecoveryCode(db: Queryable, userId: string, digest: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
    [userId, digest],
  );
  return rowCount > 0;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return Number(rows[0]?.n ?? 0);
}

export async function deleteRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
  return rowCount;
}
