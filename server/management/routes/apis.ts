import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { apiSchema, createApi, createApiSchema, deleteApi, getApi, listApis, updateApi, updateApiSchema } from '../../services/apis.js';
import { pageQuery, pageSchema } from '../../services/pagination.js';

const ID = { id: 'The API’s id.' };
const tag = 'apis';

/** Registered APIs (resource servers, RFC 8707) and the scopes they define. */
export const apiOperations = [
  operation({
    id: 'listApis', method: 'get', path: '/apis', access: 'apis:read', tag,
    summary: 'List APIs (resource servers) and their scopes',
    query: pageQuery,
    status: 200, response: pageSchema(apiSchema), responseDescription: 'A page of APIs',
    handle: (_ctx, { query }, { db }) => listApis(db, query),
  }),
  operation({
    id: 'createApi', method: 'post', path: '/apis', access: 'apis:write', tag,
    summary: 'Register an API',
    description: 'Scopes are given as names or as { name, description }.',
    body: createApiSchema,
    status: 201, response: apiSchema, responseDescription: 'The API',
    errors: [409],
    handle: (ctx, { body }, { db }) => createApi(db, body, principalOf(ctx)),
  }),
  operation({
    id: 'getApi', method: 'get', path: '/apis/:id', access: 'apis:read', tag, params: ID,
    summary: 'Get an API',
    status: 200, response: apiSchema, responseDescription: 'The API',
    errors: [404],
    handle: (ctx, _input, { db }) => getApi(db, ctx.params.id),
  }),
  operation({
    id: 'updateApi', method: 'patch', path: '/apis/:id', access: 'apis:write', tag, params: ID,
    summary: 'Change an API',
    description: '403 for the built-in Management API. 409 when a scope being removed is still held by a client, API key or role (the error names them), or belongs to another API.',
    body: updateApiSchema,
    status: 200, response: apiSchema, responseDescription: 'The changed API',
    errors: [404, 409],
    handle: (ctx, { body }, { db }) => updateApi(db, ctx.params.id, body, principalOf(ctx)),
  }),
  operation({
    id: 'deleteApi', method: 'delete', path: '/apis/:id', access: 'apis:write', tag, params: ID,
    summary: 'Delete an API',
    description: '403 for the built-in Management API. 409 while a client, API key or role still holds one of its scopes (the error names them).',
    status: 204, responseDescription: 'Deleted',
    errors: [404, 409],
    handle: (ctx, _input, { db }) => deleteApi(db, ctx.params.id, principalOf(ctx)),
  }),
];
