import Router from '@koa/router';
import { authenticate } from './authenticate.js';
import { type ManagementDeps, mount } from './operation.js';
import { OPERATIONS } from './operations.js';

export type { ManagementDeps } from './operation.js';

/**
 * The Management API at /api/v1: the operations in operations.ts. The OpenAPI document is public;
 * everything else needs a Bearer token (a JWT for aud $ISSUER/api/v1, or an API key) and, for most
 * operations, a permission.
 */
export function managementRouter(deps: ManagementDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  mount(router, OPERATIONS.filter((op) => op.access === 'public'), deps);
  router.use(async function noStore(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const authed = new Router();
  authed.use(authenticate(deps));
  mount(authed, OPERATIONS.filter((op) => op.access !== 'public'), deps);
  router.use(authed.routes(), authed.allowedMethods({ throw: false }));
  return router;
}
