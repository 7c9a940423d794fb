import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokenError } from './errors.js';
import type { AccessToken, ResourceServer } from './resource-server.js';

/** The token of a request: `Authorization: Bearer …` or `DPoP …` (RFC 6750 §2.1, RFC 9449 §7.1). */
function tokenOf(req: IncomingMessage): { token: string; scheme: 'Bearer' | 'DPoP' } | undefined {
  const m = /^(Bearer|DPoP) ([\x21-\x7e]+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  return { token: m[2], scheme: m[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer' };
}

/** Verifies the request's token; `publicUrl` is where clients reach this server (for DPoP's htu). */
export async function authenticateRequest(rs: ResourceServer, req: IncomingMessage, publicUrl?: string): Promise<AccessToken> {
  const found = tokenOf(req);
  if (!found) throw new TokenError(401, 'invalid_token', 'send an access token');
  const proof = req.headers.dpop;
  const base = publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
  return rs.verify(found.token, {
    dpop: { proof: typeof proof === 'string' ? proof : undefined, method: req.method ?? 'GET', url: new URL(req.url ?? '/', base).href },
  });
}

/** Writes the refusal: status, RFC 6750 §3 challenge, and a JSON body. */
export function refuse(res: ServerResponse, err: unknown, scheme: 'Bearer' | 'DPoP' = 'Bearer'): void {
  const e = err instanceof TokenError ? err : new TokenError(401, 'invalid_token', 'the access token is not valid');
  const challenge = e.challenge(scheme);
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
  if (e.status === 503) res.setHeader('Retry-After', '1');
  res.statusCode = e.status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ error: e.error, error_description: e.description }));
}

export interface MiddlewareOptions {
  /** Where clients reach this server, e.g. https://api.example.com (for DPoP proofs). */
  publicUrl?: string;
}

/** Plain node:http: wraps a handler; the verified token is `req.auth`. */
export function protect(
  rs: ResourceServer,
  handler: (req: IncomingMessage & { auth: AccessToken }, res: ServerResponse) => unknown,
  options: MiddlewareOptions = {},
) {
  return async function protectedHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let auth: AccessToken;
    try {
      auth = await authenticateRequest(rs, req, options.publicUrl);
    } catch (err) {
      refuse(res, err, tokenOf(req)?.scheme);
      return;
    }
    await handler(Object.assign(req, { auth }), res);
  };
}

/** Express: `app.use(expressMiddleware(rs))`; the verified token is `req.auth`. */
export function expressMiddleware(rs: ResourceServer, options: MiddlewareOptions = {}) {
  return function gatehouseAuth(req: IncomingMessage & { auth?: AccessToken }, res: ServerResponse, next: (err?: unknown) => void): void {
    authenticateRequest(rs, req, options.publicUrl).then(
      (auth) => {
        req.auth = auth;
        next();
      },
      (err) => refuse(res, err, tokenOf(req)?.scheme),
    );
  };
}

/** Koa: `app.use(koaMiddleware(rs))`; the verified token is `ctx.state.auth`. */
export function koaMiddleware(rs: ResourceServer, options: MiddlewareOptions = {}) {
  return async function gatehouseAuth(
    ctx: { req: IncomingMessage; res: ServerResponse; state: Record<string, unknown>; respond?: boolean },
    next: () => Promise<unknown>,
  ): Promise<void> {
    try {
      ctx.state.auth = await authenticateRequest(rs, ctx.req, options.publicUrl);
    } catch (err) {
      ctx.respond = false;
      refuse(ctx.res, err, tokenOf(ctx.req)?.scheme);
      return;
    }
    await next();
  };
}
