import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { deleteRoleRow, findRole, insertRole, listRoles, type Role, updateRoleFields } from '../store/roles.js';
import { recordAudit } from './audit.js';
import { assertMayConfer } from './delegation.js';
import type { Principal } from './principal.js';
import { conflict, forbidden, notFound } from './errors.js';
import { scopeName, timestamp } from './validation.js';
import { checkApiScopes } from './scopes-check.js';
import { DESCRIPTION_MAX, MAX_SCOPES, ROLE_NAME } from './limits.js';

const permissions = z.array(scopeName).max(MAX_SCOPES).transform((p) => [...new Set(p)]);
/** The roles table's CHECK constraint, so a bad name fails with a message, not SQL. */
export const roleName = z.string().regex(ROLE_NAME, 'role names are 2-63 lower-case letters, digits, _ and -, starting with a letter');

/** Issue 13: whoever holds the role signs in with two factors (README “Two-factor sign-in”). */
const requireTwoFactors = z.boolean().meta({ description: 'Holders of this role sign in with a second factor; one who has none sets one up at their next sign-in.' });

export const createRoleSchema = z.strictObject({
  name: roleName,
  description: z.string().max(DESCRIPTION_MAX).default(''),
  permissions,
  require_two_factors: requireTwoFactors.default(false),
});

export const updateRoleSchema = z.strictObject({
  description: z.string().max(DESCRIPTION_MAX).optional(),
  permissions: permissions.optional(),
  require_two_factors: requireTwoFactors.optional().meta({ description: 'The one field a built-in role lets you change.' }),
});

export const roleSchema = z.strictObject({
  id: z.string().meta({ description: 'The role name.' }),
  name: z.string(),
  description: z.string(),
  permissions: z.array(z.string()),
  builtin: z.boolean().meta({ description: 'Built-in roles (admin, developer, viewer) are read-only, but for require_two_factors.' }),
  require_two_factors: requireTwoFactors,
  created_at: timestamp,
  updated_at: timestamp,
});

export const serializeRole = (r: Role): z.infer<typeof roleSchema> => ({
  id: r.name,
  name: r.name,
  description: r.description,
  permissions: r.permissions,
  builtin: r.builtin,
  require_two_factors: r.requireTwoFactors,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
});

async function mustFind(q: Queryable, name: string): Promise<Role> {
  const role = await findRole(q, name);
  if (!role) throw notFound(`role ${name}`);
  return role;
}

const readOnly = (role: Role) => {
  if (role.builtin) throw forbidden(`${role.name} is a built-in role and cannot be changed; create a custom role instead`);
};

export async function listAllRoles(db: Queryable) {
  return { data: (await listRoles(db)).map(serializeRole), next_cursor: null };
}

export async function getRole(db: Queryable, name: string) {
  return serializeRole(await mustFind(db, name));
}

export async function createRole(db: Database, input: z.infer<typeof createRoleSchema>, caller: Principal) {
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, input.permissions, 'permissions');
    await assertMayConfer(tx, caller, input.permissions, 'a role with these permissions', 'permissions');
    if (!(await insertRole(tx, input))) throw conflict(`a role named ${input.name} already exists`);
    await recordAudit(tx, { type: 'role.created', actor: caller.actor, target: { type: 'role', id: input.name }, data: { permissions: input.permissions } });
    return serializeRole(await mustFind(tx, input.name));
  });
}

/**
 * A role change applies at once to every holder's API keys and next tokens: nothing is copied. So
 * changing a role is giving (or taking) its permissions to everyone who holds it: the caller must
 * hold every permission it has now and will have, including on a role they hold themselves.
 */
export async function updateRole(db: Database, name: string, patch: z.infer<typeof updateRoleSchema>, caller: Principal) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, name);
    // A built-in role's permissions are fixed; whether it requires two factors is the operator's call.
    if (patch.description !== undefined || patch.permissions !== undefined) readOnly(current);
    if (patch.permissions) await checkApiScopes(tx, patch.permissions, 'permissions');
    await assertMayConfer(tx, caller, [...current.permissions, ...(patch.permissions ?? [])], `changing the role ${name}`, patch.permissions ? 'permissions' : undefined);
    await updateRoleFields(tx, name, patch);
    await recordAudit(tx, {
      type: 'role.updated',
      actor: caller.actor,
      target: { type: 'role', id: name },
      data: {
        before: current.permissions,
        after: patch.permissions ?? current.permissions,
        ...(patch.require_two_factors !== undefined && patch.require_two_factors !== current.requireTwoFactors ? { require_two_factors: patch.require_two_factors } : {}),
      },
    });
    return serializeRole(await mustFind(tx, name));
  });
}

/** Deleting a role takes its permissions from everyone who holds it: the caller must hold them all. */
export async function deleteRole(db: Database, name: string, caller: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, name);
    readOnly(current);
    await assertMayConfer(tx, caller, current.permissions, `deleting the role ${name}`);
    await deleteRoleRow(tx, name);
    await recordAudit(tx, { type: 'role.deleted', actor: caller.actor, target: { type: 'role', id: name } });
  });
}
