import { readJson } from '../body.js';
import { principalOf, requires } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { createRole, createRoleSchema, deleteRole, getRole, listAllRoles, updateRole, updateRoleSchema } from '../../services/roles.js';

/** Roles: named sets of permissions. /user-roles lists the same roles (the name the issue uses). */
export const roleRoutes: RouteGroup = (router, { db }) => {
  for (const path of ['/roles', '/user-roles']) {
    router.get(path, requires('roles:read'), async (ctx) => {
      ctx.body = await listAllRoles(db);
    });
  }
  router.post('/roles', requires('roles:write'), async (ctx) => {
    const input = await readJson(ctx, createRoleSchema);
    ctx.status = 201;
    ctx.body = await createRole(db, input, principalOf(ctx));
  });
  router.get('/roles/:name', requires('roles:read'), async (ctx) => {
    ctx.body = await getRole(db, ctx.params.name);
  });
  router.patch('/roles/:name', requires('roles:write'), async (ctx) => {
    const patch = await readJson(ctx, updateRoleSchema);
    ctx.body = await updateRole(db, ctx.params.name, patch, principalOf(ctx));
  });
  router.delete('/roles/:name', requires('roles:write'), async (ctx) => {
    await deleteRole(db, ctx.params.name, principalOf(ctx));
    ctx.status = 204;
  });
};
