import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import {
  type ApiRow, type ApiScope, deleteApiRow, findApiRow, holdersOfScopes, insertApi, listApiRows, scopesDefinedElsewhere, updateApiRow,
} from '../store/apis.js';
import { findClients } from '../store/clients.js';
import { recordAudit } from './audit.js';
import { assertMayConfer } from './delegation.js';
import { ApiError, conflict, forbidden, invalidRequest, notFound } from './errors.js';
import type { Principal } from './principal.js';
import { decodeCursor, pageOf, parseLimit } from './pagination.js';
import { scopeName, timestamp } from './validation.js';
import { ACCESS_TOKEN_TTL, DESCRIPTION_MAX, MAX_SCOPES, NAME_MAX } from './limits.js';
import { SIGNING_ALGS } from '../store/signing-keys.js';

const apiScope = z.strictObject({ name: scopeName, description: z.string().max(DESCRIPTION_MAX).optional() });
const scopeEntry = z.union([scopeName, apiScope]);
const scopes = z.array(scopeEntry).max(MAX_SCOPES).transform((list, ctx) => {
  const out: ApiScope[] = list.map((s) => (typeof s === 'string' ? { name: s } : s));
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `scope ${s.name} is listed twice` });
    seen.add(s.name);
  }
  return out;
});
// RFC 8707 §2: an absolute URI without a fragment. A string test, not new URL(): zod runs the
// refinement even after z.url() failed, and a throw there would be a 500.
const IDENTIFIER = 'The RFC 8707 resource indicator, and the aud of its tokens.';
const identifier = z
  .url()
  .max(500)
  .refine((u) => !u.includes('#'), 'an API identifier must not have a fragment (RFC 8707 §2)')
  .meta({ description: IDENTIFIER });
const name = z.string().trim().min(1).max(NAME_MAX);
const TTL = 'Seconds its access tokens live.';
const accessTokenTtl = z.number().int().min(ACCESS_TOKEN_TTL.min).max(ACCESS_TOKEN_TTL.max).meta({ description: TTL });
const signingAlg = z.enum(SIGNING_ALGS);
const enforceRoles = z.boolean().meta({ description: 'User tokens and keys carry only what the user’s roles allow.' });

/**
 * The confidential clients that act as this API's resource servers: they, and only they, may
 * introspect its tokens and API keys (RFC 7662 §4).
 */
const resourceServers = z
  .array(z.string().regex(/^[\w.:-]{3,128}$/, 'a client_id'))
  .max(50)
  .transform((l) => [...new Set(l)])
  .meta({ description: 'client_ids of the confidential clients that serve this API: only they may introspect its tokens and API keys (RFC 7662 §4).' });

export const createApiSchema = z.strictObject({
  identifier,
  name,
  scopes,
  access_token_ttl: accessTokenTtl.default(ACCESS_TOKEN_TTL.default),
  signing_alg: signingAlg.default('RS256'),
  enforce_roles: enforceRoles.default(false),
  resource_servers: resourceServers.default([]),
});

export const updateApiSchema = z.strictObject({
  name: name.optional(),
  scopes: scopes.optional(),
  access_token_ttl: accessTokenTtl.optional(),
  signing_alg: signingAlg.optional(),
  enforce_roles: enforceRoles.optional(),
  resource_servers: resourceServers.optional(),
  identifier: z.never({ error: 'identifier cannot change: it is the audience of every token issued for this API; register a new API' }).optional(),
});

type Row = ApiRow;

export const apiScopeSchema = z.strictObject({ name: z.string(), description: z.string().optional() });

export const apiSchema = z.strictObject({
  id: z.string(),
  identifier: z.string().meta({ description: IDENTIFIER }),
  name: z.string(),
  scopes: z.array(apiScopeSchema),
  access_token_ttl: z.number().int().meta({ description: TTL }),
  signing_alg: signingAlg,
  enforce_roles: enforceRoles,
  resource_servers: z
    .array(z.string())
    .meta({ description: 'Confidential clients that may introspect this API’s tokens and API keys (RFC 7662 §4); only they get active:true.' }),
  builtin: z.boolean().meta({ description: 'The Management API: only its resource_servers can change.' }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const serializeApi = (r: Row): z.infer<typeof apiSchema> => ({
  id: r.id,
  identifier: r.identifier,
  name: r.name,
  scopes: r.scopes,
  access_token_ttl: r.access_token_ttl,
  signing_alg: r.signing_alg as z.infer<typeof signingAlg>,
  enforce_roles: r.enforce_roles,
  resource_servers: r.resource_servers ?? [],
  builtin: r.builtin,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

async function mustFind(q: Queryable, id: string): Promise<Row> {
  const row = await findApiRow(q, id);
  if (!row) throw notFound(`API ${id}`);
  return row;
}

/** Resource servers are confidential clients that exist: a public one could be anyone. */
async function checkResourceServers(q: Queryable, clientIds: string[]) {
  const found = new Map((await findClients(q, clientIds)).map((c) => [c.clientId, c]));
  for (const id of clientIds) {
    const c = found.get(id);
    if (!c) throw invalidRequest(`resource_servers: there is no client ${id}`, 'resource_servers');
    if (c.metadata.token_endpoint_auth_method === 'none') {
      throw invalidRequest(`resource_servers: ${id} is a public client; only a client that authenticates may introspect (RFC 7662 §2.1)`, 'resource_servers');
    }
  }
}

/** Scope names this API defines that belong to another API already: names are global. */
async function checkScopesFree(q: Queryable, list: ApiScope[], exceptId: string | null) {
  const rows = await scopesDefinedElsewhere(q, list.map((s) => s.name), exceptId);
  if (rows[0]) throw conflict(`scope ${rows[0].name} already belongs to ${rows[0].identifier}: a scope names one permission of one API`);
}

/**
 * Scopes being removed (by deleting the API or editing its scopes) that something still holds:
 * clients that may be granted them, roles that give them, API keys that carry them. Our choice is to
 * refuse (409, listing the holders, up to 20 of each) rather than strip them silently: a client would
 * otherwise lose access with nobody having decided it, and a permission naming no API would come
 * back to life if a later API defined the same name.
 */
async function checkScopesUnused(q: Queryable, removed: string[]) {
  if (!removed.length) return;
  const rows = await holdersOfScopes(q, removed);
  if (!rows.length) return;
  const holders = { clients: [] as string[], roles: [] as string[], api_keys: [] as string[] };
  for (const r of rows) holders[r.kind].push(r.id);
  const named = Object.entries(holders)
    .filter(([, ids]) => ids.length)
    .map(([kind, ids]) => `${kind.replace('_', ' ')} ${ids.join(', ')}`);
  throw new ApiError(
    409,
    'conflict',
    `still in use: ${named.join('; ')} hold ${removed.join(', ')}; remove the scopes from them first`,
    {},
    { holders },
  );
}

export async function createApi(db: Database, input: z.infer<typeof createApiSchema>, caller: Principal) {
  return db.transaction(async (tx) => {
    await checkScopesFree(tx, input.scopes, null);
    await checkResourceServers(tx, input.resource_servers);
    const row = await insertApi(tx, {
      identifier: input.identifier, name: input.name, scopes: input.scopes, accessTokenTtl: input.access_token_ttl,
      signingAlg: input.signing_alg, enforceRoles: input.enforce_roles, resourceServers: input.resource_servers,
    });
    if (!row) throw conflict(`an API with identifier ${input.identifier} already exists`);
    await recordAudit(tx, { type: 'api.created', actor: caller.actor, target: { type: 'api', id: row.id }, data: { identifier: input.identifier, scopes: input.scopes.map((s) => s.name) } });
    return serializeApi(row);
  });
}

export async function listApis(db: Queryable, query: { cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { i: 'text' });
  const rows = await listApiRows(db, { afterIdentifier: after?.i, limit: limit + 1 });
  return pageOf(rows, limit, serializeApi, (r) => ({ i: r.identifier }));
}

export async function getApi(db: Queryable, id: string) {
  return serializeApi(await mustFind(db, id));
}

/**
 * Of the built-in Management API only its resource servers may change (which clients may
 * introspect its tokens); it is defined by the server. Turning enforce_roles off hands the API's
 * scopes to anyone who may edit a client: the caller must hold them all (the delegation rule).
 */
export async function updateApi(db: Database, id: string, patch: z.infer<typeof updateApiSchema>, caller: Principal) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    if (current.builtin && Object.keys(patch).some((k) => k !== 'resource_servers')) {
      throw forbidden('the Management API is built in: only its resource_servers can be changed');
    }
    if (patch.scopes) {
      await checkScopesFree(tx, patch.scopes, id);
      const kept = new Set(patch.scopes.map((s) => s.name));
      await checkScopesUnused(tx, current.scopes.map((s) => s.name).filter((s) => !kept.has(s)));
    }
    if (patch.resource_servers) await checkResourceServers(tx, patch.resource_servers);
    if (current.enforce_roles && patch.enforce_roles === false) {
      await assertMayConfer(tx, caller, current.scopes.map((s) => s.name), 'turning off enforce_roles (everyone could then be given these scopes)', 'enforce_roles');
    }
    const row = await updateApiRow(tx, id, {
      name: patch.name, scopes: patch.scopes, accessTokenTtl: patch.access_token_ttl, signingAlg: patch.signing_alg,
      enforceRoles: patch.enforce_roles, resourceServers: patch.resource_servers,
    });
    const before = serializeApi(current) as Record<string, unknown>;
    const after = serializeApi(row) as Record<string, unknown>;
    const fields = Object.keys(patch).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (fields.length) {
      await recordAudit(tx, {
        type: 'api.updated',
        actor: caller.actor,
        target: { type: 'api', id },
        data: { identifier: current.identifier, fields, before: Object.fromEntries(fields.map((f) => [f, before[f]])), after: Object.fromEntries(fields.map((f) => [f, after[f]])) },
      });
    }
    return serializeApi(row);
  });
}

export async function deleteApi(db: Database, id: string, caller: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    if (current.builtin) throw forbidden('the Management API is built in and cannot be deleted');
    await checkScopesUnused(tx, current.scopes.map((s) => s.name));
    await deleteApiRow(tx, id);
    await recordAudit(tx, { type: 'api.deleted', actor: caller.actor, target: { type: 'api', id }, data: { identifier: current.identifier } });
  });
}

