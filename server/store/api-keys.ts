import type { Queryable } from '../db/database.js';

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
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export async function findApiKeyByPrefix(db: Queryable, prefix: string): Promise<ApiKey | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE prefix = $1', [prefix]);
  return rows[0] && toApiKey(rows[0]);
}

/** Records use; returns the previous address so the caller can audit use from a new one. */
export async function touchApiKey(db: Queryable, id: string, ip: string): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1', [id, ip]);
}
