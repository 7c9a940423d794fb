import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

export interface User {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  active: boolean;
  /** OIDC Core §5.1: the person followed a verification link sent to this address. */
  emailVerified: boolean;
  sessionsValidAfter: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  active: boolean;
  email_verified: boolean;
  sessions_valid_after: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: Row): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  active: r.active,
  emailVerified: r.email_verified,
  sessionsValidAfter: r.sessions_valid_after ? new Date(r.sessions_valid_after) : null,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});


export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  // Subjects come from tokens and sessions; anything that is not a uuid cannot be a user.
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<Row>('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0] && toUser(rows[0]);
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0] && toUser(rows[0]);
}

export async function upsertUserByEmail(
  db: Queryable,
  user: { email: string; name: string; passwordHash: string },
): Promise<User> {
  const { rows } = await db.query<Row>(
    `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT ((lower(email))) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash,
       updated_at = now()
     RETURNING *`,
    [user.email, user.name, user.passwordHash],
  );
  return toUser(rows[0]);
}

/** A user as the Management API lists them: with their role names. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  active: boolean;
  email_verified: boolean;
  roles: string[] | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT_VIEW = `SELECT u.id, u.email, u.name, u.active, u.email_verified, u.created_at, u.updated_at,
  (SELECT coalesce(json_agg(role_name ORDER BY role_name), '[]') FROM user_roles WHERE user_id = u.id) AS roles FROM users u`;

export async function findUserView(db: Queryable, id: string): Promise<UserView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserView>(`${SELECT_VIEW} WHERE u.id = $1`, [id]);
  return rows[0];
}

/** A page ordered by lower(email); `q` matches email or name (LIKE wildcards taken literally). */
export async function listUserViews(db: Queryable, f: { q?: string; role?: string; afterEmail?: string; limit: number }): Promise<UserView[]> {
  const q = f.q ? `%${f.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const { rows } = await db.query<UserView>(
    `${SELECT_VIEW} WHERE ($1::text IS NULL OR u.email ILIKE $1 OR u.name ILIKE $1) AND ($2::text IS NULL OR lower(u.email) > $2)
     AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role_name = $4))
     ORDER BY lower(u.email) LIMIT $3`,
    [q, f.afterEmail ?? null, f.limit, f.role ?? null],
  );
  return rows;
}

/** Inserts a user; undefined when the email (case-insensitively) is taken. */
export async function insertUser(db: Queryable, user: { email: string; name: string; passwordHash: string }): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
    [user.email, user.name, user.passwordHash],
  );
  return rows[0]?.id;
}

export async function emailTakenByOther(db: Queryable, email: string, exceptId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2', [email, exceptId]);
  return rows.length > 0;
}

/** Thrown when an update would give a user an email another user has (the unique index said so). */
export class EmailTakenError extends Error {}

export async function updateUserFields(
  db: Queryable,
  id: string,
  patch: { email?: string; name?: string; passwordHash?: string | null; active?: boolean },
): Promise<void> {
  await db
    .query(
      // A new address is not verified yet (OIDC Core §5.1 email_verified), whoever changes it.
      `UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), password_hash = COALESCE($4, password_hash),
         active = COALESCE($5, active), updated_at = now(),
         email_verified = CASE WHEN $2::text IS NOT NULL AND lower($2::text) <> lower(email) THEN false ELSE email_verified END
       WHERE id = $1`,
      [id, patch.email ?? null, patch.name ?? null, patch.passwordHash ?? null, patch.active ?? null],
    )
    .catch((err: { code?: string }) => {
      // A concurrent request may take the address between a check and this update; the unique index
      // (23505, unique_violation) sees it.
      if (err.code === '23505') throw new EmailTakenError();
      throw err;
    });
}

/**
 * Every browser session of the user started before now stops being accepted (findAccount compares
 * a session's login time with this), wherever sessions are stored.
 */
export async function invalidateSessions(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE users SET sessions_valid_after = now() WHERE id = $1', [id]);
}

/**
 * Marks the address verified, only while it is still the user's address (a link sent to an old
 * address verifies nothing). True when it was marked.
 */
export async function markEmailVerified(db: Queryable, id: string, email: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1 AND lower(email) = lower($2)',
    [id, email],
  );
  return rowCount > 0;
}

export async function deleteUserRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM users WHERE id = $1', [id]);
}

/** Emails of these users, for the console's owner column. */
export async function emailsOfUsers(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const valid = ids.filter((id) => isUuid(id));
  if (!valid.length) return new Map();
  const { rows } = await db.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE id = ANY($1::uuid[])', [valid]);
  return new Map(rows.map((r) => [r.id, r.email]));
}
