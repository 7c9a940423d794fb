import { readJson, validate } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import {
  createClient, createClientSchema, deleteClient, deleteClientSecret, getClient, listClients, listClientSecrets,
  rotateClientSecret, updateClient, updateClientSchema, DEFAULT_PREVIOUS_EXPIRES_IN,
} from '../../services/clients.js';
import { expiresIn, queryString } from '../../services/validation.js';
import { z } from 'zod';

const rotateSchema = z.strictObject({ previous_expires_in: expiresIn.optional() });

/**
 * API credentials (OAuth clients) and their secrets. The caller goes to the service, which applies
 * ownership and the delegation rule (services/clients.ts, services/delegation.ts).
 */
export const clientRoutes: RouteGroup = (router, { db }) => {
  router.get('/clients', requires('clients:read'), async (ctx) => {
    ctx.body = await listClients(db, {
      q: queryString(ctx.query.q, 'q'),
      cursor: queryString(ctx.query.cursor, 'cursor'),
      limit: queryString(ctx.query.limit, 'limit'),
    });
  });

  router.post('/clients', requires('clients:write'), async (ctx) => {
    const input = await readJson(ctx, createClientSchema);
    ctx.status = 201;
    const principal = principalOf(ctx);
    ctx.body = await createClient(db, input, principal);
  });

  router.get('/clients/:client_id', requires('clients:read'), async (ctx) => {
    ctx.body = await getClient(db, ctx.params.client_id);
  });

  router.patch('/clients/:client_id', requires('clients:write'), async (ctx) => {
    const patch = await readJson(ctx, updateClientSchema);
    const principal = principalOf(ctx);
    ctx.body = await updateClient(db, ctx.params.client_id, patch, principal);
  });

  router.delete('/clients/:client_id', requires('clients:write'), async (ctx) => {
    await deleteClient(db, ctx.params.client_id, principalOf(ctx));
    ctx.status = 204;
  });

  router.get('/clients/:client_id/secrets', requires('clients:read'), async (ctx) => {
    ctx.body = await listClientSecrets(db, ctx.params.client_id);
  });

  router.post('/clients/:client_id/secrets', requires('clients:write'), async (ctx) => {
    const body = ctx.request.length || ctx.get('content-type') ? await readJson(ctx, rotateSchema) : validate(rotateSchema, {});
    ctx.status = 201;
    const principal = principalOf(ctx);
    ctx.body = await rotateClientSecret(db, ctx.params.client_id, body.previous_expires_in ?? DEFAULT_PREVIOUS_EXPIRES_IN, principal);
  });

  router.delete('/clients/:client_id/secrets/:secret_id', requires('clients:write'), async (ctx) => {
    await deleteClientSecret(db, ctx.params.client_id, ctx.params.secret_id, principalOf(ctx));
    ctx.status = 204;
  });
};
