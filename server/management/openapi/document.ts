import { MANAGEMENT_SCOPES, managementApiIdentifier } from '../../services/management-api.js';
import { SCHEMAS, type Schema, page, ref } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the Management API (/api/v1). test/management/openapi.test.ts holds
 * it to what the server does: every route documented, every documented operation routed, and real
 * responses valid against these schemas.
 */

type Method = 'get' | 'post' | 'patch' | 'delete';

interface Param {
  name: string;
  in: 'path' | 'query';
  description: string;
  schema?: Schema;
  required?: boolean;
}

interface Operation {
  id: string;
  summary: string;
  description?: string;
  tag: string;
  /** The Management API permission the caller needs; undefined for a public operation. */
  scope?: string;
  /** Needs a valid credential but no particular permission. */
  anyCredential?: true;
  params?: Param[];
  body?: string;
  /** Status and schema of the success response; no schema for 204. */
  ok: [number, Schema | undefined, string];
  /** Error statuses beyond 401/403 (which every authenticated operation has). */
  errors?: number[];
}

const pathParam = (name: string, description: string): Param => ({ name, in: 'path', description, required: true });
const LIST_PARAMS: Param[] = [
  { name: 'cursor', in: 'query', description: 'The next_cursor of the previous page.' },
  { name: 'limit', in: 'query', description: 'Page size, 1-200 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 200 } },
];

const CLIENT_ID = pathParam('client_id', 'The OAuth client_id.');
const ERROR_RESPONSES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
};

const OPERATIONS: Record<string, Partial<Record<Method, Operation>>> = {
  '/openapi.json': {
    get: { id: 'getOpenApi', tag: 'meta', summary: 'This document', ok: [200, { type: 'object' }, 'The OpenAPI 3.1 document'] },
  },
  '/me': {
    get: {
      id: 'getMe',
      tag: 'meta',
      anyCredential: true,
      summary: 'The caller and its permissions',
      description: 'Who the credential belongs to (a user, an API key or a client) and the permissions it holds now: its scopes, bounded by the user’s current roles.',
      ok: [200, ref('Me'), 'The caller'],
    },
  },
  '/clients': {
    get: { id: 'listClients', tag: 'clients', scope: 'clients:read', summary: 'List clients', description: 'Never shows secrets.', params: LIST_PARAMS, ok: [200, page('Client'), 'A page of clients'], errors: [400] },
    post: {
      id: 'createClient',
      tag: 'clients',
      scope: 'clients:write',
      summary: 'Create a client',
      description: 'The response holds client_secret: the only time it is ever shown. Secrets start with sk_live_ or sk_test_ and carry a checksum.',
      body: 'ClientCreate',
      ok: [201, ref('ClientCreated'), 'The client, with its secret'],
      errors: [400, 409, 413, 415],
    },
  },
  '/clients/{client_id}': {
    get: { id: 'getClient', tag: 'clients', scope: 'clients:read', summary: 'Get a client', params: [CLIENT_ID], ok: [200, ref('Client'), 'The client'], errors: [404] },
    patch: {
      id: 'updateClient',
      tag: 'clients',
      scope: 'clients:write',
      summary: 'Change a client',
      description:
        'Takes effect at the next token request on every node. enabled: false suspends it. 403 for a built-in client, or for Management API permissions in scope that the caller does not hold itself.',
      params: [CLIENT_ID],
      body: 'ClientUpdate',
      ok: [200, ref('Client'), 'The changed client'],
      errors: [400, 404, 413, 415],
    },
    delete: {
      id: 'deleteClient',
      tag: 'clients',
      scope: 'clients:write',
      summary: 'Revoke a client',
      description: 'The next token request fails with invalid_client on every node; its refresh tokens and grants are revoked. 403 for a built-in client.',
      params: [CLIENT_ID],
      ok: [204, undefined, 'Revoked'],
      errors: [404],
    },
  },
  '/clients/{client_id}/secrets': {
    get: { id: 'listClientSecrets', tag: 'clients', scope: 'clients:read', summary: 'List a client’s secrets (never their values)', params: [CLIENT_ID, ...LIST_PARAMS], ok: [200, page('ClientSecret'), 'The secrets'], errors: [404] },
    post: {
      id: 'rotateClientSecret',
      tag: 'clients',
      scope: 'clients:write',
      summary: 'Add a secret (zero-downtime rotation)',
      description:
        'Returns the new secret once. The previous secrets keep working until previous_expires_in (default 7 days) or until deleted. 403 for a built-in client, or for a client holding Management API permissions the caller does not hold itself.',
      params: [CLIENT_ID],
      body: 'ClientSecretCreate',
      ok: [201, ref('ClientSecretCreated'), 'The new secret'],
      errors: [400, 404, 413, 415],
    },
  },
  '/clients/{client_id}/secrets/{secret_id}': {
    delete: {
      id: 'deleteClientSecret',
      tag: 'clients',
      scope: 'clients:write',
      summary: 'Delete a secret',
      description: 'The secret stops working at once. 409 if it is the client’s only live secret: rotate first, or suspend or delete the client.',
      params: [CLIENT_ID, pathParam('secret_id', 'The secret’s id.')],
      ok: [204, undefined, 'Deleted'],
      errors: [404, 409],
    },
  },
  '/apis': {
    get: { id: 'listApis', tag: 'apis', scope: 'apis:read', summary: 'List APIs (resource servers) and their scopes', params: LIST_PARAMS, ok: [200, page('Api'), 'A page of APIs'], errors: [400] },
    post: { id: 'createApi', tag: 'apis', scope: 'apis:write', summary: 'Register an API', body: 'ApiCreate', ok: [201, ref('Api'), 'The API'], errors: [400, 409, 413, 415] },
  },
  '/apis/{id}': {
    get: { id: 'getApi', tag: 'apis', scope: 'apis:read', summary: 'Get an API', params: [pathParam('id', 'The API’s id.')], ok: [200, ref('Api'), 'The API'], errors: [404] },
    patch: {
      id: 'updateApi',
      tag: 'apis',
      scope: 'apis:write',
      summary: 'Change an API',
      description: '403 for the built-in Management API. 409 when a scope being removed is still held by a client, API key or role (the error names them), or belongs to another API.',
      params: [pathParam('id', 'The API’s id.')],
      body: 'ApiUpdate',
      ok: [200, ref('Api'), 'The changed API'],
      errors: [400, 404, 409, 413, 415],
    },
    delete: {
      id: 'deleteApi',
      tag: 'apis',
      scope: 'apis:write',
      summary: 'Delete an API',
      description: '403 for the built-in Management API. 409 while a client, API key or role still holds one of its scopes (the error names them).',
      params: [pathParam('id', 'The API’s id.')],
      ok: [204, undefined, 'Deleted'],
      errors: [404, 409],
    },
  },
  '/users': {
    get: { id: 'listUsers', tag: 'users', scope: 'users:read', summary: 'List users', params: LIST_PARAMS, ok: [200, page('User'), 'A page of users'], errors: [400] },
    post: { id: 'createUser', tag: 'users', scope: 'users:write', summary: 'Create a user', body: 'UserCreate', ok: [201, ref('User'), 'The user'], errors: [400, 409, 413, 415] },
  },
  '/users/{id}': {
    get: { id: 'getUser', tag: 'users', scope: 'users:read', summary: 'Get a user', params: [pathParam('id', 'The user’s id.')], ok: [200, ref('User'), 'The user'], errors: [404] },
    patch: {
      id: 'updateUser',
      tag: 'users',
      scope: 'users:write',
      summary: 'Change a user: name, email, roles, active',
      description: 'Deactivating a user ends their sessions, revokes their refresh tokens and stops their API keys at once.',
      params: [pathParam('id', 'The user’s id.')],
      body: 'UserUpdate',
      ok: [200, ref('User'), 'The changed user'],
      errors: [400, 404, 409, 413, 415],
    },
    delete: {
      id: 'deleteUser',
      tag: 'users',
      scope: 'users:delete',
      summary: 'Delete a user',
      description: 'Ends their sessions, revokes their refresh tokens and deletes their API keys at once. 403 for deleting yourself.',
      params: [pathParam('id', 'The user’s id.')],
      ok: [204, undefined, 'Deleted'],
      errors: [404],
    },
  },
  '/users/{id}/lockout': {
    get: { id: 'getUserLockout', tag: 'users', scope: 'users:read', summary: 'Whether sign-in is locked out', params: [pathParam('id', 'The user’s id.')], ok: [200, ref('Lockout'), 'The lockout'], errors: [404] },
    delete: {
      id: 'unlockUser',
      tag: 'users',
      scope: 'users:write',
      summary: 'Lift a sign-in lockout',
      description: 'The user may sign in again at once from every address; their failure counts are forgotten. Audited as user.unlocked.',
      params: [pathParam('id', 'The user’s id.')],
      ok: [204, undefined, 'Unlocked'],
      errors: [404],
    },
  },
  '/user-roles': {
    get: { id: 'listUserRoles', tag: 'roles', scope: 'roles:read', summary: 'List the roles users can have', params: LIST_PARAMS, ok: [200, page('Role'), 'A page of roles'], errors: [400] },
  },
  '/roles': {
    get: { id: 'listRoles', tag: 'roles', scope: 'roles:read', summary: 'List roles', params: LIST_PARAMS, ok: [200, page('Role'), 'A page of roles'], errors: [400] },
    post: { id: 'createRole', tag: 'roles', scope: 'roles:write', summary: 'Create a custom role', body: 'RoleCreate', ok: [201, ref('Role'), 'The role'], errors: [400, 409, 413, 415] },
  },
  '/roles/{name}': {
    get: { id: 'getRole', tag: 'roles', scope: 'roles:read', summary: 'Get a role', params: [pathParam('name', 'The role name.')], ok: [200, ref('Role'), 'The role'], errors: [404] },
    patch: {
      id: 'updateRole',
      tag: 'roles',
      scope: 'roles:write',
      summary: 'Change a custom role',
      description: 'Applies to the existing keys and next tokens of every user with the role, at once. Built-in roles are read-only (403).',
      params: [pathParam('name', 'The role name.')],
      body: 'RoleUpdate',
      ok: [200, ref('Role'), 'The changed role'],
      errors: [400, 404, 413, 415],
    },
    delete: { id: 'deleteRole', tag: 'roles', scope: 'roles:write', summary: 'Delete a custom role', params: [pathParam('name', 'The role name.')], ok: [204, undefined, 'Deleted'], errors: [404] },
  },
  '/api-keys': {
    get: {
      id: 'listApiKeys',
      tag: 'api-keys',
      scope: 'api-keys:read',
      summary: 'List API keys',
      description: 'The caller’s own; with users:write, anyone’s (?user=<id>), or everyone’s (?user=all).',
      params: [{ name: 'user', in: 'query', description: 'A user id: list that user’s keys; `all`: every user’s (needs users:write).' }, ...LIST_PARAMS],
      ok: [200, page('ApiKey'), 'A page of API keys'],
      errors: [400],
    },
    post: {
      id: 'createApiKey',
      tag: 'api-keys',
      scope: 'api-keys:write',
      summary: 'Create an API key',
      description:
        'The response holds key: the only time it is shown. Keys start with ak_live_ or ak_test_ and carry a checksum. 403 for a scope the owner’s roles do not allow (Management API permissions, and scopes of APIs that enforce roles).',
      body: 'ApiKeyCreate',
      ok: [201, ref('ApiKeyCreated'), 'The API key, with its value'],
      errors: [400, 413, 415],
    },
  },
  '/api-keys/{id}': {
    get: { id: 'getApiKey', tag: 'api-keys', scope: 'api-keys:read', summary: 'Get an API key', params: [pathParam('id', 'The key’s id.')], ok: [200, ref('ApiKey'), 'The API key'], errors: [404] },
    patch: { id: 'updateApiKey', tag: 'api-keys', scope: 'api-keys:write', summary: 'Change an API key: name, scopes, enabled', params: [pathParam('id', 'The key’s id.')], body: 'ApiKeyUpdate', ok: [200, ref('ApiKey'), 'The changed key'], errors: [400, 404, 413, 415] },
    delete: { id: 'deleteApiKey', tag: 'api-keys', scope: 'api-keys:write', summary: 'Revoke an API key (invalid at once)', params: [pathParam('id', 'The key’s id.')], ok: [204, undefined, 'Revoked'], errors: [404] },
  },
  '/audit-events': {
    get: {
      id: 'listAuditEvents',
      tag: 'audit',
      scope: 'audit:read',
      summary: 'Read the audit log, newest first',
      description: 'Logins, credential changes, API-key use from a new IP, refused token requests, role and user changes. Append-only.',
      params: [
        { name: 'type', in: 'query', description: 'An event type (client.created), or a prefix ending in .* (client.*).' },
        { name: 'actor', in: 'query', description: 'An actor id: user id, API key id or client_id.' },
        { name: 'since', in: 'query', description: 'ISO 8601 date or date-time; events at or after it.', schema: { type: 'string', examples: ['2025-01-31', '2025-01-31T12:00:00Z'] } },
        ...LIST_PARAMS,
      ],
      ok: [200, page('AuditEvent'), 'A page of events'],
      errors: [400],
    },
  },
  '/keys': {
    get: {
      id: 'listSigningKeys',
      tag: 'keys',
      scope: 'apis:read',
      summary: 'List signing keys (no private material)',
      params: LIST_PARAMS,
      ok: [200, page('SigningKey'), 'The keys, newest first'],
      errors: [400],
    },
  },
  '/keys/rotate': {
    post: {
      id: 'rotateSigningKeys',
      tag: 'keys',
      scope: 'keys:write',
      summary: 'Rotate the signing keys',
      description:
        'Creates one key per key type, published in the JWKS at once and signing from activates_at (activate_in seconds, default KEY_ACTIVATION_DELAY). The keys they replace sign until then and stay published until every token they signed has expired. The body is optional.',
      body: 'KeyRotate',
      ok: [201, ref('KeyRotation'), 'The new keys'],
      errors: [400, 413, 415],
    },
  },
};

function operationObject(method: Method, path: string, op: Operation): Schema {
  const responses: Record<string, unknown> = {
    [op.ok[0]]: op.ok[1] ? { description: op.ok[2], content: { 'application/json': { schema: op.ok[1] } } } : { description: op.ok[2] },
  };
  const authenticated = Boolean(op.scope || op.anyCredential);
  const errors = op.scope ? [401, 403, ...(op.errors ?? [])] : authenticated ? [401, ...(op.errors ?? [])] : (op.errors ?? []);
  for (const status of [...new Set(errors)].sort()) responses[status] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]}` };
  const params = (op.params ?? []).map((p) => ({
    name: p.name,
    in: p.in,
    description: p.description,
    required: p.in === 'path' ? true : Boolean(p.required),
    schema: p.schema ?? { type: 'string' },
  }));
  return {
    operationId: op.id,
    summary: op.summary,
    ...(op.description || op.scope ? { description: [op.description, op.scope ? `Needs the \`${op.scope}\` permission.` : undefined].filter(Boolean).join('\n\n') } : {}),
    tags: [op.tag],
    ...(op.scope ? { 'x-required-scope': op.scope } : {}),
    security: authenticated ? [{ bearer: [] }] : [],
    ...(params.length ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: !(method === 'post' && path === '/keys/rotate'), content: { 'application/json': { schema: ref(op.body) } } } }
      : {}),
    responses,
  };
}

const errorResponse = (description: string, headers?: Schema) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ref('Error') } },
});

const CHALLENGE = {
  'WWW-Authenticate': { description: 'The RFC 6750 §3 challenge: error="invalid_token", or error="insufficient_scope" with scope="<needed>".', schema: { type: 'string' } },
};

/** Built per issuer: the server URL and the token audience name it. */
export function openApiDocument(issuer: string): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const [path, methods] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods) as [Method, Operation][]) paths[path][method] = operationObject(method, path, op);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Gatehouse Management API',
      version: '1',
      description: [
        'Clients, APIs, users, roles, API keys, the audit log and signing keys of this Gatehouse.',
        `Authenticate with \`Authorization: Bearer <token>\` (RFC 6750): an access token from this server for the audience \`${managementApiIdentifier(issuer)}\`, or an API key (ak_live_…).`,
        'Missing, bad, expired or revoked credentials answer 401 (error="invalid_token"); a missing permission answers 403 (error="insufficient_scope", scope="<needed>"). Errors are { "error", "error_description" }, and validation errors name the field. Lists answer { "data": [...], "next_cursor": "..." | null }. Times are ISO 8601.',
      ].join('\n\n'),
    },
    servers: [{ url: `${issuer}/api/v1` }],
    tags: ['clients', 'apis', 'users', 'roles', 'api-keys', 'audit', 'keys', 'meta'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `A JWT access token for ${managementApiIdentifier(issuer)} or an API key. Permissions: ${Object.keys(MANAGEMENT_SCOPES).join(', ')}.`,
        },
      },
      schemas: SCHEMAS,
      responses: {
        BadRequest: errorResponse('The request is invalid; `field` names the offending field.'),
        Unauthorized: errorResponse('No valid credential (invalid_token).', CHALLENGE),
        Forbidden: errorResponse('The credential lacks the permission (insufficient_scope; `scope` names it), or the object is read-only.', CHALLENGE),
        NotFound: errorResponse('No such object.'),
        Conflict: errorResponse('It exists already.'),
        PayloadTooLarge: errorResponse('The body is over 64 KiB.'),
        UnsupportedMediaType: errorResponse('The body is not application/json.'),
      },
    },
  };
}
