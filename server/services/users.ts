import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { hashPassword } from '../crypto/passwords.js';
import { passwordRule } from './password-rules.js';
import { rolesOfUser, setUserRoles } from '../store/roles.js';
import { type Actor, recordAudit } from './audit.js';
import { conflict, forbidden, invalidRequest, notFound } from './errors.js';
import { decodeCursor, pageOf, parseLimit } from './pagination.js';

const roleList = z.array(z.string().max(63)).max(50).transform((r) => [...new Set(r)]);

export const createUserSchema = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200),
  password: z.string().superRefine(passwordRule).optional(),
  roles: roleList.default([]),
});

export const updateUserSchema = z.strictObject({
  email: z.email().max(320).optional(),
  name: z.string().trim().min(1).max(200).optional(),
  password: z.string().superRefine(passwordRule).optional(),
  roles: roleList.optional(),
  active: z.boolean().optional(),
});

interface Row {
  id: string;
  email: string;
  name: string;
  active: boolean;
  roles: string[] | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT u.id, u.email, u.name, u.active, u.created_at, u.updated_at,
  (SELECT coalesce(json_agg(role_name ORDER BY role_name), '[]') FROM user_roles WHERE user_id = u.id) AS roles FROM users u`;

export const serializeUser = (r: Row) => ({
  id: r.id,
  email: r.email,
  name: r.name,
  roles: r.roles ?? [],
  active: r.active,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function mustFind(q: Queryable, id: string): Promise<Row> {
  const { rows } = UUID.test(id) ? await q.query<Row>(`${SELECT} WHERE u.id = $1`, [id]) : { rows: [] as Row[] };
  if (!rows[0]) throw notFound(`user ${id}`);
  return rows[0];
}

async function checkRoles(q: Queryable, roles: string[]) {
  if (!roles.length) return;
  const { rows } = await q.query<{ name: string }>('SELECT name FROM roles WHERE name = ANY($1::text[])', [roles]);
  const missing = roles.find((r) => !rows.some((x) => x.name === r));
  if (missing) throw invalidRequest(`roles: there is no role named "${missing}"`, 'roles');
}

/**
 * A user without a password cannot sign in until one is set: the stored hash is of random bytes
 * nobody knows, so there is no "empty password" state to get wrong.
 */
async function passwordHashFor(password: string | undefined) {
  return hashPassword(password ?? crypto.randomUUID() + crypto.randomUUID());
}

export async function createUser(db: Database, input: z.infer<typeof createUserSchema>, actor: Actor) {
  const passwordHash = await passwordHashFor(input.password);
  return db.transaction(async (tx) => {
    await checkRoles(tx, input.roles);
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [input.email, input.name, passwordHash],
    );
    if (!rows[0]) throw conflict(`a user with email ${input.email} already exists`);
    await setUserRoles(tx, rows[0].id, input.roles);
    await recordAudit(tx, { type: 'user.created', actor, target: { type: 'user', id: rows[0].id }, data: { email: input.email, roles: input.roles } });
    return serializeUser(await mustFind(tx, rows[0].id));
  });
}

export async function listUsers(db: Queryable, query: { q?: string; cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor<{ e: string }>(query.cursor, ['e']);
  const q = query.q?.trim() ? `%${query.q.trim().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE ($1::text IS NULL OR u.email ILIKE $1 OR u.name ILIKE $1) AND ($2::text IS NULL OR lower(u.email) > $2)
     ORDER BY lower(u.email) LIMIT $3`,
    [q, after?.e ?? null, limit + 1],
  );
  return pageOf(rows, limit, serializeUser, (r) => ({ e: r.email.toLowerCase() }));
}

export async function getUser(db: Queryable, id: string) {
  return serializeUser(await mustFind(db, id));
}

/**
 * Ends everything a user holds: browser sessions (sessions_valid_after, checked by findAccount, so it
 * works wherever sessions live), grants and refresh tokens in Postgres. API keys stop by themselves
 * (checkApiKey refuses an inactive owner).
 */
async function endUserAccess(tx: Queryable, userId: string) {
  await tx.query('UPDATE users SET sessions_valid_after = now() WHERE id = $1', [userId]);
  const { rowCount } = await tx.query(
    `DELETE FROM oidc_artifacts WHERE model IN ('Grant', 'RefreshToken', 'Session') AND payload->>'accountId' = $1`,
    [userId],
  );
  return rowCount;
}

export async function updateUser(db: Database, id: string, patch: z.infer<typeof updateUserSchema>, actor: Actor) {
  const passwordHash = patch.password ? await hashPassword(patch.password) : null;
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    if (patch.roles) await checkRoles(tx, patch.roles);
    if (patch.email && patch.email.toLowerCase() !== current.email.toLowerCase()) {
      const { rows } = await tx.query('SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2', [patch.email, id]);
      if (rows.length) throw conflict(`a user with email ${patch.email} already exists`);
    }
    await tx
      .query(
        `UPDATE users SET email = COALESCE($2, email), name = COALESCE($3, name), password_hash = COALESCE($4, password_hash),
           active = COALESCE($5, active), updated_at = now() WHERE id = $1`,
        [id, patch.email ?? null, patch.name ?? null, passwordHash, patch.active ?? null],
      )
      .catch((err: { code?: string }) => {
        // The check above cannot see another request taking the address at the same moment; the
        // unique index (23505, unique_violation) does, and that is the same conflict, not a 500.
        if (err.code === '23505') throw conflict(`a user with email ${patch.email} already exists`);
        throw err;
      });
    const target = { type: 'user', id };
    if (patch.roles) {
      const before = await rolesOfUser(tx, id);
      await setUserRoles(tx, id, patch.roles);
      await recordAudit(tx, { type: 'user.roles_changed', actor, target, data: { before, after: patch.roles } });
    }
    if (patch.active === false && current.active) {
      const revoked = await endUserAccess(tx, id);
      await recordAudit(tx, { type: 'user.deactivated', actor, target, data: { revoked_artifacts: revoked } });
    } else if (patch.active === true && !current.active) {
      await recordAudit(tx, { type: 'user.activated', actor, target });
    }
    const fields = (['email', 'name', 'password'] as const).filter((f) => patch[f] !== undefined);
    if (fields.length) await recordAudit(tx, { type: 'user.updated', actor, target, data: { fields } });
    return serializeUser(await mustFind(tx, id));
  });
}

/**
 * `self` is the user the caller acts for (a user token or one of their API keys): nobody deletes
 * the account they are using, which would also end the access they are using it with.
 */
export async function deleteUser(db: Database, id: string, actor: Actor, self?: string): Promise<void> {
  if (self === id || (actor.type === 'user' && actor.id === id)) throw forbidden('you cannot delete yourself; ask another administrator');
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    await endUserAccess(tx, id);
    await tx.query('DELETE FROM users WHERE id = $1', [id]);
    await recordAudit(tx, { type: 'user.deleted', actor, target: { type: 'user', id }, data: { email: current.email } });
  });
}
