import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import type { ApiScope } from '../store/apis.js';
import { type Actor, recordAudit } from './audit.js';
import { ApiError, conflict, forbidden, invalidRequest, notFound } from './errors.js';
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

export const createApiSchema = z.strictObject({
  identifier,
  name,
  scopes,
  access_token_ttl: accessTokenTtl.default(ACCESS_TOKEN_TTL.default),
  signing_alg: signingAlg.default('RS256'),
  enforce_roles: enforceRoles.default(false),
});

export const updateApiSchema = z.strictObject({
  name: name.optional(),
  scopes: scopes.optional(),
  access_token_ttl: accessTokenTtl.optional(),
  signing_alg: signingAlg.optional(),
  enforce_roles: enforceRoles.optional(),
  identifier: z.never({ error: 'identifier cannot change: it is the audience of every token issued for this API; register a new API' }).optional(),
});

interface Row {
  id: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  access_token_ttl: number;
  signing_alg: z.infer<typeof signingAlg>;
  enforce_roles: boolean;
  builtin: boolean;
  created_at: Date;
  updated_at: Date;
}

export const apiScopeSchema = z.strictObject({ name: z.string(), description: z.string().optional() });

export const apiSchema = z.strictObject({
  id: z.string(),
  identifier: z.string().meta({ description: IDENTIFIER }),
  name: z.string(),
  scopes: z.array(apiScopeSchema),
  access_token_ttl: z.number().int().meta({ description: TTL }),
  signing_alg: signingAlg,
  enforce_roles: enforceRoles,
  builtin: z.boolean().meta({ description: 'The Management API: read-only.' }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const serializeApi = (r: Row): z.infer<typeof apiSchema> => ({
  id: r.id,
  identifier: r.identifier,
  name: r.name,
  scopes: r.scopes,
  access_token_ttl: r.access_token_ttl,
  signing_alg: r.signing_alg,
  enforce_roles: r.enforce_roles,
  builtin: r.builtin,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function mustFind(q: Queryable, id: string): Promise<Row> {
  const { rows } = UUID.test(id) ? await q.query<Row>('SELECT * FROM apis WHERE id = $1', [id]) : { rows: [] as Row[] };
  if (!rows[0]) throw notFound(`API ${id}`);
  return rows[0];
}

/** Scope names this API defines that belong to another API already: names are global. */
async function checkScopesFree(q: Queryable, list: ApiScope[], exceptId: string | null) {
  const { rows } = await q.query<{ name: string; identifier: string }>(
    `SELECT s->>'name' AS name, identifier FROM apis, jsonb_array_elements(scopes) s
     WHERE s->>'name' = ANY($1::text[]) AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [list.map((s) => s.name), exceptId],
  );
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
  const { rows } = await q.query<{ kind: 'clients' | 'roles' | 'api_keys'; id: string }>(
    `(SELECT 'clients' AS kind, client_id AS id FROM clients
       WHERE string_to_array(metadata->>'scope', ' ') && $1::text[] ORDER BY client_id LIMIT 20)
     UNION ALL (SELECT 'roles', name FROM roles WHERE permissions ?| $1::text[] ORDER BY name LIMIT 20)
     UNION ALL (SELECT 'api_keys', id::text FROM api_keys WHERE scopes ?| $1::text[] ORDER BY id LIMIT 20)`,
    [removed],
  );
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

export async function createApi(db: Database, input: z.infer<typeof createApiSchema>, actor: Actor) {
  return db.transaction(async (tx) => {
    await checkScopesFree(tx, input.scopes, null);
    const { rows } = await tx.query<Row>(
      `INSERT INTO apis (identifier, name, scopes, access_token_ttl, signing_alg, enforce_roles)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (identifier) DO NOTHING RETURNING *`,
      [input.identifier, input.name, JSON.stringify(input.scopes), input.access_token_ttl, input.signing_alg, input.enforce_roles],
    );
    if (!rows[0]) throw conflict(`an API with identifier ${input.identifier} already exists`);
    await recordAudit(tx, { type: 'api.created', actor, target: { type: 'api', id: rows[0].id }, data: { identifier: input.identifier, scopes: input.scopes.map((s) => s.name) } });
    return serializeApi(rows[0]);
  });
}

export async function listApis(db: Queryable, query: { cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor<{ i: string }>(query.cursor, ['i']);
  if (after && typeof after.i !== 'string') throw invalidRequest('cursor is not one this server issued', 'cursor');
  const { rows } = await db.query<Row>(
    'SELECT * FROM apis WHERE ($1::text IS NULL OR identifier > $1) ORDER BY identifier LIMIT $2',
    [after?.i ?? null, limit + 1],
  );
  return pageOf(rows, limit, serializeApi, (r) => ({ i: r.identifier }));
}

export async function getApi(db: Queryable, id: string) {
  return serializeApi(await mustFind(db, id));
}

export async function updateApi(db: Database, id: string, patch: z.infer<typeof updateApiSchema>, actor: Actor) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    if (current.builtin) throw forbidden('the Management API is built in and cannot be changed');
    if (patch.scopes) {
      await checkScopesFree(tx, patch.scopes, id);
      const kept = new Set(patch.scopes.map((s) => s.name));
      await checkScopesUnused(tx, current.scopes.map((s) => s.name).filter((s) => !kept.has(s)));
    }
    const { rows } = await tx.query<Row>(
      `UPDATE apis SET name = COALESCE($2, name), scopes = COALESCE($3, scopes),
         access_token_ttl = COALESCE($4, access_token_ttl), signing_alg = COALESCE($5, signing_alg),
         enforce_roles = COALESCE($6, enforce_roles), updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, patch.name ?? null, patch.scopes ? JSON.stringify(patch.scopes) : null, patch.access_token_ttl ?? null, patch.signing_alg ?? null, patch.enforce_roles ?? null],
    );
    const before = serializeApi(current) as Record<string, unknown>;
    const after = serializeApi(rows[0]) as Record<string, unknown>;
    const fields = Object.keys(patch).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    if (fields.length) {
      await recordAudit(tx, {
        type: 'api.updated',
        actor,
        target: { type: 'api', id },
        data: { identifier: current.identifier, fields, before: Object.fromEntries(fields.map((f) => [f, before[f]])), after: Object.fromEntries(fields.map((f) => [f, after[f]])) },
      });
    }
    return serializeApi(rows[0]);
  });
}

export async function deleteApi(db: Database, id: string, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    if (current.builtin) throw forbidden('the Management API is built in and cannot be deleted');
    await checkScopesUnused(tx, current.scopes.map((s) => s.name));
    await tx.query('DELETE FROM apis WHERE id = $1', [id]);
    await recordAudit(tx, { type: 'api.deleted', actor, target: { type: 'api', id }, data: { identifier: current.identifier } });
  });
}

