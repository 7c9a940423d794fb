import { readJson } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { createApiKey, createApiKeySchema, deleteApiKey, getApiKey, listApiKeys, updateApiKey, updateApiKeySchema } from '../../services/api-keys.js';
import { queryString } from '../../services/validation.js';

/** API keys: long-lived bearer credentials of a user, for scripts and server-to-server calls. */
export const apiKeyRoutes: RouteGroup = (router, { db }) => {
  router.get('/api-keys', requires('api-keys:read'), async (ctx) => {
    ctx.body = await listApiKeys(db, principalOf(ctx), {
      user: queryString(ctx.query.user, 'user'),
      cursor: queryString(ctx.query.cursor, 'cursor'),
      limit: queryString(ctx.query.limit, 'limit'),
    });
  });
  router.post('/api-keys', requires('api-keys:write'), async (ctx) => {
    const input = await readJson(ctx, createApiKeySchema);
    ctx.status = 201;
    ctx.body = await createApiKey(db, input, principalOf(ctx));
  });
  router.get('/api-keys/:id', requires('api-keys:read'), async (ctx) => {
    ctx.body = await getApiKey(db, ctx.params.id, principalOf(ctx));
  });
  router.patch('/api-keys/:id', requires('api-keys:write'), async (ctx) => {
    const patch = await readJson(ctx, updateApiKeySchema);
    ctx.body = await updateApiKey(db, ctx.params.id, patch, principalOf(ctx));
  });
  router.delete('/api-keys/:id', requires('api-keys:write'), async (ctx) => {
    await deleteApiKey(db, ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
};
