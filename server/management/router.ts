import Router from '@koa/router';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { ArtifactRouting } from '../oidc/adapter.js';
import type { KeyRing } from '../oidc/keyring.js';
import type { RotationResult } from '../oidc/key-rotation.js';
import type { Actor } from '../services/audit.js';
import type { Protection } from '../services/protection/index.js';
import { authenticate } from './authenticate.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { apiRoutes } from './routes/apis.js';
import { auditRoutes } from './routes/audit.js';
import { clientRoutes } from './routes/clients.js';
import { keyRoutes } from './routes/keys.js';
import { meRoutes } from './routes/me.js';
import { openApiRoutes } from './routes/openapi.js';
import { roleRoutes } from './routes/roles.js';
import { userRoutes } from './routes/users.js';

export interface ManagementDeps {
  db: Database;
  issuer: string;
  keys: KeyRing;
  routing: ArtifactRouting;
  logger: Logger;
  protection: Protection;
  /** Reloads signing keys and rebuilds the provider on this node (after a rotation). */
  reloadKeys(): Promise<void>;
  /** Rotates the signing keys (activateIn defaults to KEY_ACTIVATION_DELAY); this node uses them at once. */
  rotateKeys(options: { activateIn?: number; actor: Actor }): Promise<RotationResult>;
}

/** A resource group of the Management API registers its routes on the shared /api/v1 router. */
export type RouteGroup = (router: Router, deps: ManagementDeps) => void;

/**
 * The Management API at /api/v1. The OpenAPI document is public; everything else needs a Bearer
 * token (a JWT for aud $ISSUER/api/v1, or an API key) and a permission per route.
 */
export function managementRouter(deps: ManagementDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  openApiRoutes(router, deps);
  router.use(async function noStore(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  const authed = new Router();
  authed.use(authenticate(deps));
  for (const group of [meRoutes, clientRoutes, apiRoutes, userRoutes, roleRoutes, apiKeyRoutes, auditRoutes, keyRoutes]) group(authed, deps);
  router.use(authed.routes(), authed.allowedMethods({ throw: false }));
  return router;
}
