import type { Queryable } from '../db/database.js';

export interface Role {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  requireTwoFactors: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  require_two_factors: boolean;
  created_at: Date;
  updated_at: Date;
}

export const toRole = (r: Row): Role => ({
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  builtin: r.builtin,
  requireTwoFactors: Boolean(r.require_two_factors),
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

/**
 * What a user's roles give, whether or not the account is active: what someone acting on that user
 * must hold themselves (a deactivated administrator is still an administrator to reactivate).
 */
export async function permissionsOfRolesOfUser(db: Queryable, userId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ permission: string }>(
    `SELECT DISTINCT jsonb_array_elements_text(r.permissions) AS permission
     FROM user_roles ur JOIN roles r ON r.name = ur.role_name WHERE ur.user_id = $1`,
    [userId],
  );
  return new Set(rows.map((r) => r.permission));
}

/** The named roles that exist, with their permissions. */
export async function findRoles(db: Queryable, names: readonly string[]): Promise<Role[]> {
  if (!names.length) return [];
  const { rows } = await db.query<Row>('SELECT * FROM roles WHERE name = ANY($1::text[])', [names]);
  return rows.map(toRole);
}

/** Inserts a role; false when the name is taken. */
export async function insertRole(db: Queryable, role: { name: string; description: string; permissions: string[]; require_two_factors?: boolean }): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO roles (name, description, permissions, require_two_factors) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
    [role.name, role.description, JSON.stringify(role.permissions), role.require_two_factors ?? false],
  );
  return rowCount > 0;
}

export async function updateRoleFields(db: Queryable, name: string, patch: { description?: string; permissions?: string[]; require_two_factors?: boolean }): Promise<void> {
  await db.query(
    `UPDATE roles SET description = COALESCE($2, description), permissions = COALESCE($3, permissions),
       require_two_factors = COALESCE($4, require_two_factors), updated_at = now()
     WHERE name = $1`,
    [name, patch.description ?? null, patch.permissions ? JSON.stringify(patch.permissions) : null, patch.require_two_factors ?? null],
  );
}

export async function deleteRoleRow(db: Queryable, name: string): Promise<void> {
  await db.query('DELETE FROM roles WHERE name = $1', [name]);
}

/** Users who hold the role. */
export async function holdersOfRole(db: Queryable, name: string): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM user_roles WHERE role_name = $1', [name]);
  return rows.map((r) => r.user_id);
}

export async function setUserRoles(db: Queryable, userId: string, roles: readonly string[]): Promise<void> {
  await db.query('DELETE FROM user_roles WHERE user_id = $1', [userId]);
  for (const role of roles) {
    await db.query('INSERT INTO user_roles (user_id, role_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, role]);
  }
}
