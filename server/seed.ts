import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Database, joinTransaction } from './db/database.js';
import { verifyPassword } from './crypto/passwords.js';
import { findApiByIdentifier } from './store/apis.js';
import { findClient } from './store/clients.js';
import { findRole } from './store/roles.js';
import { findUserByEmail } from './store/users.js';
import { createApi, createApiSchema, updateApi, updateApiSchema } from './services/apis.js';
import { recordAudit } from './services/audit.js';
import { createClient, createClientSchema, setOperatorSecret, updateClient } from './services/clients.js';
import { ApiError } from './services/errors.js';
import { systemPrincipal } from './services/principal.js';
import { createRole, createRoleSchema, updateRole } from './services/roles.js';
import { createUser, createUserSchema, updateUser } from './services/users.js';

/**
 * The seed file: APIs, roles, users and clients an installation starts with, declared in JSON and
 * applied idempotently at start (SEED_FILE) or with `gatehouse seed`. Each entry is the Management
 * API's own request body (the services' schemas), plus what only an operator may declare: a client's
 * secret. Entries are applied through the same services, acting as the system (audited as
 * system:seed): an API, role, user or client that exists is updated with what the seed gives, and
 * only then, so that a restart changes nothing that was not changed in the file.
 */

/** The built-in roles (migrations/002): granted by name, never redefined by a seed. */
export const BUILTIN_ROLES = ['admin', 'developer', 'viewer'] as const;

const apiSchema = updateApiSchema.extend({
  identifier: createApiSchema.shape.identifier,
  name: createApiSchema.shape.name,
  scopes: createApiSchema.shape.scopes,
});

const roleSchema = createRoleSchema.refine((r) => !(BUILTIN_ROLES as readonly string[]).includes(r.name), {
  message: 'is a built-in role and cannot be redefined',
  path: ['name'],
});

export const userSchema = createUserSchema.extend({
  password: createUserSchema.shape.password.unwrap(),
  /** When given, exactly these roles (the seed is declarative); when left out, roles are left alone. */
  roles: createUserSchema.shape.roles.unwrap().optional(),
});

export const clientSchema = createClientSchema
  .extend({
    client_id: createClientSchema.shape.client_id.unwrap(),
    client_name: createClientSchema.shape.client_name.optional(),
    // A secret the operator chose (the server issues one everywhere else); only its digest is kept.
    client_secret: z.string().min(16, 'client secrets need at least 16 characters').max(512).optional(),
  })
  .superRefine((c, ctx) => {
    const isPublic = c.token_endpoint_auth_method === 'none';
    if (isPublic && c.client_secret) ctx.addIssue({ code: 'custom', message: 'a public client (token_endpoint_auth_method "none") has no secret', path: ['client_secret'] });
    if (!isPublic && !c.client_secret) ctx.addIssue({ code: 'custom', message: 'a confidential client needs a client_secret', path: ['client_secret'] });
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

const SEED = systemPrincipal('seed');

/** A service's refusal, named by the entry it came from. */
async function entry<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw new SeedError(`${where}: ${err.error_description}`);
    throw err;
  }
}

const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);

/**
 * Applies a seed idempotently: APIs by identifier, roles by name, users by email, clients by
 * client_id are created or updated, never duplicated. Roles come before users, who are granted them;
 * APIs before roles and clients, which name their scopes; an API's resource servers after the clients. A seeded secret replaces the client's other
 * secrets. All of it in one transaction: a seed is applied whole or not at all. With `audit`, one
 * `seed.applied` event also records the file.
 */
export async function applySeed(
  database: Database,
  seed: Seed,
  options: { audit?: { source?: string } } = {},
): Promise<{ apis: number; roles: number; users: number; clients: number }> {
  return database.transaction((tx) => applyAll(joinTransaction(database, tx), seed, options));
}

async function applyAll(db: Database, seed: Seed, options: { audit?: { source?: string } }) {
  for (const [i, api] of seed.apis.entries()) {
    await entry(`apis.${i} (${api.identifier})`, async () => {
      // Resource servers are clients, which come later: they are set once the clients exist.
      const { resource_servers: _servers, ...rest } = api;
      const existing = await findApiByIdentifier(db, api.identifier);
      if (!existing) return createApi(db, createApiSchema.parse(rest), SEED);
      const { identifier: _identifier, ...patch } = rest;
      return updateApi(db, existing.id, patch, SEED);
    });
  }
  for (const [i, role] of seed.roles.entries()) {
    await entry(`roles.${i} (${role.name})`, async () => {
      const existing = await findRole(db, role.name);
      if (!existing) return createRole(db, role, SEED);
      if (existing.builtin) throw new SeedError(`role ${role.name} is built in and cannot be redefined`);
      if (existing.description !== role.description || differs([...existing.permissions].sort(), [...role.permissions].sort()) || existing.requireTwoFactors !== role.require_two_factors) {
        await updateRole(db, role.name, { description: role.description, permissions: role.permissions, require_two_factors: role.require_two_factors }, SEED);
      }
    });
  }
  for (const [i, user] of seed.users.entries()) {
    await entry(`users.${i} (${user.email})`, async () => {
      const existing = await findUserByEmail(db, user.email);
      if (!existing) return createUser(db, { ...user, roles: user.roles ?? [] }, SEED);
      const patch = {
        ...(existing.name !== user.name ? { name: user.name } : {}),
        // Only a changed password is set: setting one ends the user's sessions.
        ...((await verifyPassword(existing.passwordHash, user.password)) ? {} : { password: user.password }),
        ...(user.roles ? { roles: user.roles } : {}),
      };
      if (Object.keys(patch).length) await updateUser(db, existing.id, patch, SEED);
    });
  }
  for (const [i, client] of seed.clients.entries()) {
    await entry(`clients.${i} (${client.client_id})`, async () => {
      const { client_secret, ...input } = client;
      const spec = { ...input, client_name: input.client_name ?? input.client_id };
      const existing = await findClient(db, client.client_id);
      if (!existing) return createClient(db, spec, SEED, { secret: client_secret });
      // What the file declares of the client's metadata; its state (enabled, expiry, allowlist) is
      // the Management API's to change.
      await updateClient(db, client.client_id, {
        client_name: spec.client_name,
        grant_types: spec.grant_types,
        redirect_uris: spec.redirect_uris,
        post_logout_redirect_uris: spec.post_logout_redirect_uris,
        token_endpoint_auth_method: spec.token_endpoint_auth_method,
        scope: spec.scope,
        require_pkce: spec.require_pkce,
        require_pushed_authorization_requests: spec.require_pushed_authorization_requests,
        dpop_bound_access_tokens: spec.dpop_bound_access_tokens,
      }, SEED);
      await setOperatorSecret(db, client.client_id, client_secret, SEED);
    });
  }
  for (const [i, api] of seed.apis.entries()) {
    if (!api.resource_servers) continue;
    await entry(`apis.${i} (${api.identifier})`, async () => {
      const existing = await findApiByIdentifier(db, api.identifier);
      if (existing && differs(existing.resourceServers, api.resource_servers)) {
        await updateApi(db, existing.id, { resource_servers: api.resource_servers }, SEED);
      }
    });
  }
  if (options.audit) {
    await recordAudit(db, {
      type: 'seed.applied',
      actor: SEED.actor,
      data: {
        source: options.audit.source,
        apis: seed.apis.map((a) => a.identifier),
        roles: seed.roles.map((r) => r.name),
        users: seed.users.map((u) => u.email),
        clients: seed.clients.map((c) => c.client_id),
      },
    });
  }
  return { apis: seed.apis.length, roles: seed.roles.length, users: seed.users.length, clients: seed.clients.length };
}
