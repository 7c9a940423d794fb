import type { Middleware } from 'koa';
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
export const normalise = (path: string) => path.toLowerCase().replace(/(.)\/$/, '$1');

/**
 * Runs in front of oidc-provider's router (provider.use). Its router has no notion of a wrong
 * method, so PUT /oauth/token would fall through to a bare 404; this answers 405 with Allow
 * (RFC 9110 §15.5.6) and an RFC 6749 §5.2 error body instead.
 */
export function endpointGuard(routes: Record<string, string>): Middleware {
  const allowed = new Map<string, readonly string[]>();
  for (const [name, path] of Object.entries(routes)) {
    if (METHODS[name]) allowed.set(normalise(path), METHODS[name]);
  }
  for (const path of DISCOVERY) allowed.set(path, ['GET']);

  return async function guardEndpoints(ctx, next) {
    if (declaredLength(ctx) > BODY_LIMIT) throw new BadRequestError('request body too large', 413);
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const methods = allowed.get(normalise(ctx.path));
    if (!methods) return;
    const allow = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
    // Only a method the endpoint never takes is a 405 (a CORS preflight without Origin is one).
    if (allow.includes(ctx.method)) return;
    ctx.set('Allow', allow.join(', '));
    throw new BadRequestError(`${ctx.method} is not allowed on this endpoint`, 405);
  };
}
