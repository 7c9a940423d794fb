import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import { type Environment, issueCredential } from '../crypto/credentials.js';
import { hashPassword } from '../crypto/passwords.js';
import { checkPassword } from '../services/password-rules.js';
import { type Actor, recordAudit } from '../services/audit.js';
import { MANAGEMENT_SCOPES } from '../services/management-api.js';
import { cidrProblem } from '../net/ip-allowlist.js';
import { isOidcScope } from '../services/scope-names.js';
import { findApisByScopes } from '../store/apis.js';
import { setUserRoles } from '../store/roles.js';
import { findUserByEmail, findUserById } from '../store/users.js';
import { clientSchema } from '../seed.js';

/**
 * What the CLI does to the database for `clients`, `users` and `api-keys`: the same rows and audit
 * events as the Management API writes, each change in one transaction with its event. Values
 * shown once (client secrets, API keys, generated passwords) are returned to the caller and only
 * their digests are stored.
 */
export class OperationError extends Error {
  override name = 'OperationError';
}

/** Every API scope must be defined by a registered API; identity scopes only where allowed. */
async function checkScopes(q: Queryable, scopes: string[], allowIdentity: boolean): Promise<void> {
  // The Management API's scopes count as registered even before a server has registered the API
  // itself at its first start (server/management/scopes.ts).
  const apiScopes = scopes.filter((s) => !isOidcScope(s) && !(s in MANAGEMENT_SCOPES));
  if (!allowIdentity && scopes.some(isOidcScope)) {
    throw new OperationError(`identity scopes (${scopes.filter(isOidcScope).join(', ')}) need the authorization_code grant`);
  }
  const defined = new Set((await findApisByScopes(q, apiScopes)).flatMap((a) => a.scopes.map((s) => s.name)));
  const unknown = apiScopes.filter((s) => !defined.has(s));
  if (unknown.length) throw new OperationError(`${unknown.join(', ')}: no registered API defines ${unknown.length > 1 ? 'these scopes' : 'this scope'}`);
}

function checkCidrs(list: string[]): void {
  for (const entry of list) {
    const problem = cidrProblem(entry);
    if (problem) throw new OperationError(`ip allowlist: ${problem}`);
  }
}

const expiry = (seconds: number | undefined) => (seconds === undefined ? null : new Date(Date.now() + seconds * 1000));

export interface CreateClientInput {
  clientId?: string;
  name?: string;
  grantTypes: string[];
  redirectUris: string[];
  scope: string[];
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  environment: Environment;
  expiresIn?: number;
  ipAllowlist: string[];
}

export interface CreatedClient {
  id: string;
  client_id: string;
  client_name: string | null;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  token_endpoint_auth_method: string;
  environment: Environment;
  ip_allowlist: string[];
  expires_at: string | null;
  created_at: string;
  /** Shown once; absent for a public client. */
  client_secret?: string;
  client_secret_id?: string;
}

export async function createClient(db: Database, input: CreateClientInput, actor: Actor): Promise<CreatedClient> {
  const grantTypes = [...new Set(input.grantTypes)];
  const isPublic = input.authMethod === 'none';
  checkCidrs(input.ipAllowlist);
  const clientId = input.clientId ?? `${input.environment === 'test' ? 'test' : 'app'}_${randomBytes(12).toString('hex')}`;
  const secret = isPublic ? undefined : issueCredential('sk', input.environment);
  // The same rules as a seeded client (redirect URIs, grant types, public vs confidential).
  const checked = clientSchema.safeParse({
    client_id: clientId,
    client_secret: secret?.value,
    client_name: input.name,
    grant_types: grantTypes,
    redirect_uris: input.redirectUris,
    scope: [...new Set(input.scope)].join(' '),
    token_endpoint_auth_method: input.authMethod,
  });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new OperationError(`${issue.path.join('.') || 'client'}: ${issue.message}`);
  }
  const { client_id: _id, client_secret: _secret, ...metadata } = checked.data;
  metadata.scope ??= '';
  return db.transaction(async (tx) => {
    await checkScopes(tx, input.scope, grantTypes.includes('authorization_code'));
    const { rows } = await tx.query<{ id: string; created_at: Date; expires_at: Date | null }>(
      `INSERT INTO clients (client_id, metadata, environment, expires_at, ip_allowlist) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_id) DO NOTHING RETURNING id, created_at, expires_at`,
      [clientId, JSON.stringify(metadata), input.environment, expiry(input.expiresIn), JSON.stringify(input.ipAllowlist)],
    );
    if (!rows[0]) throw new OperationError(`a client with client_id ${clientId} already exists`);
    let secretId: string | undefined;
    if (secret) {
      const inserted = await tx.query<{ id: string }>(
        'INSERT INTO client_secrets (client_id, secret_hash, hint, prefix) VALUES ($1, $2, $3, $4) RETURNING id',
        [clientId, secret.hash, secret.prefix.slice(-4), secret.prefix],
      );
      secretId = inserted.rows[0].id;
    }
    await recordAudit(tx, {
      type: 'client.created',
      actor,
      target: { type: 'client', id: clientId },
      data: { via: 'cli', grant_types: grantTypes, scope: metadata.scope, environment: input.environment },
    });
    return {
      id: rows[0].id,
      client_id: clientId,
      client_name: input.name ?? null,
      grant_types: grantTypes,
      redirect_uris: input.redirectUris,
      scope: metadata.scope ?? '',
      token_endpoint_auth_method: input.authMethod,
      environment: input.environment,
      ip_allowlist: input.ipAllowlist,
      expires_at: rows[0].expires_at ? new Date(rows[0].expires_at).toISOString() : null,
      created_at: new Date(rows[0].created_at).toISOString(),
      ...(secret ? { client_secret: secret.value, client_secret_id: secretId } : {}),
    };
  });
}

export interface ClientSummary {
  id: string;
  client_id: string;
  client_name: string | null;
  grant_types: string[];
  scope: string;
  environment: string;
  enabled: boolean;
  secrets: number;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export async function listClients(db: Queryable): Promise<ClientSummary[]> {
  const { rows } = await db.query<{
    id: string;
    client_id: string;
    metadata: { client_name?: string; grant_types?: string[]; scope?: string };
    environment: string;
    enabled: boolean;
    secrets: number;
    created_at: Date;
    expires_at: Date | null;
    last_used_at: Date | null;
  }>(
    `SELECT c.id, c.client_id, c.metadata, c.environment, c.enabled, c.created_at, c.expires_at, c.last_used_at,
       (SELECT count(*)::int FROM client_secrets s WHERE s.client_id = c.client_id AND (s.expires_at IS NULL OR s.expires_at > now())) AS secrets
     FROM clients c ORDER BY c.created_at, c.client_id`,
  );
  return rows.map((r) => ({
    id: r.id,
    client_id: r.client_id,
    client_name: r.metadata.client_name ?? null,
    grant_types: r.metadata.grant_types ?? [],
    scope: r.metadata.scope ?? '',
    environment: r.environment,
    enabled: r.enabled,
    secrets: r.secrets,
    created_at: new Date(r.created_at).toISOString(),
    expires_at: iso(r.expires_at),
    last_used_at: iso(r.last_used_at),
  }));
}

/**
 * Revokes a client: the row and its secrets go (the next token request is invalid_client on every
 * node, since each request reads the client from the database), and so do its grants and refresh
 * tokens, as for DELETE /clients/{client_id}.
 */
export async function revokeClient(db: Database, clientId: string, actor: Actor): Promise<{ client_id: string; revoked_artifacts: number }> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ builtin: boolean }>('DELETE FROM clients WHERE client_id = $1 RETURNING client_id', [clientId]);
    if (!rows[0]) throw new OperationError(`no client with client_id ${clientId}`);
    const { rowCount } = await tx.query(`DELETE FROM oidc_artifacts WHERE payload->>'clientId' = $1`, [clientId]);
    await recordAudit(tx, { type: 'client.revoked', actor, target: { type: 'client', id: clientId }, data: { via: 'cli', revoked_artifacts: rowCount } });
    return { client_id: clientId, revoked_artifacts: rowCount };
  });
}

export interface CreateUserInput {
  email: string;
  name: string;
  /** Generated (and returned once) when not given. */
  password?: string;
  roles: string[];
}

export async function createUser(
  db: Database,
  input: CreateUserInput,
  actor: Actor,
): Promise<{ id: string; email: string; name: string; roles: string[]; active: boolean; created_at: string; password?: string }> {
  const generated = input.password === undefined ? randomBytes(18).toString('base64url') : undefined;
  const password = input.password ?? generated!;
  const refused = checkPassword(password);
  if (refused) throw new OperationError(refused);
  if (await findUserByEmail(db, input.email)) throw new OperationError(`a user with email ${input.email} already exists`);
  const passwordHash = await hashPassword(password);
  const roles = [...new Set(input.roles)];
  return db.transaction(async (tx) => {
    if (roles.length) {
      const { rows } = await tx.query<{ name: string }>('SELECT name FROM roles WHERE name = ANY($1::text[])', [roles]);
      const missing = roles.filter((r) => !rows.some((x) => x.name === r));
      if (missing.length) throw new OperationError(`unknown role ${missing.join(', ')}`);
    }
    const { rows } = await tx.query<{ id: string; created_at: Date }>(
      `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING id, created_at`,
      [input.email, input.name, passwordHash],
    );
    if (!rows[0]) throw new OperationError(`a user with email ${input.email} already exists`);
    await setUserRoles(tx, rows[0].id, roles);
    await recordAudit(tx, { type: 'user.created', actor, target: { type: 'user', id: rows[0].id }, data: { via: 'cli', email: input.email, roles } });
    return {
      id: rows[0].id,
      email: input.email,
      name: input.name,
      roles,
      active: true,
      created_at: new Date(rows[0].created_at).toISOString(),
      ...(generated ? { password: generated } : {}),
    };
  });
}

export interface CreateApiKeyInput {
  /** The owner: a user id or an email. */
  user: string;
  name: string;
  scopes: string[];
  environment: Environment;
  expiresIn?: number;
  ipAllowlist: string[];
}

export async function createApiKey(
  db: Database,
  input: CreateApiKeyInput,
  actor: Actor,
): Promise<{ id: string; key: string; prefix: string; name: string; user_id: string; scopes: string[]; environment: Environment; ip_allowlist: string[]; expires_at: string | null; created_at: string }> {
  const owner = (await findUserById(db, input.user)) ?? (await findUserByEmail(db, input.user));
  if (!owner) throw new OperationError(`no user ${input.user}`);
  if (!owner.active) throw new OperationError(`user ${owner.email} is deactivated`);
  if (!input.scopes.length) throw new OperationError('an API key needs at least one scope');
  checkCidrs(input.ipAllowlist);
  const scopes = [...new Set(input.scopes)];
  const credential = issueCredential('ak', input.environment);
  return db.transaction(async (tx) => {
    await checkScopes(tx, scopes, false);
    const { rows } = await tx.query<{ id: string; created_at: Date; expires_at: Date | null }>(
      `INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, environment, ip_allowlist, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at, expires_at`,
      [owner.id, input.name, credential.prefix, credential.hash, JSON.stringify(scopes), input.environment, JSON.stringify(input.ipAllowlist), expiry(input.expiresIn)],
    );
    await recordAudit(tx, {
      type: 'api_key.created',
      actor,
      target: { type: 'api_key', id: rows[0].id },
      data: { via: 'cli', user_id: owner.id, name: input.name, scopes, environment: input.environment },
    });
    return {
      id: rows[0].id,
      key: credential.value,
      prefix: credential.prefix,
      name: input.name,
      user_id: owner.id,
      scopes,
      environment: input.environment,
      ip_allowlist: input.ipAllowlist,
      expires_at: iso(rows[0].expires_at),
      created_at: new Date(rows[0].created_at).toISOString(),
    };
  });
}
