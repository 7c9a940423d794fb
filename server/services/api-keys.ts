import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { issueCredential } from '../crypto/credentials.js';
import { isOidcScope } from './scope-names.js';
import { type ApiKeyRow, toApiKey } from '../store/api-keys.js';
import { permissionsOfUser } from '../store/roles.js';
import { findUserById } from '../store/users.js';
import type { Principal } from './principal.js';
import { recordAudit } from './audit.js';
import { forbidden, insufficientScope, invalidRequest, notFound } from './errors.js';
import { decodeCursor, pageOf, pageQuery, parseLimit, queryValue } from './pagination.js';
import { environment, expiresIn, expiryDate, ipAllowlist, iso, optionalTimestamp, scopeName, timestamp } from './validation.js';
import { checkApiScopes } from './scopes-check.js';
import { MAX_KEY_SCOPES, NAME_MAX } from './limits.js';

const scopes = z.array(scopeName).min(1).max(MAX_KEY_SCOPES).transform((s) => [...new Set(s)]);
const name = z.string().trim().min(1).max(NAME_MAX);

/** Ten years: keys that should never expire are made without expires_in, not with a huge one. */
const MAX_KEY_LIFETIME = 10 * 365 * 86400;

export const createApiKeySchema = z.strictObject({
  name,
  scopes,
  expires_in: expiresIn.refine((s) => s <= MAX_KEY_LIFETIME, 'a key lives at most 3650 days; leave expires_in out for no expiry').optional(),
  environment: environment.default('live'),
  ip_allowlist: ipAllowlist.default([]),
  user_id: z.string().optional().meta({ description: 'Whose key: default the caller; another user’s needs users:write.' }),
});

export const updateApiKeySchema = z.strictObject({
  name: name.optional(),
  scopes: scopes.optional(),
  enabled: z.boolean().optional(),
});

/** GET /api-keys: whose keys, besides the page. */
export const listApiKeysQuery = pageQuery.extend({
  user: queryValue.optional().meta({ description: 'A user id, or all (both need users:write); default the caller’s own keys.' }),
});

export const apiKeySchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: 'The non-secret head of the key (ak_live_…).' }),
  user_id: z.string(),
  scopes: z.array(z.string()),
  environment,
  ip_allowlist: z.array(z.string()),
  enabled: z.boolean(),
  status: z.enum(['active', 'disabled', 'expired']),
  created_at: timestamp,
  updated_at: timestamp,
  expires_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
  last_used_ip: z.string().nullable(),
});

export const apiKeyCreatedSchema = apiKeySchema.extend({
  key: z.string().regex(/^ak_(live|test)_/).meta({ description: 'The key: shown in this response only, never again.' }),
});

export function serializeApiKey(r: ApiKeyRow): z.infer<typeof apiKeySchema> {
  const k = toApiKey(r);
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    user_id: k.userId,
    scopes: k.scopes,
    environment: k.environment,
    ip_allowlist: k.ipAllowlist,
    enabled: k.enabled,
    status: !k.enabled ? 'disabled' : k.expiresAt && k.expiresAt.getTime() <= Date.now() ? 'expired' : 'active',
    created_at: k.createdAt.toISOString(),
    updated_at: k.updatedAt.toISOString(),
    expires_at: iso(k.expiresAt),
    last_used_at: iso(k.lastUsedAt),
    last_used_ip: k.lastUsedIp,
  };
}

/**
 * Whose keys the caller may manage. api-keys:write covers your own; someone else's also needs
 * users:write (administering users), so a developer manages only their own keys.
 */
function ownerFor(principal: Principal, requested: string | undefined): string {
  if (requested && requested !== principal.userId) {
    if (!principal.permissions.has('users:write')) throw insufficientScope('users:write');
    return requested;
  }
  if (!principal.userId) throw forbidden('an API key belongs to a user: a client credentials token must name one with user_id (and hold users:write)');
  return principal.userId;
}

/**
 * Scopes of APIs that enforce roles (the Management API always does) must be within what the owner's
 * roles allow, and within the creator's when a user makes a key for someone else: nobody hands out
 * more than they hold. Use is bounded by the owner's roles again on every call, so this is about
 * telling the caller now rather than handing out a key that silently does less.
 */
async function checkWithinRoles(q: Queryable, ownerId: string, requested: string[], creatorId?: string) {
  const { rows } = await q.query<{ name: string }>(
    `SELECT s->>'name' AS name FROM apis, jsonb_array_elements(scopes) s WHERE enforce_roles AND s->>'name' = ANY($1::text[])`,
    [requested],
  );
  if (!rows.length) return;
  const allowed = await permissionsOfUser(q, ownerId);
  const denied = rows.find((r) => !allowed.has(r.name));
  if (denied) throw forbidden(`the key's owner may not hold ${denied.name}: their roles do not allow it`);
  if (creatorId && creatorId !== ownerId) {
    const yours = await permissionsOfUser(q, creatorId);
    const notYours = rows.find((r) => !yours.has(r.name));
    if (notYours) throw forbidden(`you may not hand out ${notYours.name}: your roles do not allow it`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function mustFind(q: Queryable, id: string, principal: Principal): Promise<ApiKeyRow> {
  const { rows } = UUID.test(id) ? await q.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]) : { rows: [] as ApiKeyRow[] };
  const row = rows[0];
  // Someone else's key is "not found" to a caller who may not manage it: ids are not disclosed.
  if (!row || (row.user_id !== principal.userId && !principal.permissions.has('users:write'))) throw notFound(`API key ${id}`);
  return row;
}

export async function createApiKey(db: Database, input: z.infer<typeof createApiKeySchema>, principal: Principal) {
  const ownerId = ownerFor(principal, input.user_id);
  const owner = await findUserById(db, ownerId);
  if (!owner) throw invalidRequest('user_id: no such user', 'user_id');
  if (!owner.active) throw invalidRequest('user_id: the user is deactivated', 'user_id');
  if (input.scopes.some(isOidcScope)) throw invalidRequest('scopes: identity scopes cannot be given to an API key', 'scopes');
  const credential = issueCredential('ak', input.environment);
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, input.scopes, 'scopes');
    await checkWithinRoles(tx, ownerId, input.scopes, principal.userId);
    const { rows } = await tx.query<ApiKeyRow>(
      `INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, environment, ip_allowlist, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [ownerId, input.name, credential.prefix, credential.hash, JSON.stringify(input.scopes), input.environment,
        JSON.stringify(input.ip_allowlist), expiryDate(input.expires_in) ?? null],
    );
    await recordAudit(tx, {
      type: 'api_key.created',
      actor: principal.actor,
      target: { type: 'api_key', id: rows[0].id },
      data: { user_id: ownerId, name: input.name, scopes: input.scopes, environment: input.environment },
    });
    return { ...serializeApiKey(rows[0]), key: credential.value };
  });
}

export async function listApiKeys(db: Queryable, principal: Principal, query: { user?: string; cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor<{ c: string; i: string }>(query.cursor, ['c', 'i']);
  // Whose keys: ?user= (yours, or anyone's with users:write); else your own; an automation client
  // holding users:write, which has no keys of its own, sees everyone's.
  let userId: string | null;
  if (query.user === 'all') {
    if (!principal.permissions.has('users:write')) throw insufficientScope('users:write');
    userId = null;
  } else if (query.user !== undefined) {
    if (!UUID.test(query.user)) throw invalidRequest('user must be a user id, or all', 'user');
    userId = ownerFor(principal, query.user);
  } else if (principal.userId) userId = principal.userId;
  else if (principal.permissions.has('users:write')) userId = null;
  else throw forbidden('list keys with ?user=<id>: this token does not belong to a user');
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT * FROM api_keys WHERE ($1::uuid IS NULL OR user_id = $1::uuid)
       AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [userId, after?.c ?? null, after?.i ?? null, limit + 1],
  );
  return pageOf(rows, limit, serializeApiKey, (r) => ({ c: new Date(r.created_at).toISOString(), i: r.id }));
}

export async function getApiKey(db: Queryable, id: string, principal: Principal) {
  return serializeApiKey(await mustFind(db, id, principal));
}

export async function updateApiKey(db: Database, id: string, patch: z.infer<typeof updateApiKeySchema>, principal: Principal) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id, principal);
    if (patch.scopes) {
      if (patch.scopes.some(isOidcScope)) throw invalidRequest('scopes: identity scopes cannot be given to an API key', 'scopes');
      await checkApiScopes(tx, patch.scopes, 'scopes');
      await checkWithinRoles(tx, current.user_id, patch.scopes, principal.userId);
    }
    const { rows } = await tx.query<ApiKeyRow>(
      `UPDATE api_keys SET name = COALESCE($2, name), scopes = COALESCE($3, scopes), enabled = COALESCE($4, enabled), updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, patch.name ?? null, patch.scopes ? JSON.stringify(patch.scopes) : null, patch.enabled ?? null],
    );
    await recordAudit(tx, { type: 'api_key.updated', actor: principal.actor, target: { type: 'api_key', id }, data: { fields: Object.keys(patch), scopes: rows[0].scopes } });
    return serializeApiKey(rows[0]);
  });
}

export async function deleteApiKey(db: Database, id: string, principal: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id, principal);
    await tx.query('DELETE FROM api_keys WHERE id = $1', [id]);
    await recordAudit(tx, { type: 'api_key.revoked', actor: principal.actor, target: { type: 'api_key', id }, data: { user_id: current.user_id, name: current.name } });
  });
}
