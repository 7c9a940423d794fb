import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  environment: 'live' | 'test';
  ipAllowlist: string[];
  enabled: boolean;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  /** The secret a roll replaced, while it still works (until its expiresAt). */
  previous: { prefix: string; keyHash: string; expiresAt: Date } | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string[];
  environment: 'live' | 'test';
  ip_allowlist: string[];
  enabled: boolean;
  expires_at: Date | null;
  last_used_at: Date | null;
  last_used_ip: string | null;
  previous_prefix: string | null;
  previous_key_hash: string | null;
  previous_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const date = (d: Date | null) => (d ? new Date(d) : null);

export const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  keyHash: r.key_hash,
  scopes: r.scopes,
  environment: r.environment,
  ipAllowlist: r.ip_allowlist,
  enabled: r.enabled,
  expiresAt: date(r.expires_at),
  lastUsedAt: date(r.last_used_at),
  lastUsedIp: r.last_used_ip,
  previous: r.previous_prefix && r.previous_key_hash && r.previous_expires_at
    ? { prefix: r.previous_prefix, keyHash: r.previous_key_hash, expiresAt: new Date(r.previous_expires_at) }
    : null,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});


export async function findApiKeyRow(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
  return rows[0];
}

export async function insertApiKey(
  db: Queryable,
  key: { userId: string; name: string; prefix: string; hash: string; scopes: string[]; environment: string; ipAllowlist: string[]; expiresAt: Date | null },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, environment, ip_allowlist, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [key.userId, key.name, key.prefix, key.hash, JSON.stringify(key.scopes), key.environment, JSON.stringify(key.ipAllowlist), key.expiresAt],
  );
  return rows[0];
}

/** Newest first; `userId` null for everyone's; the cursor is the last row's (created_at, id). */
export async function listApiKeyRows(
  db: Queryable,
  f: { userId: string | null; after?: { createdAt: string; id: string }; limit: number },
): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT * FROM api_keys WHERE ($1::uuid IS NULL OR user_id = $1::uuid)
       AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [f.userId, f.after?.createdAt ?? null, f.after?.id ?? null, f.limit],
  );
  return rows;
}

export async function updateApiKeyFields(db: Queryable, id: string, patch: { name?: string; scopes?: string[]; enabled?: boolean }): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET name = COALESCE($2, name), scopes = COALESCE($3, scopes), enabled = COALESCE($4, enabled), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, patch.name ?? null, patch.scopes ? JSON.stringify(patch.scopes) : null, patch.enabled ?? null],
  );
  return rows[0];
}

export async function deleteApiKeyRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM api_keys WHERE id = $1', [id]);
}

/** By the prefix of its current secret, or of the previous one a roll left working for a while. */
export async function findApiKeyByPrefix(db: Queryable, prefix: string): Promise<ApiKey | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE prefix = $1 OR previous_prefix = $1', [prefix]);
  return rows[0] && toApiKey(rows[0]);
}

/**
 * Gives the key a new secret. The one it replaces keeps working until `previousUntil` (kept after
 * that too, so that it is refused as expired rather than unknown). A previous secret from an earlier
 * roll is forgotten: only one is kept.
 */
export async function rollApiKeySecret(
  db: Queryable,
  id: string,
  next: { prefix: string; hash: string; previousUntil: Date },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET
       previous_prefix = prefix, previous_key_hash = key_hash, previous_expires_at = $4,
       prefix = $2, key_hash = $3, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, next.prefix, next.hash, next.previousUntil],
  );
  return rows[0];
}

/** Records use; returns the previous address so the caller can audit use from a new one. */
export async function touchApiKey(db: Queryable, id: string, ip: string): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1', [id, ip]);
}
