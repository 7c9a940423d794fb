import type { Context, Next } from 'koa';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { Database } from '../db/database.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import type { KeyRing } from '../oidc/keyring.js';
import { findClient } from '../store/clients.js';
import { permissionsOfUser } from '../store/roles.js';
import { findUserById } from '../store/users.js';
import { checkApiKey } from '../services/api-key-check.js';
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
}

const intersect = (a: Iterable<string>, b: ReadonlySet<string>) => new Set([...a].filter((x) => b.has(x)));
const managementOnly = (scopes: Iterable<string>) => [...scopes].filter((s) => s in MANAGEMENT_SCOPES);

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
    throw guessed(invalidToken());
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (!sub || !clientId) throw invalidToken();

  // The issuing client must still exist and be enabled: revocation reaches our own API at once.
  const client = await findClient(deps.db, clientId);
  if (!client || !client.enabled || (client.expiresAt && client.expiresAt.getTime() <= Date.now())) {
    throw invalidToken('the client this token was issued to has been revoked');
  }
  if (sub === clientId) {
    // Client credentials: what the client may be granted now bounds what the token still does.
    const allowed = new Set((client.metadata.scope ?? '').split(' '));
    return { kind: 'client', id: clientId, permissions: intersect(managementOnly(scopes), allowed), actor: { type: 'client', id: clientId, ip } };
  }
  const user = await findUserById(deps.db, sub);
  if (!user || !user.active) throw invalidToken('the user this token was issued to is deactivated');
  const roles = await permissionsOfUser(deps.db, user.id);
  return { kind: 'user', id: user.id, userId: user.id, permissions: intersect(managementOnly(scopes), roles), actor: { type: 'user', id: user.id, ip } };
}

async function fromApiKey(deps: AuthDeps, presented: string, ip: string): Promise<Principal> {
  const result = await checkApiKey(deps.db, presented, ip);
  if (!result.ok && result.reason === 'unknown') throw guessed(invalidToken('the API key is not valid'));
  if (!result.ok) throw invalidToken(result.reason === 'unknown' ? 'the API key is not valid' : `the API key is ${result.reason.replace(/_/g, ' ')}`);
  const { key, owner, rolePermissions } = result.value;
  return {
    kind: 'api_key',
    id: key.id,
    userId: owner.id,
    permissions: intersect(managementOnly(key.scopes), rolePermissions),
    actor: { type: 'api_key', id: key.id, ip },
  };
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
