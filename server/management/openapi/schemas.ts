/**
 * JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) of the Management API's bodies. Objects
 * allow additional properties: a client written against this document keeps working when a later
 * version adds a field. Times are RFC 3339 date-times (ISO 8601), ids are strings.
 */
export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const nullable = (schema: Schema): Schema => ({ ...schema, type: [schema.type as string, 'null'] });
const time = (description?: string): Schema => ({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
const nullableTime = (description?: string): Schema => ({ type: ['string', 'null'], format: 'date-time', ...(description ? { description } : {}) });
const arrayOf = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const object = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});

export const page = (item: string): Schema =>
  object(
    {
      data: arrayOf(ref(item)),
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
    },
    ['data', 'next_cursor'],
  );

const scopeName = str({ pattern: '^[\\w.-]+:[\\w.*-]+$', description: 'A permission, named resource:action (orders:read).', examples: ['orders:read'] });
const cidr = str({ description: 'An IP address or CIDR range (10.0.0.0/8, 2001:db8::/32).', examples: ['203.0.113.0/24'] });
const environment = str({ enum: ['live', 'test'] });
const expiresIn = {
  description: 'Seconds, or a number with a unit: s, m, h or d ("365d").',
  oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\d+[smhd]?$' }],
} as Schema;
const grantType = str({ enum: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] });
const authMethod = str({ enum: ['client_secret_basic', 'client_secret_post', 'none'] });
const uri = str({ format: 'uri' });

export const SCHEMAS: Record<string, Schema> = {
  Error: object(
    {
      error: str({ description: 'A code: invalid_request, invalid_token, insufficient_scope, not_found, conflict, ...' }),
      error_description: str({ description: 'What went wrong, for people.' }),
      field: str({ description: 'The request field that failed validation (400).' }),
      scope: str({ description: 'The permission the request needs (403 insufficient_scope, RFC 6750 §3.1).' }),
    },
    ['error', 'error_description'],
  ),

  Client: object(
    {
      id: str({ description: 'Stable id of the record.' }),
      client_id: str({ description: 'The OAuth client_id (RFC 6749 §2.2).' }),
      client_name: nullable(str()),
      type: str({ enum: ['web', 'spa', 'native', 'service'], description: 'What kind of application; fixed at creation.' }),
      grant_types: arrayOf(grantType),
      redirect_uris: arrayOf(uri),
      post_logout_redirect_uris: arrayOf(uri),
      token_endpoint_auth_method: authMethod,
      scope: str({ description: 'Space-delimited scopes the client may be granted.' }),
      environment,
      enabled: { type: 'boolean' },
      builtin: { type: 'boolean', description: 'Registered by the server itself (the console’s sign-in client): read-only.' },
      status: str({ enum: ['active', 'suspended', 'expired'] }),
      ip_allowlist: arrayOf(cidr),
      created_at: time(),
      updated_at: time(),
      expires_at: nullableTime(),
      last_used_at: nullableTime(),
    },
    ['id', 'client_id', 'grant_types', 'token_endpoint_auth_method', 'environment', 'enabled', 'created_at', 'expires_at', 'last_used_at'],
  ),
  ClientCreated: {
    allOf: [
      ref('Client'),
      object(
        { client_secret: str({ pattern: '^sk_(live|test)_', description: 'Shown in this response only, never again. Absent for a public client.' }) },
      ),
    ],
  },
  ClientCreate: object(
    {
      client_id: str({ pattern: '^[\\w.:-]{3,128}$', description: 'Default: generated.' }),
      client_name: str({ minLength: 1, maxLength: 200 }),
      type: str({ enum: ['web', 'spa', 'native', 'service'], description: 'Picks grant_types and token_endpoint_auth_method defaults; cannot change later.' }),
      grant_types: arrayOf(grantType, { minItems: 1 }),
      redirect_uris: arrayOf(uri),
      post_logout_redirect_uris: arrayOf(uri),
      token_endpoint_auth_method: authMethod,
      scope: str(),
      environment,
      expires_in: expiresIn,
      ip_allowlist: arrayOf(cidr),
      enabled: { type: 'boolean' },
    },
    [],
  ),
  ClientUpdate: object({
    client_name: str({ minLength: 1, maxLength: 200 }),
    grant_types: arrayOf(grantType, { minItems: 1 }),
    redirect_uris: arrayOf(uri),
    post_logout_redirect_uris: arrayOf(uri),
    scope: str({ description: 'Takes effect at the next token request, on every node.' }),
    expires_in: { ...expiresIn, description: `${expiresIn.description as string} null removes the expiry.`, oneOf: [...(expiresIn.oneOf as Schema[]), { type: 'null' }] },
    ip_allowlist: arrayOf(cidr),
    enabled: { type: 'boolean', description: 'false suspends the client (reversibly), like a revocation.' },
  }),

  ClientSecret: object(
    {
      id: str(),
      prefix: nullable(str({ description: 'The non-secret head of the secret (sk_live_…), to tell secrets apart.' })),
      hint: str({ description: 'Last characters of the prefix.' }),
      created_at: time(),
      expires_at: nullableTime(),
      last_used_at: nullableTime(),
    },
    ['id', 'created_at', 'expires_at', 'last_used_at'],
  ),
  ClientSecretCreated: {
    allOf: [ref('ClientSecret'), object({ client_secret: str({ pattern: '^sk_(live|test)_', description: 'Shown in this response only.' }) }, ['client_secret'])],
  },
  ClientSecretCreate: object({
    previous_expires_in: { ...expiresIn, description: 'How long the existing secrets keep working (default 7 days).' },
  }),

  ApiScope: object({ name: scopeName, description: str({ maxLength: 300 }) }, ['name']),
  Api: object(
    {
      id: str(),
      identifier: str({ description: 'The RFC 8707 resource indicator and the aud of its tokens.' }),
      name: str(),
      scopes: arrayOf(ref('ApiScope')),
      access_token_ttl: { type: 'integer', description: 'Seconds (default 900).' },
      signing_alg: str({ enum: ['RS256', 'PS256', 'ES256'] }),
      enforce_roles: { type: 'boolean', description: 'User tokens and keys carry only what the user’s roles allow.' },
      builtin: { type: 'boolean', description: 'The Management API: read-only.' },
      created_at: time(),
      updated_at: time(),
    },
    ['id', 'identifier', 'name', 'scopes', 'access_token_ttl', 'signing_alg', 'created_at'],
  ),
  ApiCreate: object(
    {
      identifier: uri,
      name: str({ minLength: 1, maxLength: 200 }),
      scopes: arrayOf({ oneOf: [scopeName, ref('ApiScope')] }),
      access_token_ttl: { type: 'integer', minimum: 60, maximum: 3600 },
      signing_alg: str({ enum: ['RS256', 'PS256', 'ES256'] }),
      enforce_roles: { type: 'boolean' },
    },
    ['identifier', 'name', 'scopes'],
  ),
  ApiUpdate: object({
    name: str({ minLength: 1, maxLength: 200 }),
    scopes: arrayOf({ oneOf: [scopeName, ref('ApiScope')] }),
    access_token_ttl: { type: 'integer', minimum: 60, maximum: 3600 },
    signing_alg: str({ enum: ['RS256', 'PS256', 'ES256'] }),
    enforce_roles: { type: 'boolean' },
  }),

  User: object(
    {
      id: str(),
      email: str({ format: 'email' }),
      name: str(),
      roles: arrayOf(str()),
      active: { type: 'boolean' },
      created_at: time(),
      updated_at: time(),
      locked_until: { ...time(), type: ['string', 'null'], description: 'Sign-in is locked out after repeated failures until then (from some address); null when not.' },
    },
    ['id', 'email', 'name', 'roles', 'active', 'created_at'],
  ),
  Lockout: object(
    { locked_until: { ...time(), type: ['string', 'null'], description: 'When the latest sign-in lockout ends; null when there is none.' } },
    ['locked_until'],
  ),
  UserCreate: object(
    {
      email: str({ format: 'email' }),
      name: str({ minLength: 1, maxLength: 200 }),
      password: str({ minLength: 12, maxLength: 1024, writeOnly: true, description: 'At least PASSWORD_MIN_LENGTH characters (12 by default), not on the list of common or breached passwords (NIST SP 800-63B §5.1.1.2).' }),
      roles: arrayOf(str()),
    },
    ['email', 'name'],
  ),
  UserUpdate: object({
    email: str({ format: 'email' }),
    name: str({ minLength: 1, maxLength: 200 }),
    password: str({ minLength: 12, maxLength: 1024, writeOnly: true, description: 'At least PASSWORD_MIN_LENGTH characters (12 by default), not on the list of common or breached passwords (NIST SP 800-63B §5.1.1.2).' }),
    roles: arrayOf(str(), { description: 'Replaces the user’s roles; applies to their existing keys and next token at once.' }),
    active: { type: 'boolean', description: 'false ends their sessions, revokes their refresh tokens and stops their API keys.' },
  }),

  Role: object(
    {
      id: str({ description: 'The role name.' }),
      name: str({ pattern: '^[a-z][a-z0-9_-]{1,62}$' }),
      description: str(),
      permissions: arrayOf(scopeName),
      builtin: { type: 'boolean', description: 'Built-in roles (admin, developer, viewer) are read-only.' },
      created_at: time(),
      updated_at: time(),
    },
    ['name', 'permissions', 'builtin'],
  ),
  RoleCreate: object(
    {
      name: str({ pattern: '^[a-z][a-z0-9_-]{1,62}$' }),
      description: str({ maxLength: 300 }),
      permissions: arrayOf(scopeName),
    },
    ['name', 'permissions'],
  ),
  RoleUpdate: object({ description: str({ maxLength: 300 }), permissions: arrayOf(scopeName) }),

  ApiKey: object(
    {
      id: str(),
      name: str(),
      prefix: str({ description: 'The non-secret head of the key (ak_live_…).' }),
      user_id: str(),
      scopes: arrayOf(scopeName),
      environment,
      ip_allowlist: arrayOf(cidr),
      enabled: { type: 'boolean' },
      status: str({ enum: ['active', 'disabled', 'expired'] }),
      created_at: time(),
      updated_at: time(),
      expires_at: nullableTime(),
      last_used_at: nullableTime(),
      last_used_ip: { type: ['string', 'null'] },
    },
    ['id', 'name', 'scopes', 'enabled', 'created_at', 'expires_at', 'last_used_at'],
  ),
  ApiKeyCreated: {
    allOf: [ref('ApiKey'), object({ key: str({ pattern: '^ak_(live|test)_', description: 'Shown in this response only, never again.' }) }, ['key'])],
  },
  ApiKeyCreate: object(
    {
      name: str({ minLength: 1, maxLength: 200 }),
      scopes: arrayOf(scopeName, { minItems: 1 }),
      expires_in: expiresIn,
      environment,
      ip_allowlist: arrayOf(cidr),
      user_id: str({ description: 'Create the key for another user (needs api-keys:write and users:write).' }),
    },
    ['name', 'scopes'],
  ),
  ApiKeyUpdate: object({ name: str({ minLength: 1, maxLength: 200 }), scopes: arrayOf(scopeName), enabled: { type: 'boolean' } }),

  AuditEvent: object(
    {
      id: str(),
      type: str({ examples: ['client.created', 'login.failed', 'client.token_refused'] }),
      occurred_at: time(),
      actor: object(
        {
          type: str({ enum: ['user', 'api_key', 'client', 'system', 'anonymous'] }),
          id: { type: ['string', 'null'] },
          ip: { type: ['string', 'null'] },
        },
        ['type', 'id', 'ip'],
      ),
      target: {
        oneOf: [object({ type: str(), id: { type: ['string', 'null'] } }, ['type', 'id']), { type: 'null' }],
      },
      data: { type: 'object', description: 'Details of the event; never a secret.' },
    },
    ['id', 'type', 'occurred_at', 'actor', 'target', 'data'],
    { additionalProperties: false },
  ),

  Me: object(
    {
      kind: str({ enum: ['user', 'api_key', 'client'], description: 'What the credential is.' }),
      id: str({ description: 'The user id, API key id or client_id.' }),
      user: { oneOf: [ref('User'), { type: 'null' }], description: 'The user behind a user token or an API key; null for a client.' },
      permissions: arrayOf(scopeName, { description: 'What this credential may do now.' }),
      password_min_length: { type: 'integer', description: 'The password rule: at least this many characters (PASSWORD_MIN_LENGTH), and not a common or breached password.' },
    },
    ['kind', 'id', 'user', 'permissions'],
  ),

  SigningKey: object(
    {
      id: str({ description: 'The kid.' }),
      kid: str(),
      kty: str({ enum: ['RSA', 'EC'] }),
      algs: arrayOf(str({ enum: ['RS256', 'PS256', 'ES256'] })),
      status: str({ enum: ['pending', 'active', 'retired'], description: 'pending: published, not yet signing; active: signing; retired: no longer signing.' }),
      created_at: time(),
      activates_at: time('When it starts signing; it is published from created_at.'),
      retired_at: nullableTime('When it stops signing.'),
      published_until: nullableTime('When it leaves the JWKS: retired_at plus the longest token lifetime.'),
    },
    ['id', 'kid', 'kty', 'algs', 'status', 'created_at', 'activates_at', 'retired_at', 'published_until'],
    { additionalProperties: false },
  ),
  KeyRotate: object(
    { activate_in: { type: 'integer', minimum: 0, maximum: 604800, description: 'Seconds until the new keys sign (default KEY_ACTIVATION_DELAY).' } },
    [],
    { additionalProperties: false },
  ),
  KeyRotation: object(
    {
      keys: arrayOf(ref('SigningKey'), { description: 'The new keys, one per key type.' }),
      retiring: arrayOf(str(), { description: 'kids that stop signing when the new keys activate.' }),
    },
    ['keys', 'retiring'],
    { additionalProperties: false },
  ),
};
