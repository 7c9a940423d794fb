import type { Queryable } from '../db/database.js';

/** Whether any role the user holds requires two factors. */
export async function rolesRequireTwoFactors(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ required: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.name = ur.role_name
       WHERE ur.user_id = $1 AND r.require_two_factors) AS required`,
    [userId],
  );
  return Boolean(rows[0]?.required);
}

/** Which second factors each of these users has: confirmed TOTP and passkeys. */
export async function factorKindsOfUsers(db: Queryable, userIds: readonly string[]): Promise<Map<string, ('totp' | 'passkey')[]>> {
  const out = new Map<string, ('totp' | 'passkey')[]>();
  if (!userIds.length) return out;
  const { rows } = await db.query<{ user_id: string; kind: 'totp' | 'passkey' }>(
    `SELECT user_id, 'totp' AS kind FROM user_totp WHERE user_id = ANY($1::uuid[]) AND confirmed_at IS NOT NULL
     UNION ALL SELECT DISTINCT user_id, 'passkey' AS kind FROM passkeys WHERE user_id = ANY($1::uuid[])
     ORDER BY kind DESC`,
    [userIds],
  );
  for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.kind]);
  return out;
}

/** New installations require two factors for the built-in admin role (issue 13). */
export async function requireTwoFactorsForAdmin(db: Queryable): Promise<void> {
  await db.query("UPDATE roles SET require_two_factors = true WHERE name = 'admin' AND builtin");
}
