import type { Context, Next } from 'koa';
import { errors as joseErrors } from 'jose';
import type { Database } from '../db/database.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import type { KeyRing } from '../services/keyring.js';
import { checkApiKey } from '../services/api-key-check.js';
import type { ApiKeyUsage } from '../services/api-key-usage.js';
import { apiKeyPrincipal, principalForAccessToken } from '../services/credentials.js';
import type { Principal } from '../services/principal.js';
import { insufficientScope, invalidToken } from '../services/errors.js';
import { MANAGEMENT_SCOPES, managementApiIdentifier } from '../services/management-api.js';
import type { Protection } from '../services/protection/index.js';
import { limitAddress } from '../services/protection/address.js';

export interface AuthDeps {
  db: Database;
  issuer: string;
  keys: KeyRing;
  protection: Protection;
  /** Counts requests made with API keys (server/services/api-key-usage.ts). */
  apiKeyUsage: ApiKeyUsage;
}

async function fromJwt(deps: AuthDeps, token: string, ip: string): Promise<Principal> {
  let payload;
  try {
    payload = await deps.keys.verifyAccessToken(token, { issuer: deps.issuer, audience: managementApiIdentifier(deps.issuer) });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw invalidToken('the access token has expired');
    throw guessed(invalidToken());
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
  const result = await checkApiKey(deps.db, presented, ip, deps.apiKeyUsage);
  if (!result.ok && result.reason === 'unknown') throw guessed(invalidToken('the API key is not valid'));
  if (!result.ok) throw invalidToken(result.reason === 'unknown' ? 'the API key is not valid' : `the API key is ${result.reason.replace(/_/g, ' ')}`);
  return apiKeyPrincipal(result.value, ip);
}

/**
 * A credential that was never ours (a forged or foreign JWT, an API key that does not exist): a guess,
 * counted per address. Expired, revoked or disabled credentials are not: their holders are not guessing.
 */
const GUESS = Symbol('guess');
function guessed<E extends object>(err: E): E {
  return Object.assign(err, { [GUESS]: true });
}

/**
 * RFC 6750 §2.1 bearer authentication for /api/v1: a JWT from this server, or an API key. Guesses are
 * limited per address (NIST SP 800-63B §5.2.2): past CREDENTIAL_MAX_FAILURES, 429 with Retry-After.
 */
export function authenticate(deps: AuthDeps) {
  return async function authenticateBearer(ctx: Context, next: Next) {
    const header = ctx.get('authorization');
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(header);
    if (!m) throw invalidToken(header ? 'the Authorization header is not a Bearer token' : 'send an access token or API key as a Bearer token');
    const ip = normaliseIp(ctx.ip);
    const address = limitAddress(ctx.ip);
    await deps.protection.refuseIfBlocked([[deps.protection.credentials, address]]);
    const token = m[1];
    try {
      ctx.state.principal = token.startsWith('ak_') ? await fromApiKey(deps, token, ip) : await fromJwt(deps, token, ip);
    } catch (err) {
      if ((err as { [GUESS]?: boolean })[GUESS]) await deps.protection.credentials.fail(address);
      throw err;
    }
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
