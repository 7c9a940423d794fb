import type { Queryable } from '../db/database.js';

/** RFC 7591 client metadata as we keep it (never with a secret in it). */
export interface ClientMetadata {
  client_name?: string;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt';
  /** Space-delimited: OIDC scopes and API scopes (`orders:read`) the client may be granted. */
  scope?: string;
  application_type?: 'web' | 'native';
  // PKCE, PAR and DPoP per client (services/client-protection.ts).
  require_pkce?: boolean;
  require_pushed_authorization_requests?: boolean;
  dpop_bound_access_tokens?: boolean;
}

export interface SecretDigest {
  id: string;
  hash: string;
  /** Epoch seconds; null for no expiry. */
  expiresAt: number | null;
}

export interface ClientRecord {
  id: string;
  clientId: string;
  metadata: ClientMetadata;
  /** Secrets that are still valid. */
  secrets: SecretDigest[];
  environment: 'live' | 'test';
  enabled: boolean;
  /** Registered by the server itself (the console's client); read-only through the Management API. */
  builtin: boolean;
  expiresAt: Date | null;
  ipAllowlist: string[];
  lastUsedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  client_id: string;
  metadata: ClientMetadata;
  secrets: { id: string; hash: string; expires_at: number | null }[];
  environment: 'live' | 'test';
  enabled: boolean;
  builtin: boolean;
  expires_at: Date | null;
  ip_allowlist: string[];
  last_used_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `
  SELECT c.id, c.client_id, c.metadata, c.created_at, c.updated_at, c.environment, c.enabled, c.builtin, c.expires_at,
    c.ip_allowlist, c.last_used_at, c.created_by,
    COALESCE(json_agg(json_build_object('id', s.id, 'hash', s.secret_hash,
               'expires_at', floor(extract(epoch FROM s.expires_at))::bigint))
             FILTER (WHERE s.id IS NOT NULL AND (s.expires_at IS NULL OR s.expires_at > now())), '[]') AS secrets
  FROM clients c LEFT JOIN client_secrets s ON s.client_id = c.client_id`;

const toRecord = (r: Row): ClientRecord => ({
  id: r.id,
  clientId: r.client_id,
  metadata: r.metadata,
  secrets: r.secrets.map((s) => ({ id: s.id, hash: s.hash, expiresAt: s.expires_at === null ? null : Number(s.expires_at) })),
  environment: r.environment,
  enabled: r.enabled,
  builtin: r.builtin,
  expiresAt: r.expires_at ? new Date(r.expires_at) : null,
  ipAllowlist: r.ip_allowlist,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

/** The client with its live secret digests, in one round trip: this runs on every token request. */
export async function findClient(db: Queryable, clientId: string): Promise<ClientRecord | undefined> {
  const { rows } = await db.query<Row>(`${SELECT} WHERE c.client_id = $1 GROUP BY c.id`, [clientId]);
  return rows[0] && toRecord(rows[0]);
}

/** Several clients in one round trip (a page of a list), in no particular order; unknown ids are left out. */
export async function findClients(db: Queryable, clientIds: readonly string[]): Promise<ClientRecord[]> {
  if (!clientIds.length) return [];
  const { rows } = await db.query<Row>(`${SELECT} WHERE c.client_id = ANY($1::text[]) GROUP BY c.id`, [clientIds]);
  return rows.map(toRecord);
}

export async function deleteClientSecrets(db: Queryable, clientId: string, exceptHash?: string): Promise<void> {
  await db.query('DELETE FROM client_secrets WHERE client_id = $1 AND secret_hash IS DISTINCT FROM $2', [
    clientId,
    exceptHash ?? null,
  ]);
}

/** Throttled "last used" for a client and the secret it authenticated with. */
export async function touchClientSecret(db: Queryable, clientId: string, secretId: string): Promise<void> {
  await db.query(
    `WITH s AS (UPDATE client_secrets SET last_used_at = now() WHERE id = $2 RETURNING client_id)
     UPDATE clients SET last_used_at = now() WHERE client_id = $1`,
    [clientId, secretId],
  );
}

export interface NewClient {
  clientId: string;
  metadata: ClientMetadata;
  environment: 'live' | 'test';
  enabled: boolean;
  expiresAt: Date | null;
  ipAllowlist: string[];
  /** The user who created it; null for the operator's tools (CLI, seed). */
  createdBy: string | null;
}

/** Inserts a client; false when the client_id is taken. */
export async function insertClient(db: Queryable, c: NewClient): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO clients (client_id, metadata, environment, enabled, expires_at, ip_allowlist, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING`,
    [c.clientId, JSON.stringify(c.metadata), c.environment, c.enabled, c.expiresAt, JSON.stringify(c.ipAllowlist), c.createdBy],
  );
  return rowCount > 0;
}

/**
 * A page of client_ids, newest first; `q` matches client_id or client_name. The cursor holds
 * created_at as Postgres' text, to the microsecond: clients created within one millisecond would
 * otherwise fall between two pages.
 */
export async function listClientIds(
  db: Queryable,
  f: { q?: string; after?: { created: string; clientId: string }; limit: number },
): Promise<{ client_id: string; created: string }[]> {
  const q = f.q ? `%${f.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const { rows } = await db.query<{ client_id: string; created: string }>(
    `SELECT client_id, created_at::text AS created FROM clients
     WHERE ($1::text IS NULL OR client_id ILIKE $1 OR metadata->>'client_name' ILIKE $1)
       AND ($2::timestamptz IS NULL OR (created_at, client_id) < ($2::timestamptz, $3::text))
     ORDER BY created_at DESC, client_id DESC LIMIT $4`,
    [q, f.after?.created ?? null, f.after?.clientId ?? null, f.limit],
  );
  return rows;
}

/** Every client, oldest first (the CLI's list). */
export async function listAllClients(db: Queryable): Promise<ClientRecord[]> {
  const { rows } = await db.query<Row>(`${SELECT} GROUP BY c.id ORDER BY c.created_at, c.client_id`);
  return rows.map(toRecord);
}

/** `expiresAt` undefined keeps the expiry; null clears it. */
export async function updateClientRow(
  db: Queryable,
  clientId: string,
  patch: { metadata: ClientMetadata; enabled?: boolean; expiresAt?: Date | null; ipAllowlist?: string[] },
): Promise<void> {
  await db.query(
    `UPDATE clients SET metadata = $2,
       enabled = COALESCE($3, enabled),
       expires_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE expires_at END,
       ip_allowlist = COALESCE($6, ip_allowlist),
       updated_at = now()
     WHERE client_id = $1`,
    [clientId, JSON.stringify(patch.metadata), patch.enabled ?? null, patch.expiresAt !== undefined, patch.expiresAt ?? null,
      patch.ipAllowlist ? JSON.stringify(patch.ipAllowlist) : null],
  );
}

/** Deletes the client, its secrets and consents (ON DELETE CASCADE); false if there was none. */
export async function deleteClientRow(db: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
  return rowCount > 0;
}

export interface SecretRow {
  id: string;
  prefix: string | null;
  hint: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const SECRET_COLUMNS = 'id, prefix, hint, created_at, expires_at, last_used_at';

export async function insertClientSecret(
  db: Queryable,
  clientId: string,
  secret: { hash: string; hint: string; prefix: string | null },
): Promise<SecretRow> {
  const { rows } = await db.query<SecretRow>(
    `INSERT INTO client_secrets (client_id, secret_hash, hint, prefix) VALUES ($1, $2, $3, $4) RETURNING ${SECRET_COLUMNS}`,
    [clientId, secret.hash, secret.hint, secret.prefix],
  );
  return rows[0];
}

/** Live secrets end at `until` at the latest (a rotation's overlap); one due sooner keeps its date. */
export async function capLiveSecrets(db: Queryable, clientId: string, until: Date): Promise<void> {
  await db.query(
    `UPDATE client_secrets SET expires_at = LEAST(COALESCE(expires_at, $2), $2)
     WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
    [clientId, until],
  );
}

export async function listLiveSecrets(db: Queryable, clientId: string): Promise<SecretRow[]> {
  const { rows } = await db.query<SecretRow>(
    `SELECT ${SECRET_COLUMNS} FROM client_secrets
     WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id`,
    [clientId],
  );
  return rows;
}

/** The client's secrets, locked for the transaction, so concurrent deletions see each other. */
export async function lockClientSecrets(db: Queryable, clientId: string): Promise<{ id: string; live: boolean }[]> {
  const { rows } = await db.query<{ id: string; live: boolean }>(
    `SELECT id, (expires_at IS NULL OR expires_at > now()) AS live FROM client_secrets WHERE client_id = $1 FOR UPDATE`,
    [clientId],
  );
  return rows;
}

export async function deleteClientSecret(db: Queryable, secretId: string): Promise<void> {
  await db.query('DELETE FROM client_secrets WHERE id = $1', [secretId]);
}

/**
 * Puts a client the server registers itself back as it should be (enabled, no expiry, no allowlist,
 * built in), writing only when something differs so that every start does not touch the row.
 */
export async function putBuiltinClient(db: Queryable, clientId: string, metadata: ClientMetadata & { type?: string }): Promise<void> {
  await db.query(
    `INSERT INTO clients (client_id, metadata, builtin) VALUES ($1, $2, true)
     ON CONFLICT (client_id) DO UPDATE SET metadata = EXCLUDED.metadata, builtin = true, enabled = true,
       expires_at = NULL, ip_allowlist = '[]', updated_at = now()
     WHERE clients.metadata IS DISTINCT FROM EXCLUDED.metadata OR NOT clients.builtin OR NOT clients.enabled
       OR clients.expires_at IS NOT NULL OR clients.ip_allowlist <> '[]'`,
    [clientId, JSON.stringify(metadata)],
  );
}

/** Suspends every enabled client the user created; returns their client_ids. */
export async function suspendClientsOfOwner(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ client_id: string }>(
    `UPDATE clients SET enabled = false, updated_at = now() WHERE created_by = $1 AND enabled RETURNING client_id`,
    [userId],
  );
  return rows.map((r) => r.client_id);
}
