import { readFileSync } from 'node:fs';
import Koa from 'koa';
import mount from 'koa-mount';
import { projectPath } from './paths.js';
import { chain } from './http/chain.js';
import { errorBoundary } from './http/errors.js';
import { strictTransportSecurity } from './http/hsts.js';
import { issuerOrigin } from './http/issuer-origin.js';
import { healthRoutes } from './http/health.js';
import { requestLog } from './http/request-log.js';
import { interactionRoutes } from './interactions/routes.js';
import { accountSecurityRoutes } from './interactions/account-security.js';
import { accountRoutes } from './account/routes.js';
import type { Runtime } from './runtime.js';
import { managementRouter } from './management/router.js';
import { consoleRoutes } from './console/static.js';
import { ssfRoutes } from './http/ssf.js';

/** The stylesheet of the interaction pages, read once. */
const STYLESHEET = readFileSync(projectPath('views', 'gatehouse.css'));

/**
 * The scripts of the pages that offer passkeys (views/layout.ts): SimpleWebAuthn's browser bundle
 * from node_modules, served from this origin (no CDN), and our few lines that drive the forms.
 */
const SCRIPTS: Record<string, Buffer> = {
  '/assets/webauthn.js': readFileSync(projectPath('node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle', 'index.umd.min.js')),
  '/assets/passkeys.js': readFileSync(projectPath('views', 'passkeys.js')),
};

/** The first segment of a path, lower-cased: "/oauth/token" → "oauth". */
function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end === -1 ? path.slice(1) : path.slice(1, end)).toLowerCase();
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After a successful change through the Management API, waits until this node's cache has applied
 * it (server/store/cache.ts sync()), so that the caller's next request to this node, a token request
 * with the client just suspended say, is answered from the new state.
 */
function ownWritesSeen(runtime: Runtime): Koa.Middleware {
  return async function ownWritesSeen(ctx, next) {
    await next();
    if (SAFE_METHODS.has(ctx.method) || ctx.status >= 400) return;
    // A failure here has already emptied the cache (the next reads go to the database).
    await runtime.cache.sync().catch(() => undefined);
  };
}

/**
 * oidc-provider for the OAuth endpoints and discovery. The instance is replaced when the signing
 * keys change (server/oidc/key-rotation.ts): each request goes to the current one. Mounting
 * composes its middleware once per instance.
 */
function oidcProvider(runtime: Runtime): Koa.Middleware {
  let mounted: { provider: Runtime['provider']; middleware: Koa.Middleware } | undefined;
  return function oidcProvider(ctx, next) {
    const provider = runtime.provider;
    if (mounted?.provider !== provider) mounted = { provider, middleware: mount(provider) };
    return mounted.middleware(ctx, next);
  };
}

/**
 * The Koa application of one node: our routes (health, assets, console, login and consent pages,
 * Management API), each on its own path, and oidc-provider for the OAuth endpoints and discovery. Tests call this without listening on a port.
 */
export function buildApp(runtime: Runtime): Koa {
  const { logger, db, config } = runtime;
  const app = new Koa();
  // Only ctx.ip follows the proxy's headers: protocol and host come from ISSUER (issuerOrigin).
  app.proxy = config.trustProxy;
  // Behind one proxy, the client address is the last X-Forwarded-For entry (the one our proxy added);
  // entries to its left are whatever the caller sent and cannot be trusted.
  app.maxIpsCount = 1;
  // oidc-provider runs inside this app (koa-mount), so its cookies are signed with this app's keys:
  // the first signs, all verify, which is how COOKIE_SECRETS rotate.
  app.keys = [...config.cookieSecrets];
  // Errors are logged by the error boundary with the request id; Koa's own printer would repeat them.
  app.silent = true;

  if (new URL(config.issuer).protocol === 'https:') {
    app.use(strictTransportSecurity({ includeSubdomains: config.hstsIncludeSubdomains }));
  }
  app.use(requestLog(logger, runtime.metrics));
  app.use(errorBoundary(logger));
  // Before anything reads ctx.href or ctx.cookies: URLs and cookie flags follow ISSUER, never the request.
  app.use(issuerOrigin(app, config.issuer));

  // Everything below is reached through one switch on the first path segment, so a request passes
  // only through the middleware of the part of the app that answers it: a token request meets the
  // request log, the error boundary and oidc-provider, and nothing meant for pages or the console.
  // Segments are compared without case, as the routers and oidc-provider match paths.
  const oidc = oidcProvider(runtime);

  const assets: Koa.Middleware = async function assets(ctx, next) {
    const script = SCRIPTS[ctx.path];
    if (script) {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = script;
      return;
    }
    if (ctx.path !== '/assets/gatehouse.css') return next();
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = STYLESHEET;
  };

  const health = healthRoutes(runtime).routes() as Koa.Middleware;

  // What the server-rendered pages (sign-in, /account, /account/security) share.
  const pages = {
    provider: () => runtime.provider,
    db,
    logger,
    issuer: config.issuer,
    cookieSecrets: config.cookieSecrets,
    protection: runtime.protection,
    sealer: runtime.sealer,
  };
  const interactions = interactionRoutes({ ...pages, metrics: runtime.metrics });
  const accountSecurity = accountSecurityRoutes({ ...pages, reauthSeconds: config.accountReauthSeconds });
  const account = accountRoutes({ ...pages, mailer: runtime.mailer, sessions: runtime.routing.shortLived });
  const management = managementRouter({
    db,
    issuer: config.issuer,
    keys: runtime.keys,
    logger,
    protection: runtime.protection,
    apiKeyUsage: runtime.apiKeyUsage,
    sealer: runtime.sealer,
    reloadKeys: async () => {
      await runtime.keyMaintenance.reload();
    },
    rotateKeys: (options) => runtime.keyMaintenance.rotate(options),
    mail: { db, issuer: config.issuer, mailer: runtime.mailer, logger, protection: runtime.protection },
    checkResponses: !config.production,
  });

  // Shared Signals (SSF 1.0): its metadata under /.well-known (the rest of which is oidc-provider's) and /ssf.
  const ssf = ssfRoutes({ db, issuer: config.issuer, keys: runtime.keys, sealer: runtime.sealer, reads: runtime.cache, transmitter: runtime.transmitter });
  const ssfBranch = chain(ssf.routes() as Koa.Middleware, ssf.allowedMethods() as Koa.Middleware);

  const branches: Record<string, Koa.Middleware> = {
    assets,
    console: consoleRoutes(),
    healthz: health,
    readyz: health,
    // /account/security (second factors) and the rest of /account (password, sessions, apps, links).
    account: chain(
      accountSecurity.routes() as Koa.Middleware,
      accountSecurity.allowedMethods() as Koa.Middleware,
      account.routes() as Koa.Middleware,
      account.allowedMethods() as Koa.Middleware,
    ),
    interaction: chain(interactions.routes() as Koa.Middleware, interactions.allowedMethods() as Koa.Middleware),
    ssf: ssfBranch,
    '.well-known': ssfBranch,
    api: chain(ownWritesSeen(runtime), management.routes() as Koa.Middleware, management.allowedMethods() as Koa.Middleware),
  };

  app.use(function route(ctx, next) {
    const branch = branches[firstSegment(ctx.path)];
    return branch ? branch(ctx, () => oidc(ctx, next)) : oidc(ctx, next);
  });
  return app;
}
