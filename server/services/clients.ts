import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { issueCredential } from '../crypto/credentials.js';
import { digest } from '../crypto/tokens.js';
import { isOidcScope, splitScope } from './scope-names.js';
import {
  type ClientMetadata, type ClientRecord, type SecretRow, capLiveSecrets, deleteClientRow, deleteClientSecret as deleteSecretRow,
  findClient, findClients, insertClient, insertClientSecret, listAllClients, listClientIds, listLiveSecrets, lockClientSecrets,
  updateClientRow,
} from '../store/clients.js';
import { deleteConsentsForClient } from '../store/consents.js';
import { emailsOfUsers } from '../store/users.js';
import { revokeClientArtifacts } from './artifacts.js';
import { recordAudit } from './audit.js';
import { initiatorOf, recordClientAccessEnd } from './ssf/events.js';
import { assertMayConfer } from './delegation.js';
import { conflict, forbidden, insufficientScope, invalidRequest, notFound } from './errors.js';
import { decodeCursor, type Page, pageOf, parseLimit } from './pagination.js';
import type { Principal } from './principal.js';
import { environment, expiresIn, expiryDate, ipAllowlist, iso, optionalTimestamp, redirectUri, timestamp } from './validation.js';
import { NAME_MAX } from './limits.js';
import { checkApiScopes } from './scopes-check.js';
import { isUuid } from '../store/ids.js';
import { checkProtection, protectionFields, protectionView, serializeProtection, withProtection } from './client-protection.js';
import {
  DEVICE_CODE_GRANT, type IntegrationMetadata, checkIntegrationShape, integrationFields, integrationMetadata, withoutIntegrations, integrationView, integrationViewSchema,
} from './client-integrations.js';

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange', DEVICE_CODE_GRANT] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'] as const;

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
  ...protectionFields,
  ...integrationFields,
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
  ...protectionFields,
  ...integrationFields,
  client_id: fixed('client_id cannot change: tokens, grants and consents refer to it; create a new credential'),
  type: fixed('type cannot change after creation; create a new credential'),
  environment: fixed('environment cannot change: secrets are issued for one environment (sk_live_, sk_test_); create a new credential'),
});

interface StoredMetadata extends ClientMetadata, IntegrationMetadata {
  type?: ClientType;
}

/** Only the client_secret_* methods hold a secret; a public client has none and private_key_jwt keys instead. */
const usesSecret = (m: Pick<ClientMetadata, 'token_endpoint_auth_method'>) => m.token_endpoint_auth_method.startsWith('client_secret_');

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
  // RFC 8628: a person signs in on another device; as authorization_code, it acts for a person.
  const signsPeopleIn = usesCode || m.grant_types.includes(DEVICE_CODE_GRANT);
  const scopes = splitScope(m.scope);
  switch (m.type) {
    case 'service':
      if (signsPeopleIn || m.grant_types.includes('refresh_token')) {
        throw invalidRequest('grant_types: a service credential acts for itself (client_credentials, token exchange); signing users in needs type "web", "spa" or "native"', 'grant_types');
      }
      break;
    case 'web':
      if (!signsPeopleIn) throw invalidRequest('grant_types: a web app signs users in with authorization_code (or device_code)', 'grant_types');
      if (isPublic) throw invalidRequest('token_endpoint_auth_method: a web app keeps a secret on its server (RFC 6749 §2.1); an app that cannot is type "spa" or "native"', 'token_endpoint_auth_method');
      break;
    case 'spa':
    case 'native':
      if (!isPublic) throw invalidRequest(`token_endpoint_auth_method: a ${m.type === 'spa' ? 'browser' : 'native'} app cannot keep a secret (RFC 6749 §2.1, RFC 8252 §8.5); it must be "none"`, 'token_endpoint_auth_method');
      break;
  }
  if (isPublic && m.grant_types.some((g) => g !== 'authorization_code' && g !== 'refresh_token' && g !== DEVICE_CODE_GRANT)) {
    throw invalidRequest('grant_types: a public client (token_endpoint_auth_method "none") can only use authorization_code, refresh_token and device_code', 'grant_types');
  }
  if (usesCode && !m.redirect_uris.length) {
    throw invalidRequest('redirect_uris: authorization_code needs at least one redirect URI', 'redirect_uris');
  }
  if (m.grant_types.includes('refresh_token') && !signsPeopleIn) {
    throw invalidRequest('grant_types: refresh_token comes from authorization_code (or device_code)', 'grant_types');
  }
  if (!signsPeopleIn && scopes.some(isOidcScope)) {
    throw invalidRequest('scope: identity scopes (openid, profile, email, offline_access) need authorization_code (or device_code)', 'scope');
  }
  checkIntegrationShape(m);
  const uriFields = { redirect_uris: m.redirect_uris, post_logout_redirect_uris: m.post_logout_redirect_uris ?? [] };
  for (const [field, uris] of Object.entries(uriFields)) {
    for (const [i, uri] of uris.entries()) {
      const problem = redirectProblem(uri, m.application_type ?? 'web');
      if (problem) throw invalidRequest(`${field}.${i}: ${problem}`, `${field}.${i}`);
    }
  }
  checkProtection(m);
}

/**
 * Ownership (issue 8): clients:write covers the clients you created; anyone else's, and those the
 * operator's tools made (no owner), need clients:admin. A client's own token acts for its owner.
 */
function checkOwnership(caller: Principal, client: ClientRecord) {
  if (caller.kind === 'system') return;
  if (client.createdBy && client.createdBy === caller.ownerId) return;
  if (caller.permissions.has('clients:admin')) return;
  throw insufficientScope('clients:admin', client.createdBy
    ? `${client.clientId} belongs to someone else: changing it needs the clients:admin permission`
    : `${client.clientId} was made by an operator tool and belongs to no one: changing it needs the clients:admin permission`);
}

/**
 * Whoever could give a credential a permission, change such a credential (its redirect URIs, grant
 * types) or get a secret for it could act with that permission; so each of these needs the caller to
 * hold every guarded scope the credential holds or would hold (services/delegation.ts). Suspending,
 * revoking a secret and deleting only take access away: ownership is enough for those.
 */
const mayConfer = (q: Queryable, caller: Principal, scopes: string[], what: string, field?: string) =>
  assertMayConfer(q, caller, scopes, what, field);

/** RFC 6749 §2.1: a public client's token requests come from its users' devices, anywhere. */
function checkIpAllowlist(m: StoredMetadata, list: readonly string[]) {
  if (m.token_endpoint_auth_method === 'none' && list.length) {
    throw invalidRequest('ip_allowlist: a public client (spa, native) runs on its users\' devices, so no address list can describe it; IP allowlists are for confidential clients', 'ip_allowlist');
  }
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
  ...protectionView,
  owner: z
    .strictObject({ id: z.string(), email: z.string().nullable() })
    .nullable()
    .meta({ description: 'Who created it: clients:write changes only your own; anyone else’s, and one with no owner (made by the CLI or a seed file), needs clients:admin.' }),
  created_at: timestamp,
  updated_at: timestamp,
  expires_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
  ...integrationViewSchema,
});

/** A new secret appears in the response that creates it, and never again. */
const shownOnce = z.string().regex(/^sk_(live|test)_/).meta({ description: 'Shown in this response only, never again.' });

export const clientCreatedSchema = clientSchema.extend({
  client_secret: shownOnce.optional().meta({ description: 'Shown in this response only, never again. Absent for a public client.' }),
});

export function serializeClient(c: ClientRecord, owners: ReadonlyMap<string, string> = new Map()): z.infer<typeof clientSchema> {
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
    ...serializeProtection(m),
    // Who may change it with clients:write alone (issue 8); null when an operator tool made it.
    owner: c.createdBy ? { id: c.createdBy, email: owners.get(c.createdBy) ?? null } : null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    expires_at: iso(c.expiresAt),
    last_used_at: iso(c.lastUsedAt),
    ...integrationView(m),
  };
}

function inferType(m: StoredMetadata): ClientType {
  const viaDevice = m.grant_types.includes(DEVICE_CODE_GRANT);
  if (!m.grant_types.includes('authorization_code')) return !viaDevice ? 'service' : m.token_endpoint_auth_method === 'none' ? 'native' : 'web';
  if (m.token_endpoint_auth_method !== 'none') return 'web';
  return m.application_type === 'native' ? 'native' : 'spa';
}

async function mustFind(q: Queryable, clientId: string): Promise<ClientRecord> {
  const c = await findClient(q, clientId);
  if (!c) throw notFound(`client ${clientId}`);
  return c;
}

/** The client as shown, its owner's email included. */
async function view(q: Queryable, clientId: string) {
  const c = await mustFind(q, clientId);
  return serializeClient(c, await emailsOfUsers(q, c.createdBy ? [c.createdBy] : []));
}

/**
 * A client the caller may change: not built in (the server puts the console's client back at every
 * start, so it is read-only), and theirs or within clients:admin.
 */
async function mustFindChangeable(q: Queryable, clientId: string, caller: Principal): Promise<ClientRecord> {
  const c = await mustFind(q, clientId);
  if (c.builtin) throw forbidden(`${clientId} is built in (the admin console signs in with it) and cannot be changed, rotated or deleted`);
  checkOwnership(caller, c);
  return c;
}

/** Only the operator's tools (the seed file) bring a secret of their own; everyone else gets one issued. */
export interface CreateOptions {
  secret?: string;
}

export async function createClient(db: Database, input: z.infer<typeof createClientSchema>, caller: Principal, options: CreateOptions = {}): Promise<z.infer<typeof clientCreatedSchema>> {
  const preset = TYPES[input.type ?? (input.grant_types?.includes('authorization_code') ? 'web' : 'service')];
  const metadata: StoredMetadata = withProtection({
    client_name: input.client_name,
    type: input.type,
    grant_types: [...new Set(input.grant_types ?? preset.grant_types)],
    redirect_uris: input.redirect_uris ?? [],
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    token_endpoint_auth_method: input.token_endpoint_auth_method ?? preset.token_endpoint_auth_method,
    application_type: preset.application_type,
    scope: normaliseScope(input.scope),
    ...integrationMetadata({}, input),
  }, input);
  metadata.type ??= inferType(metadata);
  checkShape(metadata);
  checkIpAllowlist(metadata, input.ip_allowlist);
  const noSecret = !usesSecret(metadata);
  if (options.secret !== undefined && (caller.kind !== 'system' || noSecret)) throw invalidRequest('client_secret: secrets are issued by the server', 'client_secret');
  const clientId = input.client_id ?? `${input.environment === 'test' ? 'cl_test_' : 'cl_'}${randomBytes(12).toString('hex')}`;
  const secret = noSecret ? undefined : options.secret !== undefined ? operatorSecret(options.secret) : issued(input.environment);
  return db.transaction(async (tx) => {
    await checkApiScopes(tx, splitScope(metadata.scope), 'scope');
    await mayConfer(tx, caller, splitScope(metadata.scope), "this credential's scope (its tokens would carry it)", 'scope');
    const inserted = await insertClient(tx, {
      clientId, metadata, environment: input.environment, enabled: input.enabled, expiresAt: expiryDate(input.expires_in) ?? null,
      ipAllowlist: input.ip_allowlist, createdBy: caller.ownerId ?? null,
    });
    if (!inserted) throw conflict(`a client with client_id ${clientId} already exists`);
    // A chosen client_id may be one deleted before. A refresh on another node that was in flight when
    // it was deleted can have saved a refresh token after that DELETE; it must not pass to this client.
    if (input.client_id) await revokeClientArtifacts(tx, clientId);
    if (secret) await insertClientSecret(tx, clientId, secret.stored);
    await recordAudit(tx, {
      type: 'client.created',
      actor: caller.actor,
      target: { type: 'client', id: clientId },
      data: { client_name: metadata.client_name, type: metadata.type, grant_types: metadata.grant_types, scope: metadata.scope, environment: input.environment },
    });
    const client = await view(tx, clientId);
    return secret && options.secret === undefined ? { ...client, client_secret: secret.value } : client;
  });
}

/** A secret the server issues: sk_live_… / sk_test_…, shown once, its prefix kept to tell secrets apart. */
function issued(env: 'live' | 'test') {
  const credential = issueCredential('sk', env);
  return { value: credential.value, stored: { hash: credential.hash, hint: credential.prefix.slice(-4), prefix: credential.prefix } };
}

/** A secret an operator chose (the seed file): only its digest and first characters are kept. */
function operatorSecret(value: string) {
  return { value, stored: { hash: digest(value), hint: value.slice(0, 4), prefix: null } };
}

/**
 * The seed file's declarative secret: the client's secrets become exactly this one (kept, with its
 * history, when it is already the live one). Operator tools only.
 */
export async function setOperatorSecret(db: Database, clientId: string, value: string | undefined, caller: Principal): Promise<void> {
  if (caller.kind !== 'system') throw forbidden('only operator tools set a chosen secret');
  await db.transaction(async (tx) => {
    const client = await mustFind(tx, clientId);
    const hash = value === undefined ? undefined : digest(value);
    const keep = client.secrets.find((s) => s.hash === hash && s.expiresAt === null);
    for (const row of await lockClientSecrets(tx, clientId)) if (row.id !== keep?.id) await deleteSecretRow(tx, row.id);
    if (value !== undefined && !keep) await insertClientSecret(tx, clientId, operatorSecret(value).stored);
  });
}

export async function listClients(db: Queryable, query: { q?: string; cursor?: string; limit?: string }): Promise<Page<ReturnType<typeof serializeClient>>> {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { c: 'timestamp', i: 'text' });
  const q = query.q?.trim() || null;
  const rows = await listClientIds(db, { q: q ?? undefined, after: after && { created: after.c, clientId: after.i }, limit: limit + 1 });
  const page = pageOf(rows, limit, (r) => r.client_id, (r) => ({ c: r.created, i: r.client_id }));
  const byId = new Map((await findClients(db, page.data)).map((c) => [c.clientId, c]));
  // A client deleted between the two queries is left out of the page rather than failing it.
  const records = page.data.flatMap((id) => byId.get(id) ?? []);
  const owners = await emailsOfUsers(db, records.flatMap((c) => (c.createdBy ? [c.createdBy] : [])));
  return { data: records.map((c) => serializeClient(c, owners)), next_cursor: page.next_cursor };
}

/** Every client, for the operator's CLI, with how many live secrets each has. */
export async function listEveryClient(db: Queryable) {
  const records = await listAllClients(db);
  const owners = await emailsOfUsers(db, records.flatMap((c) => (c.createdBy ? [c.createdBy] : [])));
  return records.map((c) => ({ ...serializeClient(c, owners), secrets: c.secrets.length }));
}

export async function getClient(db: Queryable, clientId: string) {
  return view(db, clientId);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export async function updateClient(db: Database, clientId: string, patch: z.infer<typeof updateClientSchema>, caller: Principal) {
  const actor = caller.actor;
  return db.transaction(async (tx) => {
    const current = await mustFindChangeable(tx, clientId, caller);
    const before = current.metadata as StoredMetadata;
    const method = patch.token_endpoint_auth_method;
    if (method !== undefined && (method === 'none') !== (before.token_endpoint_auth_method === 'none')) {
      throw invalidRequest('token_endpoint_auth_method: a public client cannot become confidential or the other way round; create a new credential', 'token_endpoint_auth_method');
    }
    const metadata: StoredMetadata = withProtection({
      ...withoutIntegrations(before),
      ...(patch.client_name !== undefined && { client_name: patch.client_name }),
      ...(patch.grant_types !== undefined && { grant_types: [...new Set(patch.grant_types)] }),
      ...(patch.redirect_uris !== undefined && { redirect_uris: patch.redirect_uris }),
      ...(patch.post_logout_redirect_uris !== undefined && { post_logout_redirect_uris: patch.post_logout_redirect_uris }),
      ...(method !== undefined && { token_endpoint_auth_method: method }),
      ...(patch.scope !== undefined && { scope: normaliseScope(patch.scope) }),
      ...integrationMetadata(before, patch),
    }, patch);
    if (usesSecret(metadata) && !usesSecret(before) && !current.secrets.length) {
      throw invalidRequest(`token_endpoint_auth_method: this client has no live secret yet; issue one first (POST /clients/${clientId}/secrets)`, 'token_endpoint_auth_method');
    }
    checkShape(metadata);
    checkIpAllowlist(metadata, patch.ip_allowlist ?? current.ipAllowlist);
    if (patch.scope !== undefined) await checkApiScopes(tx, splitScope(metadata.scope), 'scope');
    const onlySuspends = Object.keys(patch).every((k) => k === 'enabled') && patch.enabled !== true;
    if (!onlySuspends) {
      const held = [...splitScope(before.scope), ...splitScope(metadata.scope)];
      await mayConfer(tx, caller, held, 'changing a credential that holds (or would hold) these permissions; you can still suspend or delete it', patch.scope !== undefined ? 'scope' : undefined);
    }
    const expiresAt = expiryDate(patch.expires_in);
    await updateClientRow(tx, clientId, { metadata, enabled: patch.enabled, expiresAt, ipAllowlist: patch.ip_allowlist });
    // The audit record names what changed, with values before and after: all of it metadata, no secret.
    const was: Record<string, unknown> = { ...before, ip_allowlist: current.ipAllowlist, expires_at: iso(current.expiresAt) };
    const now: Record<string, unknown> = {
      ...metadata,
      ip_allowlist: patch.ip_allowlist ?? current.ipAllowlist,
      expires_at: expiresAt === undefined ? iso(current.expiresAt) : iso(expiresAt),
    };
    const fields = [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => !same(was[k], now[k]));
    // A consent was given for where the person would be sent. A new redirect URI is a new place:
    // everyone is asked again, on a page that names it (RFC 6749 §10.6, RFC 9700 §4.1).
    const forgotten = fields.includes('redirect_uris') ? await deleteConsentsForClient(tx, clientId) : 0;
    if (patch.enabled !== undefined && patch.enabled !== current.enabled) {
      await recordAudit(tx, { type: patch.enabled ? 'client.resumed' : 'client.suspended', actor, target: { type: 'client', id: clientId } });
      // Resource servers refuse its tokens from now on (Shared Signals, services/ssf).
      if (!patch.enabled) await recordClientAccessEnd(tx, clientId, 'suspended', initiatorOf(actor));
    }
    if (fields.length) {
      await recordAudit(tx, {
        type: 'client.updated',
        actor,
        target: { type: 'client', id: clientId },
        data: {
          fields,
          before: Object.fromEntries(fields.map((f) => [f, was[f] ?? null])),
          after: Object.fromEntries(fields.map((f) => [f, now[f] ?? null])),
          ...(fields.includes('redirect_uris') ? { consents_forgotten: forgotten } : {}),
        },
      });
    }
    return view(tx, clientId);
  });
}

/**
 * Revokes a client: the row, its secrets and consents go, so the next token request is
 * invalid_client on every node, and so do its grants and refresh tokens (RFC 6749 §10.4). Codes and
 * sessions in Redis are not searched for: each use of one loads the client, which no longer exists.
 */
export async function deleteClient(db: Database, clientId: string, caller: Principal): Promise<{ client_id: string; revoked_artifacts: number }> {
  return db.transaction(async (tx) => {
    await mustFindChangeable(tx, clientId, caller);
    if (!(await deleteClientRow(tx, clientId))) throw notFound(`client ${clientId}`);
    const revoked = await revokeClientArtifacts(tx, clientId);
    await recordAudit(tx, { type: 'client.revoked', actor: caller.actor, target: { type: 'client', id: clientId }, data: { revoked_artifacts: revoked } });
    await recordClientAccessEnd(tx, clientId, 'revoked', initiatorOf(caller.actor));
    return { client_id: clientId, revoked_artifacts: revoked };
  });
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
export async function rotateClientSecret(db: Database, clientId: string, previousExpiresIn: number, caller: Principal) {
  return db.transaction(async (tx) => {
    const client = await mustFindChangeable(tx, clientId, caller);
    if (client.metadata.token_endpoint_auth_method === 'none') {
      throw invalidRequest('a public client has no secret to rotate');
    }
    await mayConfer(tx, caller, splitScope(client.metadata.scope), 'a new secret for a credential that holds these permissions');
    const until = new Date(Date.now() + previousExpiresIn * 1000);
    await capLiveSecrets(tx, clientId, until);
    const secret = issued(client.environment);
    const row = await insertClientSecret(tx, clientId, secret.stored);
    await recordAudit(tx, {
      type: 'client.secret_rotated',
      actor: caller.actor,
      target: { type: 'client', id: clientId },
      data: { secret_id: row.id, previous_expires_at: until.toISOString() },
    });
    return { ...serializeSecret(row), client_secret: secret.value };
  });
}

export async function listClientSecrets(db: Queryable, clientId: string) {
  await mustFind(db, clientId);
  return { data: (await listLiveSecrets(db, clientId)).map(serializeSecret), next_cursor: null };
}


/**
 * Revokes one secret at once (the end of a rotation, or a leaked secret). The client's last live
 * secret is refused: the client would stay enabled yet unable to authenticate, which looks like an
 * outage rather than a decision. Rotate first, or suspend or delete the client.
 */
export async function deleteClientSecret(db: Database, clientId: string, secretId: string, caller: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    await mustFindChangeable(tx, clientId, caller);
    // Locked, so two concurrent deletions cannot each see the other's secret as the one left.
    const rows = await lockClientSecrets(tx, clientId);
    const target = isUuid(secretId) ? rows.find((r) => r.id.toLowerCase() === secretId.toLowerCase()) : undefined;
    if (!target) throw notFound(`secret ${secretId}`);
    if (target.live && !rows.some((r) => r.live && r.id !== target.id)) {
      throw conflict(`secret ${secretId} is the client's only live secret: rotate first (POST /clients/${clientId}/secrets), or suspend or delete the client`);
    }
    await deleteSecretRow(tx, target.id);
    await recordAudit(tx, { type: 'client.secret_revoked', actor: caller.actor, target: { type: 'client', id: clientId }, data: { secret_id: target.id } });
  });
}
