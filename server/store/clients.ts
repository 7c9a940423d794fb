import type { Queryable } from '../db/database.js';

/** RFC 7591 client metadata as we keep it (never with a secret in it). */
export interface ClientMetadata {
  client_name?: string;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Space-delimited: OIDC scopes and API scopes (`orders:read`) the client may be granted. */
  scope?: string;
  application_type?: 'web' | 'native';
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

export async function upsertClient(db: Queryable, clientId: string, metadata: ClientMetadata): Promise<void> {
  await db.query(
    `INSERT INTO clients (client_id, metadata) VALUES ($1, $2)
     ON CONFLICT (client_id) DO UPDATE SET metadata = EXCLUDED.metadata, updated_at = now()`,
    [clientId, JSON.stringify(metadata)],
  );
}

export async function addClientSecret(
  db: Queryable,
  clientId: string,
  secret: { hash: string; hint: string; expiresAt?: Date | null },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO client_secrets (client_id, secret_hash, hint, expires_at) VALUES ($1, $2, $3, $4) RETURNING id',
    [clientId, secret.hash, secret.hint, secret.expiresAt ?? null],
  );
  return rows[0].id;
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
