import type { Queryable } from '../db/database.js';

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
  created_at: Date;
  updated_at: Date;
}

const toApi = (r: Row): Api => ({
  id: r.id,
  identifier: r.identifier,
  name: r.name,
  scopes: r.scopes,
  accessTokenTtl: r.access_token_ttl,
  signingAlg: r.signing_alg,
  enforceRoles: r.enforce_roles ?? false,
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
