import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import {
  clientCreatedSchema, clientSchema, clientSecretCreatedSchema, clientSecretSchema, createClient, createClientSchema,
  deleteClient, deleteClientSecret, getClient, listClients, listClientSecrets, rotateClientSecret, rotateClientSecretSchema,
  updateClient, updateClientSchema, DEFAULT_PREVIOUS_EXPIRES_IN,
} from '../../services/clients.js';
import { pageQuery, pageSchema, queryValue } from '../../services/pagination.js';

const CLIENT_ID = { client_id: 'The OAuth client_id.' };
const tag = 'clients';

/**
 * API credentials (OAuth clients) and their secrets. The caller goes to the service, which applies
 * ownership and the delegation rule (services/clients.ts, services/delegation.ts).
 */
export const clientOperations = [
  operation({
    id: 'listClients', method: 'get', path: '/clients', access: 'clients:read', tag,
    summary: 'List clients',
    description: 'Never shows secrets.',
    query: pageQuery.extend({ q: queryValue.optional().meta({ description: 'Part of the client_id or name.' }) }),
    status: 200, response: pageSchema(clientSchema), responseDescription: 'A page of clients',
    handle: (_ctx, { query }, { db }) => listClients(db, query),
  }),
  operation({
    id: 'createClient', method: 'post', path: '/clients', access: 'clients:write', tag,
    summary: 'Create a client',
    description: 'The response holds client_secret: the only time it is ever shown. Secrets start with sk_live_ or sk_test_ and carry a checksum.',
    body: createClientSchema,
    status: 201, response: clientCreatedSchema, responseDescription: 'The client, with its secret',
    errors: [409],
    handle: (ctx, { body }, { db }) => {
      const principal = principalOf(ctx);
      return createClient(db, body, principal);
    },
  }),
  operation({
    id: 'getClient', method: 'get', path: '/clients/:client_id', access: 'clients:read', tag, params: CLIENT_ID,
    summary: 'Get a client',
    status: 200, response: clientSchema, responseDescription: 'The client',
    errors: [404],
    handle: (ctx, _input, { db }) => getClient(db, ctx.params.client_id),
  }),
  operation({
    id: 'updateClient', method: 'patch', path: '/clients/:client_id', access: 'clients:write', tag, params: CLIENT_ID,
    summary: 'Change a client',
    description:
      'Takes effect at the next token request on every node. enabled: false suspends it. A new redirect URI forgets the consents people gave, so each is asked again. 403 for a built-in client, for someone else’s client without clients:admin, or (insufficient_scope, naming what is missing) for permissions the client holds or would hold that the caller does not hold itself.',
    body: updateClientSchema,
    status: 200, response: clientSchema, responseDescription: 'The changed client',
    errors: [404],
    handle: (ctx, { body }, { db }) => {
      const principal = principalOf(ctx);
      return updateClient(db, ctx.params.client_id, body, principal);
    },
  }),
  operation({
    id: 'deleteClient', method: 'delete', path: '/clients/:client_id', access: 'clients:write', tag, params: CLIENT_ID,
    summary: 'Revoke a client',
    description: 'The next token request fails with invalid_client on every node; its refresh tokens and grants are revoked. 403 for a built-in client.',
    status: 204, responseDescription: 'Revoked',
    errors: [404],
    handle: async (ctx, _input, { db }) => {
      await deleteClient(db, ctx.params.client_id, principalOf(ctx));
    },
  }),
  operation({
    id: 'listClientSecrets', method: 'get', path: '/clients/:client_id/secrets', access: 'clients:read', tag, params: CLIENT_ID,
    summary: 'List a client’s secrets (never their values)',
    description: 'Every live secret, newest first, on one page.',
    status: 200, response: pageSchema(clientSecretSchema), responseDescription: 'The secrets',
    errors: [404],
    handle: (ctx, _input, { db }) => listClientSecrets(db, ctx.params.client_id),
  }),
  operation({
    id: 'rotateClientSecret', method: 'post', path: '/clients/:client_id/secrets', access: 'clients:write', tag, params: CLIENT_ID,
    summary: 'Add a secret (zero-downtime rotation)',
    description:
      'Returns the new secret once. The previous secrets keep working until previous_expires_in (default 7 days) or until deleted. 403 for a built-in client, for someone else’s client without clients:admin, or for a client holding permissions the caller does not hold itself. The body is optional.',
    body: rotateClientSecretSchema, bodyOptional: true,
    status: 201, response: clientSecretCreatedSchema, responseDescription: 'The new secret',
    errors: [404],
    handle: (ctx, { body }, { db }) => {
      const principal = principalOf(ctx);
      return rotateClientSecret(db, ctx.params.client_id, body.previous_expires_in ?? DEFAULT_PREVIOUS_EXPIRES_IN, principal);
    },
  }),
  operation({
    id: 'deleteClientSecret', method: 'delete', path: '/clients/:client_id/secrets/:secret_id', access: 'clients:write', tag,
    params: { ...CLIENT_ID, secret_id: 'The secret’s id.' },
    summary: 'Delete a secret',
    description: 'The secret stops working at once. 409 if it is the client’s only live secret: rotate first, or suspend or delete the client.',
    status: 204, responseDescription: 'Deleted',
    errors: [404, 409],
    handle: (ctx, _input, { db }) => deleteClientSecret(db, ctx.params.client_id, ctx.params.secret_id, principalOf(ctx)),
  }),
];
