import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { issueCredential } from '../crypto/credentials.js';
import { isOidcScope } from './scope-names.js';
import {
  type ApiKeyRow, deleteApiKeyRow, findApiKeyRow, insertApiKey, listApiKeyRows, toApiKey, updateApiKeyFields,
} from '../store/api-keys.js';
import { enforcedScopes } from '../store/apis.js';
import { permissionsOfUser } from '../store/roles.js';
import { findUserByEmail, findUserById } from '../store/users.js';
import type { Principal } from './principal.js';
import { recordAudit } from './audit.js';
import { initiatorOf, recordApiKeyAccessEnd } from './ssf/events.js';
import { assertMayActOnUser, assertMayConfer } from './delegation.js';
import { forbidden, insufficientScope, invalidRequest, notFound } from './errors.js';
import { decodeCursor, pageOf, pageQuery, parseLimit, queryValue } from './pagination.js';
import { environment, expiresIn, expiryDate, ipAllowlist, iso, optionalTimestamp, scopeName, timestamp } from './validation.js';
import { checkApiScopes } from './scopes-check.js';
import { MAX_KEY_SCOPES, NAME_MAX } from './limits.js';
import { isUuid } from '../store/ids.js';

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
  previous_key_expires_at: optionalTimestamp.meta({
    description: 'Until when the key’s previous value still works after a roll; null when there is none.',
  }),
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
    previous_key_expires_at: k.previous && k.previous.expiresAt.getTime() > Date.now() ? k.previous.expiresAt.toISOString() : null,
  };
}

/**
 * Whose keys the caller may manage. api-keys:write covers your own; someone else's also needs
 * users:write (administering users), so a developer manages only their own keys. The operator's
 * tools name the owner (by id or email) and act as the system.
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
 * roles allow: a key that silently does less than it says helps nobody. Use is bounded by the owner's
 * roles again on every call. What the caller may hand out is the delegation rule's to say.
 */
async function checkWithinOwnersRoles(q: Queryable, ownerId: string, requested: string[]) {
  const enforced = await enforcedScopes(q, requested);
  if (!enforced.size) return;
  const allowed = await permissionsOfUser(q, ownerId);
  const denied = [...enforced].find((s) => !allowed.has(s));
  if (denied) throw forbidden(`the key's owner may not hold ${denied}: their roles do not allow it`);
}

function checkScopeKinds(list: string[]) {
  if (list.some(isOidcScope)) throw invalidRequest('scopes: identity scopes cannot be given to an API key', 'scopes');
}

/** Whether the caller may see a key of this owner at all: their own, or anyone's with users:write. */
export const maySeeKeyOf = (principal: Principal, ownerId: string | null) =>
  (ownerId !== null && ownerId === principal.userId) || principal.permissions.has('users:write');

/** The key, if the caller may see it (maySeeKeyOf). */
export async function mustFind(q: Queryable, id: string, principal: Principal): Promise<ApiKeyRow> {
  const row = await findApiKeyRow(q, id);
  // Someone else's key is "not found" to a caller who may not manage it: ids are not disclosed.
  if (!row || !maySeeKeyOf(principal, row.user_id)) throw notFound(`API key ${id}`);
  return row;
}

/** Managing another user's key is acting on that user: the delegation rule applies. */
export async function checkMayManage(q: Queryable, key: ApiKeyRow, principal: Principal) {
  if (key.user_id !== principal.userId) await assertMayActOnUser(q, principal, key.user_id);
}

export async function createApiKey(db: Database, input: z.infer<typeof createApiKeySchema>, principal: Principal) {
  const requestedOwner = input.user_id;
  const owner = principal.kind === 'system' && requestedOwner
    ? (await findUserById(db, requestedOwner)) ?? (await findUserByEmail(db, requestedOwner))
    : await findUserById(db, ownerFor(principal, requestedOwner));
  if (!owner) throw invalidRequest(`user_id: no user ${requestedOwner ?? principal.userId}`, 'user_id');
  if (!owner.active) throw invalidRequest('user_id: the user is deactivated', 'user_id');
  checkScopeKinds(input.scopes);
  const credential = issueCredential('ak', input.environment);
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, input.scopes, 'scopes');
    if (owner.id !== principal.userId) await assertMayActOnUser(tx, principal, owner.id);
    await assertMayConfer(tx, principal, input.scopes, 'a key with these scopes', 'scopes');
    await checkWithinOwnersRoles(tx, owner.id, input.scopes);
    const row = await insertApiKey(tx, {
      userId: owner.id, name: input.name, prefix: credential.prefix, hash: credential.hash, scopes: input.scopes,
      environment: input.environment, ipAllowlist: input.ip_allowlist, expiresAt: expiryDate(input.expires_in) ?? null,
    });
    await recordAudit(tx, {
      type: 'api_key.created',
      actor: principal.actor,
      target: { type: 'api_key', id: row.id },
      data: { user_id: owner.id, name: input.name, scopes: input.scopes, environment: input.environment },
    });
    return { ...serializeApiKey(row), key: credential.value };
  });
}


export async function listApiKeys(db: Queryable, principal: Principal, query: { user?: string; cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { c: 'timestamp', i: 'uuid' });
  // Whose keys: ?user= (yours, or anyone's with users:write); else your own; an automation client
  // holding users:write, which has no keys of its own, sees everyone's.
  let userId: string | null;
  if (query.user === 'all') {
    if (!principal.permissions.has('users:write')) throw insufficientScope('users:write');
    userId = null;
  } else if (query.user !== undefined) {
    if (!isUuid(query.user)) throw invalidRequest('user must be a user id, or all', 'user');
    userId = ownerFor(principal, query.user);
  } else if (principal.userId) userId = principal.userId;
  else if (principal.permissions.has('users:write')) userId = null;
  else throw forbidden('list keys with ?user=<id>: this token does not belong to a user');
  const rows = await listApiKeyRows(db, { userId, after: after && { createdAt: after.c, id: after.i }, limit: limit + 1 });
  return pageOf(rows, limit, serializeApiKey, (r) => ({ c: new Date(r.created_at).toISOString(), i: r.id }));
}

export async function getApiKey(db: Queryable, id: string, principal: Principal) {
  return serializeApiKey(await mustFind(db, id, principal));
}

/**
 * A key never widens itself or another: new scopes, or enabling a disabled key, confer what the
 * key then carries, so the caller must hold it. Renaming or disabling only takes away.
 */
export async function updateApiKey(db: Database, id: string, patch: z.infer<typeof updateApiKeySchema>, principal: Principal) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id, principal);
    await checkMayManage(tx, current, principal);
    if (patch.scopes) {
      checkScopeKinds(patch.scopes);
      await checkApiScopes(tx, patch.scopes, 'scopes');
      await checkWithinOwnersRoles(tx, current.user_id, patch.scopes);
    }
    if (patch.scopes || (patch.enabled === true && !current.enabled)) {
      await assertMayConfer(tx, principal, patch.scopes ?? current.scopes, 'a key with these scopes', patch.scopes ? 'scopes' : undefined);
    }
    const row = await updateApiKeyFields(tx, id, patch);
    await recordAudit(tx, { type: 'api_key.updated', actor: principal.actor, target: { type: 'api_key', id }, data: { fields: Object.keys(patch), scopes: row.scopes } });
    // Tokens exchanged for it stop at resource servers too (Shared Signals, services/ssf).
    if (patch.enabled === false && current.enabled) await recordApiKeyAccessEnd(tx, id, current.user_id, 'disabled', initiatorOf(principal.actor));
    return serializeApiKey(row);
  });
}

export async function deleteApiKey(db: Database, id: string, principal: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id, principal);
    await checkMayManage(tx, current, principal);
    await deleteApiKeyRow(tx, id);
    await recordAudit(tx, { type: 'api_key.revoked', actor: principal.actor, target: { type: 'api_key', id }, data: { user_id: current.user_id, name: current.name } });
    await recordApiKeyAccessEnd(tx, id, current.user_id, 'revoked', initiatorOf(principal.actor));
  });
}
