import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { jwtVerify } from 'jose';
import type { Database } from '../db/database.js';
import { checkApiKey, type VerifiedApiKey } from '../management/api-key-check.js';
import { findApiByIdentifier, type Api } from '../store/apis.js';
import { findClient } from '../store/clients.js';
import { findUserById } from '../store/users.js';
import type { KeyRing } from './keyring.js';

/**
 * API keys at resource servers. A key is a long-lived bearer credential of a user; a resource server
 * can check one by introspection (RFC 7662), or a caller can trade it for a short-lived JWT by token
 * exchange (RFC 8693), so that resource servers keep validating nothing but JWTs.
 */

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The scopes of `api` the key may use now: its own, less what the owner's roles no longer allow there. */
export function keyScopesFor(api: Api | undefined, key: VerifiedApiKey): string[] {
  return key.key.scopes.filter((s) => {
    if (api && !api.scopes.some((d) => d.name === s)) return false;
    return !(api?.enforceRoles) || key.rolePermissions.has(s);
  });
}

async function apiOwning(db: Database, scopes: string[]): Promise<Api | undefined> {
  const { rows } = await db.query<{ identifier: string }>(
    `SELECT identifier FROM apis, jsonb_array_elements(scopes) s WHERE s->>'name' = ANY($1::text[]) LIMIT 1`,
    [scopes],
  );
  return rows[0] ? findApiByIdentifier(db, rows[0].identifier) : undefined;
}

/**
 * Answers introspection for the tokens oidc-provider does not store: API keys, and our own JWT access
 * tokens (RFC 9068), which it cannot look up. A JWT is active only while its client is still enabled
 * and its user still active, so a resource server that introspects sees revocations at once.
 */
export function introspectionExtension(db: Database, keys: KeyRing, issuer: string) {
  async function forApiKey(ctx: KoaContextWithOIDC, token: string) {
    const checked = await checkApiKey(db, token, ctx.ip);
    if (!checked.ok) return undefined;
    const key = checked.value;
    const api = await apiOwning(db, key.key.scopes);
    const scope = keyScopesFor(api, key);
    if (!scope.length) return undefined;
    return {
      active: true,
      token_type: 'api_key',
      scope: scope.join(' '),
      sub: key.owner.id,
      // The key is the credential; there is no OAuth client behind it.
      client_id: `api_key:${key.key.id}`,
      ...(api ? { aud: api.identifier } : {}),
      iss: issuer,
      iat: Math.floor(key.key.createdAt.getTime() / 1000),
      ...(key.key.expiresAt ? { exp: Math.floor(key.key.expiresAt.getTime() / 1000) } : {}),
    };
  }

  async function forJwt(token: string) {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys.verifier(), { issuer, typ: 'at+jwt' }));
    } catch {
      return undefined;
    }
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const client = clientId ? await findClient(db, clientId) : undefined;
    if (!client || !client.enabled || (client.expiresAt && client.expiresAt.getTime() <= Date.now())) return undefined;
    if (payload.sub && payload.sub !== clientId) {
      const user = await findUserById(db, payload.sub);
      if (!user || !user.active) return undefined;
    }
    return { ...payload, active: true, token_type: 'Bearer' };
  }

  return async function introspectOtherTokens(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
    await next();
    if (ctx.oidc?.route !== 'introspection' || !ctx.oidc.client) return;
    const token = ctx.oidc.params?.token;
    if (typeof token !== 'string') return;
    const body = ctx.body as { active?: boolean; error?: string } | undefined;
    const isJwt = token.split('.').length === 3;
    // oidc-provider answers active:false for what it does not store, and refuses structured (JWT)
    // tokens outright; both are ours to answer once the client has authenticated.
    const unanswered = (ctx.status === 200 && body?.active === false) || (isJwt && body?.error === 'unsupported_token_type');
    if (!unanswered) return;
    const answer = token.startsWith('ak_') ? await forApiKey(ctx, token) : isJwt ? await forJwt(token) : undefined;
    ctx.status = 200;
    ctx.body = answer ?? { active: false };
  };
}

/** RFC 8693 token exchange: an API key (subject_token) for a JWT access token for one API. */
export function registerTokenExchange(provider: Provider, db: Database) {
  async function tokenExchange(ctx: KoaContextWithOIDC) {
    const { params, client } = ctx.oidc as unknown as { params: Record<string, string | undefined>; client: NonNullable<KoaContextWithOIDC['oidc']['client']> };
    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    // RFC 8693 §2.1: the type says what the subject token is; ours is an access-token-like key.
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`only ${ACCESS_TOKEN_TYPE} can be issued`);
    }
    if (params.actor_token) throw new errors.InvalidRequest('delegation (actor_token) is not supported');
    const checked = await checkApiKey(db, params.subject_token, ctx.ip);
    if (!checked.ok) throw new errors.InvalidGrant(`the subject token is not a valid API key (${checked.reason.replace(/_/g, ' ')})`);
    const key = checked.value;

    const requested = (params.scope ?? '').split(' ').filter(Boolean);
    const resource = params.resource ?? (await apiOwning(db, requested.length ? requested : key.key.scopes))?.identifier;
    if (!resource) throw new errors.InvalidTarget('name the API with the resource parameter');
    const api = await findApiByIdentifier(db, resource);
    if (!api) throw new errors.InvalidTarget('resource indicator is not a registered API');
    const usable = keyScopesFor(api, key);
    // RFC 8693 §2.2.2 / RFC 6749 §5.2: scopes beyond what the key holds are refused, not dropped.
    const denied = requested.find((s) => !usable.includes(s));
    if (denied) throw new errors.InvalidScope('the API key does not hold this scope for this API', denied);
    const scope = (requested.length ? requested : usable).join(' ');
    if (!scope) throw new errors.InvalidScope('the API key holds no scope of this API', resource);

    const { AccessToken, ResourceServer } = ctx.oidc.provider;
    const at = new AccessToken({ accountId: key.owner.id, client, gty: 'token-exchange', scope } as never);
    at.resourceServer = new ResourceServer(resource, {
      scope: usable.join(' '),
      audience: api.identifier,
      accessTokenTTL: Math.min(api.accessTokenTtl, 3600),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: api.signingAlg as 'RS256' } },
    });
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: at.expiration,
      scope,
    };
  }
  provider.registerGrantType(TOKEN_EXCHANGE, tokenExchange, [
    'subject_token', 'subject_token_type', 'requested_token_type', 'actor_token', 'actor_token_type', 'resource', 'scope', 'audience',
  ]);
}
