import { readJson } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { createUser, createUserSchema, deleteUser, getUser, listUsers, updateUser, updateUserSchema } from '../../services/users.js';
import { queryString } from '../../services/validation.js';
import { lockoutOf, unlockUser, withLockout } from '../../services/lockouts.js';

/** Local user accounts and their roles. */
export const userRoutes: RouteGroup = (router, { db, protection }) => {
  router.get('/users', requires('users:read'), async (ctx) => {
    const page = await listUsers(db, {
      q: queryString(ctx.query.q, 'q'),
      cursor: queryString(ctx.query.cursor, 'cursor'),
      limit: queryString(ctx.query.limit, 'limit'),
    });
    ctx.body = { ...page, data: await Promise.all(page.data.map((u) => withLockout(protection.login, u))) };
  });
  router.post('/users', requires('users:write'), async (ctx) => {
    const input = await readJson(ctx, createUserSchema);
    ctx.status = 201;
    ctx.body = await withLockout(protection.login, await createUser(db, input, principalOf(ctx).actor));
  });
  router.get('/users/:id', requires('users:read'), async (ctx) => {
    ctx.body = await withLockout(protection.login, await getUser(db, ctx.params.id));
  });
  // Sign-in lockouts (README "Attack protection"): see one, and lift it.
  router.get('/users/:id/lockout', requires('users:read'), async (ctx) => {
    ctx.body = await lockoutOf(db, protection.login, ctx.params.id);
  });
  router.delete('/users/:id/lockout', requires('users:write'), async (ctx) => {
    await unlockUser(db, protection.login, ctx.params.id, principalOf(ctx).actor);
    ctx.status = 204;
  });
  router.patch('/users/:id', requires('users:write'), async (ctx) => {
    const patch = await readJson(ctx, updateUserSchema);
    ctx.body = await withLockout(protection.login, await updateUser(db, ctx.params.id, patch, principalOf(ctx).actor));
  });
  router.delete('/users/:id', requires('users:delete'), async (ctx) => {
    const principal = principalOf(ctx);
    await deleteUser(db, ctx.params.id, principal.actor, principal.userId);
    ctx.status = 204;
  });
};
