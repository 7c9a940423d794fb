import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

export interface ApiScope {
  name: string;
  description?: string;
}

export interface Api {
  id: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  accessTokenTtl: number;
  signingAlg: string;
  /** User tokens and keys for this API carry only what the user's roles allow (see migration 002). */
  enforceRoles: boolean;
  /** Clients that may introspect tokens and API keys for this API (migration 006, RFC 7662 §4). */
  resourceServers: string[];
  builtin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  access_token_ttl: number;
  signing_alg: string;
  enforce_roles: boolean;
  resource_servers: string[];
  builtin: boolean;
  created_at: Date;
  updated_at: Date;
}

export type ApiRow = Row;

const toApi = (r: Row): Api => ({
  id: r.id,
  identifier: r.identifier,
  name: r.name,
  scopes: r.scopes,
  accessTokenTtl: r.access_token_ttl,
  signingAlg: r.signing_alg,
  enforceRoles: r.enforce_roles ?? false,
  resourceServers: r.resource_servers ?? [],
  builtin: r.builtin ?? false,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export async function findApiByIdentifier(db: Queryable, identifier: string): Promise<Api | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM apis WHERE identifier = $1', [identifier]);
  return rows[0] && toApi(rows[0]);
}

/** APIs that define any of the given scope names. */
export async function findApisByScopes(db: Queryable, scopes: readonly string[]): Promise<Api[]> {
  if (!scopes.length) return [];
  const { rows } = await db.query<Row>(
    `SELECT * FROM apis WHERE EXISTS (
       SELECT 1 FROM jsonb_array_elements(scopes) s WHERE s->>'name' = ANY($1::text[]))
     ORDER BY identifier`,
    [scopes],
  );
  return rows.map(toApi);
}

export async function listApis(db: Queryable): Promise<Api[]> {
  const { rows } = await db.query<Row>('SELECT * FROM apis ORDER BY identifier');
  return rows.map(toApi);
}

export interface ApiInput {
  identifier: string;
  name: string;
  scopes: ApiScope[];
  accessTokenTtl?: number;
  signingAlg?: string;
}

/** Creates or updates by identifier. */
export async function upsertApi(db: Queryable, api: ApiInput): Promise<Api> {
  const { rows } = await db.query<Row>(
    `INSERT INTO apis (identifier, name, scopes, access_token_ttl, signing_alg)
     VALUES ($1, $2, $3, COALESCE($4, 900), COALESCE($5, 'RS256'))
     ON CONFLICT (identifier) DO UPDATE SET name = EXCLUDED.name, scopes = EXCLUDED.scopes,
       access_token_ttl = COALESCE($4, apis.access_token_ttl), signing_alg = COALESCE($5, apis.signing_alg),
       updated_at = now()
     RETURNING *`,
    [api.identifier, api.name, JSON.stringify(api.scopes), api.accessTokenTtl ?? null, api.signingAlg ?? null],
  );
  return toApi(rows[0]);
}

/** Of these scope names, those defined by an API that enforces roles. */
export async function enforcedScopes(db: Queryable, scopes: readonly string[]): Promise<Set<string>> {
  if (!scopes.length) return new Set();
  const { rows } = await db.query<{ name: string }>(
    `SELECT s->>'name' AS name FROM apis, jsonb_array_elements(scopes) s WHERE enforce_roles AND s->>'name' = ANY($1::text[])`,
    [scopes],
  );
  return new Set(rows.map((r) => r.name));
}

/** Marks a built-in API (the Management API, the Shared Signals API), whether it enforces roles too. */
export async function markBuiltinApi(db: Queryable, identifier: string, enforceRoles = true): Promise<void> {
  await db.query(
    'UPDATE apis SET builtin = true, enforce_roles = $2 WHERE identifier = $1 AND NOT (builtin AND enforce_roles = $2)',
    [identifier, enforceRoles],
  );
}


export async function findApiRow(db: Queryable, id: string): Promise<Row | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<Row>('SELECT * FROM apis WHERE id = $1', [id]);
  return rows[0];
}

/** A page ordered by identifier. */
export async function listApiRows(db: Queryable, f: { afterIdentifier?: string; limit: number }): Promise<Row[]> {
  const { rows } = await db.query<Row>('SELECT * FROM apis WHERE ($1::text IS NULL OR identifier > $1) ORDER BY identifier LIMIT $2', [
    f.afterIdentifier ?? null,
    f.limit,
  ]);
  return rows;
}

/** What a write of an API sets. */
export type ApiFields = Pick<Api, 'identifier' | 'name' | 'scopes' | 'accessTokenTtl' | 'signingAlg' | 'enforceRoles' | 'resourceServers'>;

/** Inserts an API; undefined when the identifier is taken. */
export async function insertApi(db: Queryable, a: ApiFields): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO apis (identifier, name, scopes, access_token_ttl, signing_alg, enforce_roles, resource_servers)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (identifier) DO NOTHING RETURNING *`,
    [a.identifier, a.name, JSON.stringify(a.scopes), a.accessTokenTtl, a.signingAlg, a.enforceRoles, JSON.stringify(a.resourceServers)],
  );
  return rows[0];
}

export async function updateApiRow(db: Queryable, id: string, patch: Partial<Omit<ApiFields, 'identifier'>>): Promise<Row> {
  const { rows } = await db.query<Row>(
    `UPDATE apis SET name = COALESCE($2, name), scopes = COALESCE($3, scopes),
       access_token_ttl = COALESCE($4, access_token_ttl), signing_alg = COALESCE($5, signing_alg),
       enforce_roles = COALESCE($6, enforce_roles), resource_servers = COALESCE($7, resource_servers), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, patch.name ?? null, patch.scopes ? JSON.stringify(patch.scopes) : null, patch.accessTokenTtl ?? null, patch.signingAlg ?? null,
      patch.enforceRoles ?? null, patch.resourceServers ? JSON.stringify(patch.resourceServers) : null],
  );
  return rows[0];
}

export async function deleteApiRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM apis WHERE id = $1', [id]);
}

/** Scope names among these that another API (not exceptId) already defines, with that API. */
export async function scopesDefinedElsewhere(db: Queryable, names: readonly string[], exceptId: string | null): Promise<{ name: string; identifier: string }[]> {
  const { rows } = await db.query<{ name: string; identifier: string }>(
    `SELECT s->>'name' AS name, identifier FROM apis, jsonb_array_elements(scopes) s
     WHERE s->>'name' = ANY($1::text[]) AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [names, exceptId],
  );
  return rows;
}

/** What still holds any of these scopes: clients, roles, API keys (up to 20 of each). */
export async function holdersOfScopes(db: Queryable, names: readonly string[]): Promise<{ kind: 'clients' | 'roles' | 'api_keys'; id: string }[]> {
  const { rows } = await db.query<{ kind: 'clients' | 'roles' | 'api_keys'; id: string }>(
    `(SELECT 'clients' AS kind, client_id AS id FROM clients
       WHERE string_to_array(metadata->>'scope', ' ') && $1::text[] ORDER BY client_id LIMIT 20)
     UNION ALL (SELECT 'roles', name FROM roles WHERE permissions ?| $1::text[] ORDER BY name LIMIT 20)
     UNION ALL (SELECT 'api_keys', id::text FROM api_keys WHERE scopes ?| $1::text[] ORDER BY id LIMIT 20)`,
    [names],
  );
  return rows;
}

/** Scope names defined by any registered API, among these. */
export async function definedScopes(db: Queryable, names: readonly string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  const { rows } = await db.query<{ name: string }>(
    `SELECT DISTINCT s->>'name' AS name FROM apis, jsonb_array_elements(scopes) s WHERE s->>'name' = ANY($1::text[])`,
    [names],
  );
  return new Set(rows.map((r) => r.name));
}

/** APIs that name this client among their resource servers. */
export async function apisServedBy(db: Queryable, clientId: string): Promise<Api[]> {
  const { rows } = await db.query<Row>(`SELECT * FROM apis WHERE resource_servers ? $1 ORDER BY identifier`, [clientId]);
  return rows.map(toApi);
}

/** Every scope of every API that enforces roles. */
export async function allEnforcedScopes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT DISTINCT s->>'name' AS name FROM apis, jsonb_array_elements(scopes) s WHERE enforce_roles ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}
