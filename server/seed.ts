import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Database, Queryable } from './db/database.js';
import { hashPassword, verifyPassword } from './crypto/passwords.js';
import { passwordRule } from './services/password-rules.js';
import { digest } from './crypto/tokens.js';
import { upsertApi } from './store/apis.js';
import { addClientSecret, deleteClientSecrets, findClient, upsertClient } from './store/clients.js';
import { findUserByEmail, upsertUserByEmail } from './store/users.js';
import { setUserRoles } from './store/roles.js';
import { isOidcScope } from './services/scope-names.js';
import { type Actor, recordAudit } from './services/audit.js';
import { MANAGEMENT_SCOPES } from './services/management-api.js';

export const scopeName = z.string().regex(/^[\w.-]+:[\w.*-]+$/, 'scopes are named resource:action, e.g. orders:read');

const apiSchema = z.object({
  identifier: z.url(),
  name: z.string().min(1).max(200),
  scopes: z.array(z.union([scopeName, z.object({ name: scopeName, description: z.string().max(300).optional() })])),
  access_token_ttl: z.number().int().min(60).max(3600).optional(),
  signing_alg: z.enum(['RS256', 'PS256', 'ES256']).optional(),
});

/** The built-in roles (migrations/002): granted by name, never redefined by a seed. */
export const BUILTIN_ROLES = ['admin', 'developer', 'viewer'] as const;

// The same rule as the roles table's CHECK constraint, so a bad name fails with a message, not SQL.
const roleName = z.string().regex(/^[a-z][a-z0-9_-]{1,62}$/, 'role names are 2-63 lowercase letters, digits, _ or -, starting with a letter');

const roleSchema = z.object({
  name: roleName.refine((n) => !(BUILTIN_ROLES as readonly string[]).includes(n), 'is a built-in role and cannot be redefined'),
  description: z.string().max(300).optional(),
  permissions: z.array(scopeName).max(500),
});

export const userSchema = z.object({
  email: z.email(),
  name: z.string().min(1).max(200),
  password: z.string().superRefine(passwordRule),
  /** When given, exactly these roles (the seed is declarative); when left out, roles are left alone. */
  roles: z.array(roleName).optional(),
});

const redirectUri = z.url().refine((u) => !new URL(u).hash, 'redirect URIs must not have a fragment (RFC 6749 §3.1.2)');

export const clientSchema = z
  .object({
    client_id: z.string().regex(/^[\w.:-]{3,128}$/, 'client_id: 3-128 letters, digits, _ . : -'),
    client_secret: z.string().min(16, 'client secrets need at least 16 characters').optional(),
    client_name: z.string().min(1).max(200).optional(),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'])).min(1),
    redirect_uris: z.array(redirectUri).default([]),
    post_logout_redirect_uris: z.array(redirectUri).optional(),
    scope: z.string().optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
    application_type: z.enum(['web', 'native']).optional(),
  })
  .superRefine((c, ctx) => {
    const isPublic = c.token_endpoint_auth_method === 'none';
    if (isPublic && c.client_secret) ctx.addIssue({ code: 'custom', message: 'a public client (token_endpoint_auth_method "none") has no secret', path: ['client_secret'] });
    if (!isPublic && !c.client_secret) ctx.addIssue({ code: 'custom', message: 'a confidential client needs a client_secret', path: ['client_secret'] });
    if (isPublic && c.grant_types.includes('client_credentials')) ctx.addIssue({ code: 'custom', message: 'client_credentials needs a confidential client', path: ['grant_types'] });
    if (c.grant_types.includes('authorization_code') && !c.redirect_uris.length) ctx.addIssue({ code: 'custom', message: 'authorization_code needs at least one redirect URI', path: ['redirect_uris'] });
  });

export const seedSchema = z
  .object({
    apis: z.array(apiSchema).default([]),
    roles: z.array(roleSchema).default([]),
    users: z.array(userSchema).default([]),
    clients: z.array(clientSchema).default([]),
  })
  .superRefine((seed, ctx) => {
    const names = new Set<string>();
    seed.roles.forEach((r, i) => {
      if (names.has(r.name)) ctx.addIssue({ code: 'custom', message: `role ${r.name} is defined twice`, path: ['roles', i, 'name'] });
      names.add(r.name);
    });
  });

export type Seed = z.infer<typeof seedSchema>;

export class SeedError extends Error {
  override name = 'SeedError';
}

/** Reads and validates a seed file; `label` names where the path came from in errors. */
export function readSeedFile(path: string, label = 'SEED_FILE'): Seed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SeedError(`${label} ${path}: ${(err as Error).message}`);
  }
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new SeedError(`${label} ${path} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Every permission is a scope of a registered API: the Management API's, a seeded API's, or one
 * already in the database. Anything else would be a permission nothing can ever use.
 */
async function checkPermissions(tx: Queryable, seed: Seed): Promise<void> {
  const wanted = [...new Set(seed.roles.flatMap((r) => r.permissions))];
  if (!wanted.length) return;
  const known = new Set([
    ...Object.keys(MANAGEMENT_SCOPES),
    ...seed.apis.flatMap((a) => a.scopes.map((s) => (typeof s === 'string' ? s : s.name))),
  ]);
  const rest = wanted.filter((p) => !known.has(p));
  if (!rest.length) return;
  const { rows } = await tx.query<{ name: string }>(
    `SELECT DISTINCT s->>'name' AS name FROM apis, jsonb_array_elements(scopes) s WHERE s->>'name' = ANY($1::text[])`,
    [rest],
  );
  for (const { name } of rows) known.add(name);
  for (const role of seed.roles) {
    const unknown = role.permissions.filter((p) => !known.has(p));
    if (unknown.length) throw new SeedError(`role ${role.name}: ${unknown.join(', ')} is not a scope of any registered API`);
  }
}

/** Creates or updates a custom role; a built-in role of that name is never touched. */
async function upsertCustomRole(tx: Queryable, role: Seed['roles'][number]): Promise<void> {
  const { rowCount } = await tx.query(
    `INSERT INTO roles (name, description, permissions) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, permissions = EXCLUDED.permissions,
       updated_at = now()
       WHERE NOT roles.builtin
         AND (roles.description, roles.permissions) IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.permissions)`,
    [role.name, role.description ?? '', JSON.stringify([...new Set(role.permissions)])],
  );
  if (rowCount === 0) {
    const { rows } = await tx.query<{ builtin: boolean }>('SELECT builtin FROM roles WHERE name = $1', [role.name]);
    if (rows[0]?.builtin) throw new SeedError(`role ${role.name} is built in and cannot be redefined`);
  }
}

async function checkRolesExist(tx: Queryable, names: string[]): Promise<void> {
  if (!names.length) return;
  const { rows } = await tx.query<{ name: string }>('SELECT name FROM roles WHERE name = ANY($1::text[])', [names]);
  const found = new Set(rows.map((r) => r.name));
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new SeedError(`unknown role ${missing.join(', ')}: define it under "roles" or use ${BUILTIN_ROLES.join(', ')}`);
}

/**
 * Applies a seed idempotently: APIs by identifier, roles by name, users by email, clients by
 * client_id are created or updated, never duplicated. Roles come before users, who are granted
 * them. A seeded secret replaces the client's other secrets. With `audit`, one `seed.applied` event
 * is written in the same transaction (the CLI passes the operator's system actor).
 */
export async function applySeed(
  db: Database,
  seed: Seed,
  options: { audit?: { actor: Actor; source?: string } } = {},
): Promise<{ apis: number; roles: number; users: number; clients: number }> {
  // Passwords are hashed before the transaction: argon2 is slow on purpose.
  const users = await Promise.all(
    seed.users.map(async (u) => {
      const existing = await findUserByEmail(db, u.email);
      const same = existing && (await verifyPassword(existing.passwordHash, u.password));
      return { ...u, passwordHash: same ? existing.passwordHash : await hashPassword(u.password) };
    }),
  );
  await db.transaction(async (tx) => {
    for (const api of seed.apis) {
      await upsertApi(tx, {
        identifier: api.identifier,
        name: api.name,
        scopes: api.scopes.map((s) => (typeof s === 'string' ? { name: s } : s)),
        accessTokenTtl: api.access_token_ttl,
        signingAlg: api.signing_alg,
      });
    }
    await checkPermissions(tx, seed);
    for (const role of seed.roles) await upsertCustomRole(tx, role);
    await checkRolesExist(tx, [...new Set(users.flatMap((u) => u.roles ?? []))]);
    for (const u of users) {
      const user = await upsertUserByEmail(tx, u);
      if (u.roles) await setUserRoles(tx, user.id, [...new Set(u.roles)]);
    }
    for (const { client_id, client_secret, ...metadata } of seed.clients) {
      const scopes = (metadata.scope ?? '').split(' ').filter(Boolean);
      if (!metadata.grant_types.includes('authorization_code') && scopes.some(isOidcScope)) {
        throw new Error(`SEED_FILE: client ${client_id} cannot have identity scopes without authorization_code`);
      }
      await upsertClient(tx, client_id, metadata);
      if (client_secret) {
        const hash = digest(client_secret);
        const current = await findClient(tx, client_id);
        await deleteClientSecrets(tx, client_id, hash);
        if (!current?.secrets.some((s) => s.hash === hash)) {
          await addClientSecret(tx, client_id, { hash, hint: client_secret.slice(0, 4) });
        }
      } else {
        await deleteClientSecrets(tx, client_id);
      }
    }
    if (options.audit) {
      await recordAudit(tx, {
        type: 'seed.applied',
        actor: options.audit.actor,
        data: {
          source: options.audit.source,
          apis: seed.apis.map((a) => a.identifier),
          roles: seed.roles.map((r) => r.name),
          users: seed.users.map((u) => u.email),
          clients: seed.clients.map((c) => c.client_id),
        },
      });
    }
  });
  return { apis: seed.apis.length, roles: seed.roles.length, users: users.length, clients: seed.clients.length };
}
