import type { Queryable } from '../db/database.js';

export interface Role {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  created_at: Date;
  updated_at: Date;
}

export const toRole = (r: Row): Role => ({
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  builtin: r.builtin,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export async function listRoles(db: Queryable): Promise<Role[]> {
  const { rows } = await db.query<Row>('SELECT * FROM roles ORDER BY builtin DESC, name');
  return rows.map(toRole);
}

export async function findRole(db: Queryable, name: string): Promise<Role | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM roles WHERE name = $1', [name]);
  return rows[0] && toRole(rows[0]);
}

export async function rolesOfUser(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ role_name: string }>('SELECT role_name FROM user_roles WHERE user_id = $1 ORDER BY role_name', [userId]);
  return rows.map((r) => r.role_name);
}

/**
 * What a user's roles allow right now: the union of their roles' permissions. Read on every use,
 * so a role change applies to existing tokens and keys at once.
 */
export async function permissionsOfUser(db: Queryable, userId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ permission: string }>(
    `SELECT DISTINCT jsonb_array_elements_text(r.permissions) AS permission
     FROM user_roles ur JOIN roles r ON r.name = ur.role_name
     JOIN users u ON u.id = ur.user_id
     WHERE ur.user_id = $1 AND u.active`,
    [userId],
  );
  return new Set(rows.map((r) => r.permission));
}

export async function setUserRoles(db: Queryable, userId: string, roles: readonly string[]): Promise<void> {
  await db.query('DELETE FROM user_roles WHERE user_id = $1', [userId]);
  for (const role of roles) {
    await db.query('INSERT INTO user_roles (user_id, role_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, role]);
  }
}
