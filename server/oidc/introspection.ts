import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors as joseErrors } from 'jose';
import type { FailureMarks } from './throttle.js';
import type { Database } from '../db/database.js';
import { checkApiKey } from '../services/api-key-check.js';
import type { ApiKeyUsage } from '../services/api-key-usage.js';
import type { HotReads } from '../store/cache.js';
import { keyGrants } from '../services/key-scopes.js';
import type { KeyRing } from '../services/keyring.js';

/**
 * RFC 7662 introspection for the tokens oidc-provider does not store: API keys, and our own RFC 9068
 * JWT access tokens (it refuses structured tokens outright). Both answers are "what may this be used
 * for right now": a key or a user token for an API that enforces roles carries only what the user's
 * roles still allow, and anything whose client, key or user has been revoked is inactive at once.
 *
 * API key answers:
 *   token_type  "api_key" (not an OAuth token type; resource servers can tell it apart)
 *   sub         the key's owner (a user id)
 *   client_id   "api_key:<key id>". There is no OAuth client behind a key, and naming the
 *               introspecting client would tell the resource server nothing it does not know; the key
 *               id lets it, and the audit log, tell keys of one user apart.
 *   aud         the API (or APIs) the remaining scopes belong to
 *   exp         the key's expiry, when it has one; iat its creation
 *
 * The key's IP allowlist is checked against the address that asks, which at this endpoint is the
 * resource server, not the key's caller (RFC 7662 has no way to pass that on). A key restricted to
 * its callers' addresses is therefore reported inactive to a resource server elsewhere: that fails
 * closed, and such keys belong with the resource server that sees the caller (our Management API).
 *
 * Only a token's audience may learn about it (RFC 7662 §4): an API names the clients that are its
 * resource servers (apis.resource_servers), and a client gets active:true only for a JWT whose aud is
 * an API it serves, or for an API key that reaches such an API, described only as far as those APIs
 * go. Anything else is {"active": false}, so no integration can test credentials meant for others
 * or read what they may do. The Management API is an API like the others here: its tokens and API
 * keys are introspectable only by the clients listed as its resource servers.
 */
export function introspectionExtension(db: Database, reads: HotReads, keys: KeyRing, issuer: string, usage: ApiKeyUsage) {
  async function forApiKey(ctx: KoaContextWithOIDC, token: string, asker: string) {
    const checked = await checkApiKey(db, token, ctx.ip, usage, reads);
    // A key that never existed is a guess (counted per address, server/oidc/throttle.ts); a disabled
    // or expired one is a resource server doing its job.
    if (!checked.ok && checked.reason === 'unknown') (ctx.state as FailureMarks).unknownCredential = true;
    if (!checked.ok) return undefined;
    const { key, owner } = checked.value;
    const grants = (await keyGrants(reads, checked.value)).filter((g) => g.api.resourceServers.includes(asker));
    // A key that may do nothing any more (every scope removed from its owner's roles) is not active.
    if (!grants.length) return undefined;
    const audiences = grants.map((g) => g.api.identifier);
    return {
      active: true,
      token_type: 'api_key',
      scope: grants.flatMap((g) => g.scopes).join(' '),
      sub: owner.id,
      client_id: `api_key:${key.id}`,
      aud: audiences.length === 1 ? audiences[0] : audiences,
      iss: issuer,
      iat: Math.floor(key.createdAt.getTime() / 1000),
      ...(key.expiresAt ? { exp: Math.floor(key.expiresAt.getTime() / 1000) } : {}),
    };
  }

  async function forJwt(ctx: KoaContextWithOIDC, token: string, asker: string) {
    let payload;
    try {
      payload = await keys.verifyAccessToken(token, { issuer });
    } catch (err) {
      // A forged or foreign JWT is a guess; an expired one of ours is not.
      if (!(err instanceof joseErrors.JWTExpired)) (ctx.state as FailureMarks).unknownCredential = true;
      return undefined;
    }
    // Our access tokens name one API (RFC 8707); the asker must be one of its resource servers.
    const audience = typeof payload.aud === 'string' ? await reads.findApiByIdentifier(payload.aud) : undefined;
    if (!audience || !audience.resourceServers.includes(asker)) return undefined;
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const client = clientId ? await reads.findClient(clientId) : undefined;
    if (!client || !client.enabled || (client.expiresAt && client.expiresAt.getTime() <= Date.now())) return undefined;
    let scope = typeof payload.scope === 'string' ? payload.scope : undefined;
    if (payload.sub && payload.sub !== clientId) {
      const user = await reads.findUserById(payload.sub);
      if (!user || !user.active) return undefined;
      // A user's token for an API that enforces roles does what it was granted AND what the roles
      // allow now, as the Management API checks on every call.
      if (audience.enforceRoles && scope) {
        const allowed = await reads.permissionsOfUser(user.id);
        scope = scope.split(' ').filter((s) => allowed.has(s)).join(' ');
        if (!scope) return undefined;
      }
    }
    // A DPoP-bound token carries cnf.jkt (RFC 9449 §6.1), passed on with the rest of the payload; its
    // type is DPoP (§6.2), so a resource server knows to ask for the proof.
    const bound = typeof (payload.cnf as { jkt?: unknown } | undefined)?.jkt === 'string';
    return { ...payload, active: true, token_type: bound ? 'DPoP' : 'Bearer', ...(scope !== undefined ? { scope } : {}) };
  }

  return async function introspectOtherTokens(koaCtx: Context, next: () => Promise<void>) {
    await next();
    const ctx = koaCtx as KoaContextWithOIDC;
    if (ctx.oidc?.route !== 'introspection' || !ctx.oidc.client) return;
    const token = ctx.oidc.params?.token;
    if (typeof token !== 'string') return;
    const body = ctx.body as { active?: boolean; error?: string } | undefined;
    const isJwt = token.split('.').length === 3;
    // oidc-provider answers active:false for what it does not store, and refuses structured (JWT)
    // tokens outright; both are ours to answer once the client has authenticated.
    const unanswered = (ctx.status === 200 && body?.active === false) || (isJwt && body?.error === 'unsupported_token_type');
    if (!unanswered) return;
    ctx.status = 200;
    // RFC 7662 §2.1 and §4: only clients that really authenticate may learn whether a credential is
    // live (the same policy as features.introspection.allowedPolicy); a public client, which anyone
    // can act as, could otherwise test stolen or guessed keys here.
    if (ctx.oidc.client.clientAuthMethod === 'none') {
      ctx.body = { active: false };
      return;
    }
    const asker = ctx.oidc.client.clientId;
    const answer = token.startsWith('ak_') ? await forApiKey(ctx, token, asker) : isJwt ? await forJwt(ctx, token, asker) : undefined;
    ctx.body = answer ?? { active: false };
  };
}
