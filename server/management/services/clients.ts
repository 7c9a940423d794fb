import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../../db/database.js';
import { issueCredential } from '../../crypto/credentials.js';
import { isOidcScope } from '../../oidc/scopes.js';
import { type ClientMetadata, type ClientRecord, findClient } from '../../store/clients.js';
import { type Actor, recordAudit } from '../audit.js';
import { conflict, invalidRequest, notFound } from '../errors.js';
import { decodeCursor, type Page, pageOf, parseLimit } from '../pagination.js';
import { environment, expiresIn, expiryDate, ipAllowlist, iso, redirectUri } from '../validation.js';
import { checkApiScopes } from './scopes-check.js';

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

/**
 * What kind of application a credential is for. It picks sensible defaults (RFC 8252 for native
 * apps, RFC 9700 §2.1.1 public clients with PKCE for browser apps) and cannot change later, because
 * a public client cannot become confidential without a new identity.
 */
const TYPES = {
  web: { grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'web' },
  spa: { grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', application_type: 'web' },
  native: { grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', application_type: 'native' },
  service: { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'web' },
} as const;
export type ClientType = keyof typeof TYPES;

const scopeString = z.string().max(4000).regex(/^[\x21\x23-\x5b\x5d-\x7e ]*$/, 'scope has characters RFC 6749 §3.3 does not allow');

export const createClientSchema = z.strictObject({
  client_id: z.string().regex(/^[\w.:-]{3,128}$/, '3 to 128 letters, digits, _ . : -').optional(),
  client_name: z.string().trim().min(1).max(200),
  type: z.enum(['web', 'spa', 'native', 'service']).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  redirect_uris: z.array(redirectUri).max(50).optional(),
  post_logout_redirect_uris: z.array(redirectUri).max(50).optional(),
  token_endpoint_auth_method: z.enum(AUTH_METHODS).optional(),
  scope: scopeString.optional(),
  environment: environment.default('live'),
  expires_in: expiresIn.optional(),
  ip_allowlist: ipAllowlist.default([]),
  enabled: z.boolean().default(true),
});

export const updateClientSchema = z.strictObject({
  client_name: z.string().trim().min(1).max(200).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  redirect_uris: z.array(redirectUri).max(50).optional(),
  post_logout_redirect_uris: z.array(redirectUri).max(50).optional(),
  scope: scopeString.optional(),
  expires_in: expiresIn.nullable().optional(),
  ip_allowlist: ipAllowlist.optional(),
  enabled: z.boolean().optional(),
});

interface StoredMetadata extends ClientMetadata {
  type?: ClientType;
}

/** The consistency rules a client must satisfy whatever path created it. */
function checkShape(m: StoredMetadata): void {
  const isPublic = m.token_endpoint_auth_method === 'none';
  const scopes = (m.scope ?? '').split(' ').filter(Boolean);
  if (isPublic && m.grant_types.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
    throw invalidRequest('grant_types: a public client (token_endpoint_auth_method "none") can only use authorization_code and refresh_token', 'grant_types');
  }
  if (m.grant_types.includes('authorization_code') && !m.redirect_uris.length) {
    throw invalidRequest('redirect_uris: authorization_code needs at least one redirect URI', 'redirect_uris');
  }
  if (m.grant_types.includes('refresh_token') && !m.grant_types.includes('authorization_code')) {
    throw invalidRequest('grant_types: refresh_token comes from authorization_code', 'grant_types');
  }
  if (!m.grant_types.includes('authorization_code') && scopes.some(isOidcScope)) {
    throw invalidRequest('scope: identity scopes (openid, profile, email, offline_access) need authorization_code', 'scope');
  }
}

const normaliseScope = (scope: string | undefined) => [...new Set((scope ?? '').split(' ').filter(Boolean))].join(' ');

function statusOf(c: ClientRecord): 'active' | 'suspended' | 'expired' {
  if (!c.enabled) return 'suspended';
  if (c.expiresAt && c.expiresAt.getTime() <= Date.now()) return 'expired';
  return 'active';
}

/** The client as the Management API shows it: never a secret, not even its digest. */
export function serializeClient(c: ClientRecord) {
  const m = c.metadata as StoredMetadata;
  return {
    id: c.id,
    client_id: c.clientId,
    client_name: m.client_name ?? null,
    type: m.type ?? inferType(m),
    grant_types: m.grant_types,
    redirect_uris: m.redirect_uris,
    post_logout_redirect_uris: m.post_logout_redirect_uris ?? [],
    token_endpoint_auth_method: m.token_endpoint_auth_method,
    scope: m.scope ?? '',
    environment: c.environment,
    enabled: c.enabled,
    status: statusOf(c),
    ip_allowlist: c.ipAllowlist,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    expires_at: iso(c.expiresAt),
    last_used_at: iso(c.lastUsedAt),
  };
}

function inferType(m: StoredMetadata): ClientType {
  if (!m.grant_types.includes('authorization_code')) return 'service';
  if (m.token_endpoint_auth_method !== 'none') return 'web';
  return m.application_type === 'native' ? 'native' : 'spa';
}

async function mustFind(q: Queryable, clientId: string): Promise<ClientRecord> {
  const c = await findClient(q, clientId);
  if (!c) throw notFound(`client ${clientId}`);
  return c;
}

export async function createClient(db: Database, input: z.infer<typeof createClientSchema>, actor: Actor) {
  const preset = TYPES[input.type ?? (input.grant_types?.includes('authorization_code') ? 'web' : 'service')];
  const metadata: StoredMetadata = {
    client_name: input.client_name,
    type: input.type,
    grant_types: [...new Set(input.grant_types ?? preset.grant_types)],
    redirect_uris: input.redirect_uris ?? [],
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    token_endpoint_auth_method: input.token_endpoint_auth_method ?? preset.token_endpoint_auth_method,
    application_type: preset.application_type,
    scope: normaliseScope(input.scope),
  };
  metadata.type ??= inferType(metadata);
  checkShape(metadata);
  const clientId = input.client_id ?? `${input.environment === 'test' ? 'cl_test_' : 'cl_'}${randomBytes(12).toString('hex')}`;
  const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : issueCredential('sk', input.environment);
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, (metadata.scope ?? '').split(' ').filter(Boolean), 'scope');
    const inserted = await tx.query(
      `INSERT INTO clients (client_id, metadata, environment, enabled, expires_at, ip_allowlist, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING RETURNING id`,
      [clientId, JSON.stringify(metadata), input.environment, input.enabled, expiryDate(input.expires_in) ?? null,
        JSON.stringify(input.ip_allowlist), actor.type === 'user' ? actor.id : null],
    );
    if (!inserted.rowCount) throw conflict(`a client with client_id ${clientId} already exists`);
    if (secret) {
      await tx.query('INSERT INTO client_secrets (client_id, secret_hash, hint, prefix) VALUES ($1, $2, $3, $4)', [
        clientId, secret.hash, secret.prefix.slice(-4), secret.prefix,
      ]);
    }
    await recordAudit(tx, {
      type: 'client.created',
      actor,
      target: { type: 'client', id: clientId },
      data: { client_name: metadata.client_name, type: metadata.type, grant_types: metadata.grant_types, scope: metadata.scope, environment: input.environment },
    });
    const client = serializeClient(await mustFind(tx, clientId));
    return secret ? { ...client, client_secret: secret.value } : client;
  });
}

export async function listClients(db: Queryable, query: { q?: string; cursor?: string; limit?: string }): Promise<Page<ReturnType<typeof serializeClient>>> {
  const limit = parseLimit(query.limit);
  const after = decodeCursor<{ c: string; i: string }>(query.cursor, ['c', 'i']);
  const q = query.q?.trim() ? `%${query.q.trim().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  const { rows } = await db.query<{ client_id: string; created_at: Date }>(
    `SELECT client_id, created_at FROM clients
     WHERE ($1::text IS NULL OR client_id ILIKE $1 OR metadata->>'client_name' ILIKE $1)
       AND ($2::timestamptz IS NULL OR (created_at, client_id) < ($2::timestamptz, $3::text))
     ORDER BY created_at DESC, client_id DESC LIMIT $4`,
    [q, after?.c ?? null, after?.i ?? null, limit + 1],
  );
  const page = pageOf(rows, limit, (r) => r.client_id, (r) => ({ c: new Date(r.created_at).toISOString(), i: r.client_id }));
  const records = await Promise.all(page.data.map((id) => mustFind(db, id)));
  return { data: records.map(serializeClient), next_cursor: page.next_cursor };
}

export async function getClient(db: Queryable, clientId: string) {
  return serializeClient(await mustFind(db, clientId));
}

const changed = (before: Record<string, unknown>, after: Record<string, unknown>) =>
  Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));

export async function updateClient(db: Database, clientId: string, patch: z.infer<typeof updateClientSchema>, actor: Actor) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, clientId);
    const before = current.metadata as StoredMetadata;
    const metadata: StoredMetadata = {
      ...before,
      ...(patch.client_name !== undefined && { client_name: patch.client_name }),
      ...(patch.grant_types !== undefined && { grant_types: [...new Set(patch.grant_types)] }),
      ...(patch.redirect_uris !== undefined && { redirect_uris: patch.redirect_uris }),
      ...(patch.post_logout_redirect_uris !== undefined && { post_logout_redirect_uris: patch.post_logout_redirect_uris }),
      ...(patch.scope !== undefined && { scope: normaliseScope(patch.scope) }),
    };
    checkShape(metadata);
    if (patch.scope !== undefined) await checkApiScopes(tx, (metadata.scope ?? '').split(' ').filter(Boolean), 'scope');
    const expiresAt = expiryDate(patch.expires_in);
    await tx.query(
      `UPDATE clients SET metadata = $2,
         enabled = COALESCE($3, enabled),
         expires_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE expires_at END,
         ip_allowlist = COALESCE($6, ip_allowlist),
         updated_at = now()
       WHERE client_id = $1`,
      [clientId, JSON.stringify(metadata), patch.enabled ?? null, expiresAt !== undefined, expiresAt ?? null,
        patch.ip_allowlist ? JSON.stringify(patch.ip_allowlist) : null],
    );
    const fields = [
      ...changed(before as unknown as Record<string, unknown>, metadata as unknown as Record<string, unknown>),
      ...(expiresAt !== undefined ? ['expires_at'] : []),
      ...(patch.ip_allowlist ? ['ip_allowlist'] : []),
    ];
    if (patch.enabled !== undefined && patch.enabled !== current.enabled) {
      await recordAudit(tx, { type: patch.enabled ? 'client.resumed' : 'client.suspended', actor, target: { type: 'client', id: clientId } });
    }
    if (fields.length) {
      await recordAudit(tx, { type: 'client.updated', actor, target: { type: 'client', id: clientId }, data: { fields, scope: metadata.scope } });
    }
    return serializeClient(await mustFind(tx, clientId));
  });
}

/**
 * Revokes a client: the row and its secrets go, so the next token request is invalid_client on every
 * node (each request reads the client from the database), and its grants and refresh tokens go too.
 */
export async function deleteClient(db: Database, clientId: string, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    const { rowCount } = await tx.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
    if (!rowCount) throw notFound(`client ${clientId}`);
    const revoked = await tx.query(
      `DELETE FROM oidc_artifacts WHERE model IN ('Grant', 'RefreshToken') AND payload->>'clientId' = $1`,
      [clientId],
    );
    await recordAudit(tx, { type: 'client.revoked', actor, target: { type: 'client', id: clientId }, data: { revoked_artifacts: revoked.rowCount } });
  });
}

interface SecretRow {
  id: string;
  prefix: string | null;
  hint: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const serializeSecret = (s: SecretRow) => ({
  id: s.id,
  prefix: s.prefix,
  hint: s.hint,
  created_at: new Date(s.created_at).toISOString(),
  expires_at: s.expires_at ? new Date(s.expires_at).toISOString() : null,
  last_used_at: s.last_used_at ? new Date(s.last_used_at).toISOString() : null,
});

export const DEFAULT_PREVIOUS_EXPIRES_IN = 7 * 86400;

/**
 * Zero-downtime rotation: a new secret, shown once, while the existing live secrets keep working
 * until previous_expires_in (never extended: a secret already due to expire sooner keeps its date).
 */
export async function rotateClientSecret(db: Database, clientId: string, previousExpiresIn: number, actor: Actor) {
  return db.transaction(async (tx) => {
    const client = await mustFind(tx, clientId);
    if (client.metadata.token_endpoint_auth_method === 'none') {
      throw invalidRequest('a public client has no secret to rotate');
    }
    const until = new Date(Date.now() + previousExpiresIn * 1000);
    await tx.query(
      `UPDATE client_secrets SET expires_at = LEAST(COALESCE(expires_at, $2), $2)
       WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
      [clientId, until],
    );
    const secret = issueCredential('sk', client.environment);
    const { rows } = await tx.query<SecretRow>(
      `INSERT INTO client_secrets (client_id, secret_hash, hint, prefix) VALUES ($1, $2, $3, $4)
       RETURNING id, prefix, hint, created_at, expires_at, last_used_at`,
      [clientId, secret.hash, secret.prefix.slice(-4), secret.prefix],
    );
    await recordAudit(tx, {
      type: 'client.secret_rotated',
      actor,
      target: { type: 'client', id: clientId },
      data: { secret_id: rows[0].id, previous_expire_at: until.toISOString() },
    });
    return { ...serializeSecret(rows[0]), client_secret: secret.value };
  });
}

export async function listClientSecrets(db: Queryable, clientId: string) {
  await mustFind(db, clientId);
  const { rows } = await db.query<SecretRow>(
    `SELECT id, prefix, hint, created_at, expires_at, last_used_at FROM client_secrets
     WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC, id`,
    [clientId],
  );
  return { data: rows.map(serializeSecret), next_cursor: null };
}

export async function deleteClientSecret(db: Database, clientId: string, secretId: string, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    await mustFind(tx, clientId);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secretId);
    const { rowCount } = uuid
      ? await tx.query('DELETE FROM client_secrets WHERE client_id = $1 AND id = $2', [clientId, secretId])
      : { rowCount: 0 };
    if (!rowCount) throw notFound(`secret ${secretId}`);
    await recordAudit(tx, { type: 'client.secret_revoked', actor, target: { type: 'client', id: clientId }, data: { secret_id: secretId } });
  });
}
