import { readJson } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { createApi, createApiSchema, deleteApi, getApi, listApis, updateApi, updateApiSchema } from '../../services/apis.js';
import { queryString } from '../../services/validation.js';

/** Registered APIs (resource servers, RFC 8707) and the scopes they define. */
export const apiRoutes: RouteGroup = (router, { db }) => {
  router.get('/apis', requires('apis:read'), async (ctx) => {
    ctx.body = await listApis(db, { cursor: queryString(ctx.query.cursor, 'cursor'), limit: queryString(ctx.query.limit, 'limit') });
  });
  router.post('/apis', requires('apis:write'), async (ctx) => {
    const input = await readJson(ctx, createApiSchema);
    ctx.status = 201;
    ctx.body = await createApi(db, input, principalOf(ctx));
  });
  router.get('/apis/:id', requires('apis:read'), async (ctx) => {
    ctx.body = await getApi(db, ctx.params.id);
  });
  router.patch('/apis/:id', requires('apis:write'), async (ctx) => {
    const patch = await readJson(ctx, updateApiSchema);
    ctx.body = await updateApi(db, ctx.params.id, patch, principalOf(ctx));
  });
  router.delete('/apis/:id', requires('apis:write'), async (ctx) => {
    await deleteApi(db, ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
};
