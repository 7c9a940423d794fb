import { readFileSync } from 'node:fs';
import Koa from 'koa';
import mount from 'koa-mount';
import { projectPath } from './paths.js';
import { errorBoundary } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { requestLog } from './http/request-log.js';
import { interactionRoutes } from './interactions/routes.js';
import type { Runtime } from './runtime.js';
import { managementRouter } from './management/router.js';
import { consoleRoutes } from './console/static.js';

/** The stylesheet of the interaction pages, read once. */
const STYLESHEET = readFileSync(projectPath('views', 'gatehouse.css'));

/**
 * The Koa application of one node: our routes first (health, assets, login and consent pages), then
 * oidc-provider for the OAuth endpoints and discovery. Tests call this without listening on a port.
 */
export function buildApp(runtime: Runtime): Koa {
  const { logger, db, config } = runtime;
  const app = new Koa();
  app.proxy = config.trustProxy;
  // Behind one proxy, the client address is the last X-Forwarded-For entry (the one our proxy added);
  // entries to its left are whatever the caller sent and cannot be trusted.
  app.maxIpsCount = 1;
  // oidc-provider runs inside this app (koa-mount), so its cookies are signed with this app's keys:
  // the first signs, all verify, which is how COOKIE_SECRETS rotate.
  app.keys = [...config.cookieSecrets];
  // Errors are logged by the error boundary with the request id; Koa's own printer would repeat them.
  app.silent = true;

  app.use(requestLog(logger));
  app.use(errorBoundary(logger));

  app.use(async function stylesheet(ctx, next) {
    if (ctx.path !== '/assets/gatehouse.css') return next();
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = STYLESHEET;
  });

  app.use(consoleRoutes());

  const health = healthRoutes(runtime);
  app.use(health.routes());

  const interactions = interactionRoutes({ provider: () => runtime.provider, db, logger, cookieSecrets: config.cookieSecrets, protection: runtime.protection });
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());

  const management = managementRouter({
    db,
    issuer: config.issuer,
    keys: runtime.keys,
    routing: runtime.routing,
    logger,
    protection: runtime.protection,
    reloadKeys: async () => {
      await runtime.keyMaintenance.reload();
    },
    rotateKeys: (options) => runtime.keyMaintenance.rotate(options),
  });
  app.use(management.routes());
  app.use(management.allowedMethods());

  // The provider instance is replaced when the signing keys change (server/oidc/key-rotation.ts):
  // each request goes to the current one. Mounting composes its middleware once per instance.
  let mounted: { provider: Runtime['provider']; middleware: Koa.Middleware } | undefined;
  app.use(function oidcProvider(ctx, next) {
    const provider = runtime.provider;
    if (mounted?.provider !== provider) mounted = { provider, middleware: mount(provider) };
    return mounted.middleware(ctx, next);
  });
  return app;
}
