import type { Queryable } from '../db/database.js';

export interface User {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  active: boolean;
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
  sessionsValidAfter: r.sessions_valid_after ? new Date(r.sessions_valid_after) : null,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  // Subjects come from tokens and sessions; anything that is not a uuid cannot be a user.
  if (!UUID.test(id)) return undefined;
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
