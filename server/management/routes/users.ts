import { readJson } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { createUser, createUserSchema, deleteUser, getUser, listUsers, updateUser, updateUserSchema } from '../../services/users.js';
import { queryString } from '../../services/validation.js';

/** Local user accounts and their roles. */
export const userRoutes: RouteGroup = (router, { db }) => {
  router.get('/users', requires('users:read'), async (ctx) => {
    ctx.body = await listUsers(db, {
      q: queryString(ctx.query.q, 'q'),
      cursor: queryString(ctx.query.cursor, 'cursor'),
      limit: queryString(ctx.query.limit, 'limit'),
    });
  });
  router.post('/users', requires('users:write'), async (ctx) => {
    const input = await readJson(ctx, createUserSchema);
    ctx.status = 201;
    ctx.body = await createUser(db, input, principalOf(ctx));
  });
  router.get('/users/:id', requires('users:read'), async (ctx) => {
    ctx.body = await getUser(db, ctx.params.id);
  });
  router.patch('/users/:id', requires('users:write'), async (ctx) => {
    const patch = await readJson(ctx, updateUserSchema);
    ctx.body = await updateUser(db, ctx.params.id, patch, principalOf(ctx));
  });
  router.delete('/users/:id', requires('users:delete'), async (ctx) => {
    await deleteUser(db, ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
};
