import type { Context, Next } from 'koa';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Database } from '../db/database.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import type { KeyRing } from '../services/keyring.js';
import { checkApiKey } from '../services/api-key-check.js';
import { apiKeyPrincipal, principalForAccessToken } from '../services/credentials.js';
import type { Principal } from '../services/principal.js';
import { insufficientScope, invalidToken } from '../services/errors.js';
import { MANAGEMENT_SCOPES, managementApiIdentifier } from '../services/management-api.js';

export interface AuthDeps {
  db: Database;
  issuer: string;
  keys: KeyRing;
}

async function fromJwt(deps: AuthDeps, token: string, ip: string): Promise<Principal> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, deps.keys.verifier(), {
      issuer: deps.issuer,
      audience: managementApiIdentifier(deps.issuer),
      typ: 'at+jwt', // RFC 9068 §4: only access tokens, never an ID token
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalidToken('the access token has expired');
    throw invalidToken();
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (!sub || !clientId) throw invalidToken();

  const principal = await principalForAccessToken(deps.db, { sub, clientId, scopes }, ip);
  if ('refused' in principal) throw invalidToken(principal.refused);
  return principal;
}

async function fromApiKey(deps: AuthDeps, presented: string, ip: string): Promise<Principal> {
  const result = await checkApiKey(deps.db, presented, ip);
  if (!result.ok) throw invalidToken(result.reason === 'unknown' ? 'the API key is not valid' : `the API key is ${result.reason.replace(/_/g, ' ')}`);
  return apiKeyPrincipal(result.value, ip);
}

/** RFC 6750 §2.1 bearer authentication for /api/v1: a JWT from this server, or an API key. */
export function authenticate(deps: AuthDeps) {
  return async function authenticateBearer(ctx: Context, next: Next) {
    const header = ctx.get('authorization');
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header);
    if (!m) throw invalidToken(header ? 'the Authorization header is not a Bearer token' : 'send an access token or API key as a Bearer token');
    const ip = normaliseIp(ctx.ip);
    const token = m[1];
    ctx.state.principal = token.startsWith('ak_') ? await fromApiKey(deps, token, ip) : await fromJwt(deps, token, ip);
    return next();
  };
}

/** Route guard: the principal must hold the permission (RFC 6750 §3.1 insufficient_scope otherwise). */
export function requires(scope: string) {
  if (!(scope in MANAGEMENT_SCOPES)) throw new Error(`unknown management scope ${scope}`);
  return async function requireScope(ctx: Context, next: Next) {
    const principal = ctx.state.principal as Principal | undefined;
    if (!principal) throw invalidToken();
    if (!principal.permissions.has(scope)) throw insufficientScope(scope);
    return next();
  };
}

export const principalOf = (ctx: Context): Principal => ctx.state.principal as Principal;
