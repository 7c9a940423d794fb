import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { issueCredential } from '../crypto/credentials.js';
import { isOidcScope, splitScope } from './scope-names.js';
import { type ClientMetadata, type ClientRecord, findClient, findClients } from '../store/clients.js';
import { type Actor, recordAudit } from './audit.js';
import { ApiError, conflict, forbidden, invalidRequest, notFound } from './errors.js';
import { decodeCursor, type Page, pageOf, parseLimit } from './pagination.js';
import { MANAGEMENT_SCOPES } from './management-api.js';
import { environment, expiresIn, expiryDate, ipAllowlist, iso, optionalTimestamp, redirectUri, timestamp } from './validation.js';
import { NAME_MAX } from './limits.js';
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
const clientType = z.enum(['web', 'spa', 'native', 'service']).meta({ description: 'What kind of application; picks the defaults of grant_types and token_endpoint_auth_method, and cannot change later.' });
const clientName = z.string().trim().min(1).max(NAME_MAX);

const scopeString = z.string().max(4000).regex(/^[\x21\x23-\x5b\x5d-\x7e ]*$/, 'scope has characters RFC 6749 §3.3 does not allow');

export const createClientSchema = z.strictObject({
  client_id: z.string().regex(/^[\w.:-]{3,128}$/, '3 to 128 letters, digits, _ . : -').optional().meta({ description: 'Default: generated.' }),
  client_name: clientName,
  type: clientType.optional(),
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

/** A field that is fixed at creation: naming it in a PATCH is refused with the reason. */
const fixed = (why: string) => z.never({ error: why }).optional().meta({ description: why });

export const updateClientSchema = z.strictObject({
  client_name: clientName.optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  redirect_uris: z.array(redirectUri).max(50).optional(),
  post_logout_redirect_uris: z.array(redirectUri).max(50).optional(),
  // Between the two secret-based methods only (see checkShape): public and confidential differ in kind.
  token_endpoint_auth_method: z.enum(AUTH_METHODS).optional(),
  scope: scopeString.optional(),
  expires_in: expiresIn.nullable().optional().meta({ description: 'Seconds, or a number with a unit: s, m, h or d ("365d"); null removes the expiry.' }),
  ip_allowlist: ipAllowlist.optional(),
  enabled: z.boolean().optional().meta({ description: 'false suspends the client (reversibly), like a revocation.' }),
  client_id: fixed('client_id cannot change: tokens, grants and consents refer to it; create a new credential'),
  type: fixed('type cannot change after creation; create a new credential'),
  environment: fixed('environment cannot change: secrets are issued for one environment (sk_live_, sk_test_); create a new credential'),
});

/** Whoever asks for a change through the Management API. Absent for the operator's own tools (CLI, seed). */
export interface Caller {
  permissions: ReadonlySet<string>;
}

interface StoredMetadata extends ClientMetadata {
  type?: ClientType;
}

/** Loopback hosts and refused schemes as oidc-provider has them (lib/consts/client_attributes.js, lib/helpers/client_schema.js). */
const LOOPBACKS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'about:']);

/**
 * oidc-provider validates redirect URIs by application_type each time it loads a client; one it
 * refuses would leave the client failing every request. The same rules, checked when it is saved.
 */
function redirectProblem(uri: string, applicationType: 'web' | 'native'): string | undefined {
  const { protocol, hostname } = new URL(uri);
  if (FORBIDDEN_SCHEMES.has(protocol)) return `the ${protocol.slice(0, -1)} scheme cannot be a redirect URI`;
  if (applicationType === 'web') {
    return protocol === 'https:' || protocol === 'http:'
      ? undefined
      : 'a web or browser app redirects to an http or https URI; private-use schemes are for type "native" (RFC 8252 §7.1)';
  }
  if (protocol === 'http:' && !LOOPBACKS.has(hostname)) return 'a native app may use http only with a loopback address (RFC 8252 §7.3)';
  if (protocol === 'https:' && LOOPBACKS.has(hostname)) return 'a native app uses http, not https, for a loopback redirect (RFC 8252 §7.3)';
  return undefined;
}

/** The consistency rules a client must satisfy whatever path created it. */
function checkShape(m: StoredMetadata): void {
  const isPublic = m.token_endpoint_auth_method === 'none';
  const usesCode = m.grant_types.includes('authorization_code');
  const scopes = splitScope(m.scope);
  switch (m.type) {
    case 'service':
      if (usesCode || m.grant_types.includes('refresh_token')) {
        throw invalidRequest('grant_types: a service credential acts for itself (client_credentials, token exchange); signing users in needs type "web", "spa" or "native"', 'grant_types');
      }
      break;
    case 'web':
      if (!usesCode) throw invalidRequest('grant_types: a web app signs users in with authorization_code', 'grant_types');
      if (isPublic) throw invalidRequest('token_endpoint_auth_method: a web app keeps a secret on its server (RFC 6749 §2.1); an app that cannot is type "spa" or "native"', 'token_endpoint_auth_method');
      break;
    case 'spa':
    case 'native':
      if (!isPublic) throw invalidRequest(`token_endpoint_auth_method: a ${m.type === 'spa' ? 'browser' : 'native'} app cannot keep a secret (RFC 6749 §2.1, RFC 8252 §8.5); it must be "none"`, 'token_endpoint_auth_method');
      break;
  }
  if (isPublic && m.grant_types.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
    throw invalidRequest('grant_types: a public client (token_endpoint_auth_method "none") can only use authorization_code and refresh_token', 'grant_types');
  }
  if (usesCode && !m.redirect_uris.length) {
    throw invalidRequest('redirect_uris: authorization_code needs at least one redirect URI', 'redirect_uris');
  }
  if (m.grant_types.includes('refresh_token') && !usesCode) {
    throw invalidRequest('grant_types: refresh_token comes from authorization_code', 'grant_types');
  }
  if (!usesCode && scopes.some(isOidcScope)) {
    throw invalidRequest('scope: identity scopes (openid, profile, email, offline_access) need authorization_code', 'scope');
  }
  const uriFields = { redirect_uris: m.redirect_uris, post_logout_redirect_uris: m.post_logout_redirect_uris ?? [] };
  for (const [field, uris] of Object.entries(uriFields)) {
    for (const [i, uri] of uris.entries()) {
      const problem = redirectProblem(uri, m.application_type ?? 'web');
      if (problem) throw invalidRequest(`${field}.${i}: ${problem}`, `${field}.${i}`);
    }
  }
}

/** Management API permissions named in a scope string (the built-in API's scopes). */
const managementScopesOf = (scope: string | undefined) => splitScope(scope).filter((s) => Object.hasOwn(MANAGEMENT_SCOPES, s));

/**
 * A client-credentials token carries the Management API permissions its client holds
 * (authenticate.ts). Whoever could give a client such a permission, change such a client, or get a
 * secret for it could act with that permission; so each of these needs the caller to hold it too,
 * and nobody gains a permission through a credential. Suspending, revoking a secret and deleting
 * only take access away: clients:write is enough for those.
 */
function checkNoEscalation(caller: Caller | undefined, held: string[], message: (permission: string) => string, field?: string) {
  if (!caller) return;
  const missing = held.find((p) => !caller.permissions.has(p));
  if (missing) throw new ApiError(403, 'forbidden', message(missing), {}, { scope: missing, ...(field ? { field } : {}) });
}

const normaliseScope = (scope: string | undefined) => splitScope(scope).join(' ');

function statusOf(c: ClientRecord): 'active' | 'suspended' | 'expired' {
  if (!c.enabled) return 'suspended';
  if (c.expiresAt && c.expiresAt.getTime() <= Date.now()) return 'expired';
  return 'active';
}

/** The client as the Management API shows it: never a secret, not even its digest. */
export const clientSchema = z.strictObject({
  id: z.string().meta({ description: 'Stable id of the record.' }),
  client_id: z.string().meta({ description: 'The OAuth client_id (RFC 6749 §2.2).' }),
  client_name: z.string().nullable(),
  type: clientType,
  grant_types: z.array(z.enum(GRANT_TYPES)),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  scope: z.string().meta({ description: 'Space-delimited scopes the client may be granted (RFC 6749 §3.3).' }),
  environment,
  enabled: z.boolean(),
  builtin: z.boolean().meta({ description: 'Registered by the server itself (the console’s sign-in client): read-only.' }),
  status: z.enum(['active', 'suspended', 'expired']),
  ip_allowlist: z.array(z.string()),
  created_at: timestamp,
  updated_at: timestamp,
  expires_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
});

/** A new secret appears in the response that creates it, and never again. */
const shownOnce = z.string().regex(/^sk_(live|test)_/).meta({ description: 'Shown in this response only, never again.' });

export const clientCreatedSchema = clientSchema.extend({
  client_secret: shownOnce.optional().meta({ description: 'Shown in this response only, never again. Absent for a public client.' }),
});

export function serializeClient(c: ClientRecord): z.infer<typeof clientSchema> {
  const m = c.metadata as StoredMetadata;
  return {
    id: c.id,
    client_id: c.clientId,
    client_name: m.client_name ?? null,
    type: m.type ?? inferType(m),
    // Every path that stores a client validates grant_types against GRANT_TYPES first.
    grant_types: m.grant_types as (typeof GRANT_TYPES)[number][],
    redirect_uris: m.redirect_uris,
    post_logout_redirect_uris: m.post_logout_redirect_uris ?? [],
    token_endpoint_auth_method: m.token_endpoint_auth_method,
    scope: m.scope ?? '',
    environment: c.environment,
    enabled: c.enabled,
    builtin: c.builtin,
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

/** A client the server registers itself (server/console/client.ts) is put back at every start: it is read-only. */
async function mustFindChangeable(q: Queryable, clientId: string): Promise<ClientRecord> {
  const c = await mustFind(q, clientId);
  if (c.builtin) throw forbidden(`${clientId} is built in (the admin console signs in with it) and cannot be changed, rotated or deleted`);
  return c;
}

/** Grants and refresh tokens (the durable artifacts, RFC 6749 §10.4) a client holds in oidc_artifacts. */
const purgeArtifacts = (q: Queryable, clientId: string) =>
  q.query(`DELETE FROM oidc_artifacts WHERE model IN ('Grant', 'RefreshToken') AND payload->>'clientId' = $1`, [clientId]);

export async function createClient(db: Database, input: z.infer<typeof createClientSchema>, actor: Actor, caller?: Caller): Promise<z.infer<typeof clientCreatedSchema>> {
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
  checkNoEscalation(caller, managementScopesOf(metadata.scope), (p) => `scope: granting ${p} needs that permission yourself, because this credential's tokens would carry it`, 'scope');
  const clientId = input.client_id ?? `${input.environment === 'test' ? 'cl_test_' : 'cl_'}${randomBytes(12).toString('hex')}`;
  const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : issueCredential('sk', input.environment);
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, splitScope(metadata.scope), 'scope');
    const inserted = await tx.query(
      `INSERT INTO clients (client_id, metadata, environment, enabled, expires_at, ip_allowlist, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING RETURNING id`,
      [clientId, JSON.stringify(metadata), input.environment, input.enabled, expiryDate(input.expires_in) ?? null,
        JSON.stringify(input.ip_allowlist), actor.type === 'user' ? actor.id : null],
    );
    if (!inserted.rowCount) throw conflict(`a client with client_id ${clientId} already exists`);
    // A chosen client_id may be one deleted before. A refresh on another node that was in flight when
    // it was deleted can have saved a refresh token after that DELETE; it must not pass to this client.
    if (input.client_id) await purgeArtifacts(tx, clientId);
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

/** Postgres' own text for a timestamptz: unlike a JavaScript Date it keeps the microseconds. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2}|Z)?$/;

export async function listClients(db: Queryable, query: { q?: string; cursor?: string; limit?: string }): Promise<Page<ReturnType<typeof serializeClient>>> {
  const limit = parseLimit(query.limit);
  const after = decodeCursor<{ c: string; i: string }>(query.cursor, ['c', 'i']);
  // The cursor is decoded, not trusted: a forged one must be a 400, not a failed cast (500).
  if (after && !(typeof after.c === 'string' && PG_TIMESTAMP.test(after.c) && typeof after.i === 'string')) {
    throw invalidRequest('cursor is not one this server issued', 'cursor');
  }
  const q = query.q?.trim() ? `%${query.q.trim().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
  // The cursor holds created_at to the microsecond: clients created within one millisecond would
  // otherwise fall between two pages.
  const { rows } = await db.query<{ client_id: string; created: string }>(
    `SELECT client_id, created_at::text AS created FROM clients
     WHERE ($1::text IS NULL OR client_id ILIKE $1 OR metadata->>'client_name' ILIKE $1)
       AND ($2::timestamptz IS NULL OR (created_at, client_id) < ($2::timestamptz, $3::text))
     ORDER BY created_at DESC, client_id DESC LIMIT $4`,
    [q, after?.c ?? null, after?.i ?? null, limit + 1],
  );
  const page = pageOf(rows, limit, (r) => r.client_id, (r) => ({ c: r.created, i: r.client_id }));
  const byId = new Map((await findClients(db, page.data)).map((c) => [c.clientId, c]));
  // A client deleted between the two queries is left out of the page rather than failing it.
  const records = page.data.flatMap((id) => byId.get(id) ?? []);
  return { data: records.map(serializeClient), next_cursor: page.next_cursor };
}

export async function getClient(db: Queryable, clientId: string) {
  return serializeClient(await mustFind(db, clientId));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function updateClient(db: Database, clientId: string, patch: z.infer<typeof updateClientSchema>, actor: Actor, caller?: Caller) {
  return db.transaction(async (tx) => {
    const current = await mustFindChangeable(tx, clientId);
    const before = current.metadata as StoredMetadata;
    const method = patch.token_endpoint_auth_method;
    if (method !== undefined && (method === 'none') !== (before.token_endpoint_auth_method === 'none')) {
      throw invalidRequest('token_endpoint_auth_method: a public client cannot become confidential or the other way round; create a new credential', 'token_endpoint_auth_method');
    }
    const metadata: StoredMetadata = {
      ...before,
      ...(patch.client_name !== undefined && { client_name: patch.client_name }),
      ...(patch.grant_types !== undefined && { grant_types: [...new Set(patch.grant_types)] }),
      ...(patch.redirect_uris !== undefined && { redirect_uris: patch.redirect_uris }),
      ...(patch.post_logout_redirect_uris !== undefined && { post_logout_redirect_uris: patch.post_logout_redirect_uris }),
      ...(method !== undefined && { token_endpoint_auth_method: method }),
      ...(patch.scope !== undefined && { scope: normaliseScope(patch.scope) }),
    };
    checkShape(metadata);
    const onlySuspends = Object.keys(patch).every((k) => k === 'enabled') && patch.enabled !== true;
    if (!onlySuspends) {
      const held = [...new Set([...managementScopesOf(before.scope), ...managementScopesOf(metadata.scope)])];
      checkNoEscalation(caller, held, (p) => `this credential holds (or would hold) ${p}: changing it needs that permission yourself; you can still suspend or delete it`, patch.scope !== undefined ? 'scope' : undefined);
    }
    if (patch.scope !== undefined) await checkApiScopes(tx, splitScope(metadata.scope), 'scope');
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
    // The audit record names what changed, with values before and after: all of it metadata, no secret.
    const was: Record<string, unknown> = { ...before, ip_allowlist: current.ipAllowlist, expires_at: iso(current.expiresAt) };
    const now: Record<string, unknown> = {
      ...metadata,
      ip_allowlist: patch.ip_allowlist ?? current.ipAllowlist,
      expires_at: expiresAt === undefined ? iso(current.expiresAt) : iso(expiresAt),
    };
    const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => !same(was[k], now[k]));
    if (patch.enabled !== undefined && patch.enabled !== current.enabled) {
      await recordAudit(tx, { type: patch.enabled ? 'client.resumed' : 'client.suspended', actor, target: { type: 'client', id: clientId } });
    }
    if (fields.length) {
      await recordAudit(tx, {
        type: 'client.updated',
        actor,
        target: { type: 'client', id: clientId },
        data: { fields, before: Object.fromEntries(fields.map((f) => [f, was[f] ?? null])), after: Object.fromEntries(fields.map((f) => [f, now[f] ?? null])) },
      });
    }
    return serializeClient(await mustFind(tx, clientId));
  });
}

/**
 * Revokes a client: the row and its secrets go, so the next token request is invalid_client on every
 * node (each request reads the client from the database), and its grants and refresh tokens go too.
 * Codes, sessions and opaque access tokens in Redis are not searched for: each use of one loads the
 * client, which no longer exists. Consents go with the row (ON DELETE CASCADE).
 */
export async function deleteClient(db: Database, clientId: string, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    await mustFindChangeable(tx, clientId);
    const { rowCount } = await tx.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
    if (!rowCount) throw notFound(`client ${clientId}`);
    const revoked = await purgeArtifacts(tx, clientId);
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

export const clientSecretSchema = z.strictObject({
  id: z.string(),
  prefix: z.string().nullable().meta({ description: 'The non-secret head of the secret (sk_live_…), to tell secrets apart.' }),
  hint: z.string().meta({ description: 'Last characters of the prefix.' }),
  created_at: timestamp,
  expires_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
});

export const clientSecretCreatedSchema = clientSecretSchema.extend({ client_secret: shownOnce });

/** POST /clients/{client_id}/secrets: how long the secrets it replaces keep working. */
export const rotateClientSecretSchema = z.strictObject({
  previous_expires_in: expiresIn.optional().meta({ description: 'How long the existing secrets keep working (default 7 days).' }),
});

const serializeSecret = (s: SecretRow): z.infer<typeof clientSecretSchema> => ({
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
export async function rotateClientSecret(db: Database, clientId: string, previousExpiresIn: number, actor: Actor, caller?: Caller) {
  return db.transaction(async (tx) => {
    const client = await mustFindChangeable(tx, clientId);
    if (client.metadata.token_endpoint_auth_method === 'none') {
      throw invalidRequest('a public client has no secret to rotate');
    }
    checkNoEscalation(caller, managementScopesOf(client.metadata.scope), (p) => `this credential holds ${p}: a new secret for it needs that permission yourself`);
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
      data: { secret_id: rows[0].id, previous_expires_at: until.toISOString() },
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Revokes one secret at once (the end of a rotation, or a leaked secret). The client's last live
 * secret is refused: the client would stay enabled yet unable to authenticate, which looks like an
 * outage rather than a decision. Rotate first, or suspend or delete the client.
 */
export async function deleteClientSecret(db: Database, clientId: string, secretId: string, actor: Actor): Promise<void> {
  await db.transaction(async (tx) => {
    await mustFindChangeable(tx, clientId);
    // Locked, so two concurrent deletions cannot each see the other's secret as the one left.
    const { rows } = await tx.query<{ id: string; live: boolean }>(
      `SELECT id, (expires_at IS NULL OR expires_at > now()) AS live FROM client_secrets WHERE client_id = $1 FOR UPDATE`,
      [clientId],
    );
    const target = UUID.test(secretId) ? rows.find((r) => r.id.toLowerCase() === secretId.toLowerCase()) : undefined;
    if (!target) throw notFound(`secret ${secretId}`);
    if (target.live && !rows.some((r) => r.live && r.id !== target.id)) {
      throw conflict(`secret ${secretId} is the client's only live secret: rotate first (POST /clients/${clientId}/secrets), or suspend or delete the client`);
    }
    await tx.query('DELETE FROM client_secrets WHERE id = $1', [target.id]);
    await recordAudit(tx, { type: 'client.secret_revoked', actor, target: { type: 'client', id: clientId }, data: { secret_id: target.id } });
  });
}
