import type { Middleware } from 'koa';
import { chain } from '../http/chain.js';
import { BadRequestError, declaredLength } from '../http/form.js';

/**
 * oidc-provider reads at most 56 KiB of a request body (lib/shared/selective_body.js) and answers a
 * larger one with a plain 400. A declared Content-Length above that is refused here first with 413
 * (RFC 9110 §15.5.14), before a byte of it is read.
 */
const BODY_LIMIT = 56 * 1024;

/**
 * The methods oidc-provider answers on each endpoint (lib/helpers/initialize_app.js, with
 * enableHttpPostMethods left off, so authorization and end_session are GET only); HEAD goes with GET.
 */
const METHODS: Record<string, readonly string[]> = {
  authorization: ['GET'],
  token: ['POST'],
  jwks: ['GET'],
  introspection: ['POST'],
  revocation: ['POST'],
  userinfo: ['GET', 'POST'],
  end_session: ['GET'],
  pushed_authorization_request: ['POST'],
  device_authorization: ['POST'],
  code_verification: ['GET', 'POST'],
};

const DISCOVERY = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/** oidc-provider matches paths without regard to case or one trailing slash; so does this. */
const normalise = (path: string) => path.toLowerCase().replace(/(.)\/$/, '$1');

/** Our additions to one oidc-provider endpoint, by its name in OAUTH_ROUTES, run in this order. */
export type EndpointExtensions = Partial<Record<string, Middleware[]>>;

/**
 * The one middleware in front of oidc-provider's router (provider.use). It normalises the path once
 * and runs only the additions of the endpoint asked for, so a token request meets the token
 * endpoint's throttle and nothing meant for introspection, logout or the device pages (issue 10: "a
 * token request passes only through the middleware it needs").
 *
 * It also answers what oidc-provider's router has no notion of: a wrong method, which would fall
 * through to a bare 404, gets 405 with Allow (RFC 9110 §15.5.6) and an RFC 6749 §5.2 error body, and
 * a declared body above what the library reads gets 413 before a byte of it is read.
 */
export function endpointGuard(routes: Record<string, string>, extensions: EndpointExtensions = {}): Middleware {
  const allowed = new Map<string, readonly string[]>();
  for (const [name, path] of Object.entries(routes)) {
    if (METHODS[name]) allowed.set(normalise(path), METHODS[name]);
  }
  for (const path of DISCOVERY) allowed.set(path, ['GET']);
  const own = new Map<string, Middleware>();
  for (const [name, middleware] of Object.entries(extensions)) {
    if (!routes[name]) throw new Error(`no endpoint named ${name}`);
    if (middleware?.length) own.set(normalise(routes[name]), chain(...middleware));
  }

  return async function guardEndpoints(ctx, next) {
    if (declaredLength(ctx) > BODY_LIMIT) throw new BadRequestError('request body too large', 413);
    const path = normalise(ctx.path);
    const extended = own.get(path);
    await (extended ? extended(ctx, next) : next());
    if (ctx.status !== 404 || ctx.body != null) return;
    const methods = allowed.get(path);
    if (!methods) return;
    const allow = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
    // Only a method the endpoint never takes is a 405 (a CORS preflight without Origin is one).
    if (allow.includes(ctx.method)) return;
    ctx.set('Allow', allow.join(', '));
    throw new BadRequestError(`${ctx.method} is not allowed on this endpoint`, 405);
  };
}
