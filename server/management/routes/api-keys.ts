import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import {
  apiKeyCreatedSchema, apiKeySchema, createApiKey, createApiKeySchema, deleteApiKey, getApiKey, listApiKeys, listApiKeysQuery,
  updateApiKey, updateApiKeySchema,
} from '../../services/api-keys.js';
import { pageSchema } from '../../services/pagination.js';
import { rollApiKey, rollApiKeySchema } from '../../services/api-key-roll.js';
import { apiKeyUsageSchema, getApiKeyUsage } from '../../services/api-key-usage-report.js';
import { getKeyRevealStatement, keyRevealStatementSchema, updateKeyRevealStatement, updateKeyRevealStatementSchema } from '../../services/key-reveal-statement.js';

const ID = { id: 'The key’s id.' };
const tag = 'api-keys';

/** API keys: long-lived bearer credentials of a user, for scripts and server-to-server calls. */
export const apiKeyOperations = [
  operation({
    id: 'listApiKeys', method: 'get', path: '/api-keys', access: 'api-keys:read', tag,
    summary: 'List API keys',
    description: 'The caller’s own; with users:write, anyone’s (?user=<id>), or everyone’s (?user=all).',
    query: listApiKeysQuery,
    status: 200, response: pageSchema(apiKeySchema), responseDescription: 'A page of API keys',
    handle: (ctx, { query }, { db }) => listApiKeys(db, principalOf(ctx), query),
  }),
  operation({
    id: 'createApiKey', method: 'post', path: '/api-keys', access: 'api-keys:write', tag,
    summary: 'Create an API key',
    description:
      'The response holds key: the only time it is shown. Keys start with ak_live_ or ak_test_ and carry a checksum. 403 for a scope the owner’s roles do not allow (Management API permissions, and scopes of APIs that enforce roles).',
    body: createApiKeySchema,
    status: 201, response: apiKeyCreatedSchema, responseDescription: 'The API key, with its value',
    handle: (ctx, { body }, { db }) => createApiKey(db, body, principalOf(ctx)),
  }),
  operation({
    id: 'getApiKey', method: 'get', path: '/api-keys/:id', access: 'api-keys:read', tag, params: ID,
    summary: 'Get an API key',
    status: 200, response: apiKeySchema, responseDescription: 'The API key',
    errors: [404],
    handle: (ctx, _input, { db }) => getApiKey(db, ctx.params.id, principalOf(ctx)),
  }),
  operation({
    id: 'updateApiKey', method: 'patch', path: '/api-keys/:id', access: 'api-keys:write', tag, params: ID,
    summary: 'Change an API key: name, scopes, enabled',
    body: updateApiKeySchema,
    status: 200, response: apiKeySchema, responseDescription: 'The changed key',
    errors: [404],
    handle: (ctx, { body }, { db }) => updateApiKey(db, ctx.params.id, body, principalOf(ctx)),
  }),
  operation({
    id: 'getApiKeyUsage', method: 'get', path: '/api-keys/:id/usage', access: 'api-keys:read', tag, params: ID,
    summary: 'Requests per day and recent addresses of an API key',
    description: 'Yours, or anyone’s with users:write. Counted in memory on each node and written every few seconds.',
    status: 200, response: apiKeyUsageSchema, responseDescription: 'The key’s use over the last 30 days',
    errors: [404],
    handle: (ctx, _input, { db, apiKeyUsage }) => getApiKeyUsage(db, apiKeyUsage, ctx.params.id, principalOf(ctx)),
  }),
  operation({
    id: 'rollApiKey', method: 'post', path: '/api-keys/:id/roll', access: 'api-keys:write', tag, params: ID,
    summary: 'Roll an API key: a new value, the old one working for a while',
    description:
      'The response holds the new key, shown only here. The previous value keeps working for overlap_seconds (0: refused at once; at most 30 days). Needs what editing the key needs, and the key’s scopes.',
    body: rollApiKeySchema,
    status: 200, response: apiKeyCreatedSchema, responseDescription: 'The key, with its new value',
    errors: [404],
    handle: (ctx, { body }, { db }) => rollApiKey(db, ctx.params.id, body, principalOf(ctx)),
  }),
  operation({
    id: 'deleteApiKey', method: 'delete', path: '/api-keys/:id', access: 'api-keys:write', tag, params: ID,
    summary: 'Revoke an API key (invalid at once)',
    status: 204, responseDescription: 'Revoked',
    errors: [404],
    handle: (ctx, _input, { db }) => deleteApiKey(db, ctx.params.id, principalOf(ctx)),
  }),
  operation({
    id: 'getKeyRevealStatement', method: 'get', path: '/settings/key-reveal-statement', access: 'any credential', tag,
    summary: 'The statement to agree to before a new API key is revealed',
    description: 'Any credential may read it: whoever may be shown a new key is asked to agree first. null when none is set.',
    status: 200, response: keyRevealStatementSchema, responseDescription: 'The statement, or null',
    handle: (_ctx, _input, { db }) => getKeyRevealStatement(db),
  }),
  operation({
    id: 'updateKeyRevealStatement', method: 'patch', path: '/settings/key-reveal-statement', access: 'users:write', tag,
    summary: 'Set or clear the statement to agree to before a new API key is revealed',
    description: 'Administrators only (users:write, as for managing everyone’s keys). Audited as settings.updated.',
    body: updateKeyRevealStatementSchema,
    status: 200, response: keyRevealStatementSchema, responseDescription: 'The statement now',
    handle: (ctx, { body }, { db }) => updateKeyRevealStatement(db, body, principalOf(ctx)),
  }),
];
