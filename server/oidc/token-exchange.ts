import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/database.js';
import { checkApiKey } from '../services/api-key-check.js';
import type { ApiKeyUsage } from '../services/api-key-usage.js';
import type { HotReads } from '../store/cache.js';
import { keyGrants, keyScopesAt } from '../services/key-scopes.js';
import { splitScope } from '../services/scope-names.js';
import type { FailureMarks } from './throttle.js';
import { checkedDpopProof } from './dpop.js';
import type { ExchangeMarks } from './token-claims.js';
import { ACCESS_TOKEN_TTL } from '../services/limits.js';

/**
 * RFC 8693 token exchange: an API key (the subject token) for a short-lived RFC 9068 JWT access
 * token for one API, so that resource servers need nothing but the JWKS to accept callers who hold
 * keys. The exchanging client (a gateway, say) authenticates as usual and must have this grant type
 * in its grant_types; the token's sub is the key's owner and its client_id the exchanging client.
 *
 * Scope: what the caller asks for, limited to what the key can do at that API now (its scopes, less
 * what the owner's roles no longer allow where the API enforces roles). Scopes the key lacks are left
 * out and the response names the scope issued (RFC 6749 §3.3); if nothing is left, invalid_scope.
 */

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Tokens from an exchange never outlive this, whatever the API's own lifetime (they cannot be recalled). */
const MAX_EXCHANGED_TTL = ACCESS_TOKEN_TTL.max;

const PARAMETERS = ['subject_token', 'subject_token_type', 'requested_token_type', 'actor_token', 'actor_token_type', 'resource', 'audience', 'scope'];

export function registerTokenExchange(provider: Provider, db: Database, reads: HotReads, usage: ApiKeyUsage) {
  async function tokenExchange(ctx: KoaContextWithOIDC) {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const client = ctx.oidc.client!;
    // A public client proves nothing about itself; exchanging someone's key would then be open to
    // anyone who copies its client_id. (Registration refuses this too; checked again here.)
    if (client.clientAuthMethod === 'none') throw new errors.UnauthorizedClient('token exchange needs a confidential client');
    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    // RFC 8693 §2.1: the type says what the subject token is; an API key is used like an access token.
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`only ${ACCESS_TOKEN_TYPE} can be issued`);
    }
    if (params.actor_token || params.actor_token_type) throw new errors.InvalidRequest('delegation (actor_token) is not supported');
    // RFC 9449 §5: with a DPoP proof the token is bound to its key (cnf.jkt), as at every other grant.
    const dpop = await checkedDpopProof(provider, ctx, client.clientId);

    const checked = await checkApiKey(db, params.subject_token, ctx.ip, usage, reads);
    // RFC 6749 §5.2 invalid_grant: the grant (here the subject token) is invalid, expired or revoked.
    // The client sees only that; the reason goes to error_detail, which oidc-provider keeps for
    // server-side logs and events, so the endpoint does not tell a key's state to whoever holds it.
    if (!checked.ok) {
      // A key that never existed is a guess, counted per address (server/oidc/throttle.ts).
      if (checked.reason === 'unknown') (ctx.state as FailureMarks).unknownCredential = true;
      throw new errors.InvalidGrant(checked.reason === 'unknown' ? 'the subject token is not a valid API key' : `the API key is ${checked.reason.replace(/_/g, ' ')}`);
    }
    const key = checked.value;
    const requested = splitScope(params.scope);

    // RFC 8693 §2.1: resource is a URI of the target service, audience its logical name; an API's
    // identifier is both, so either names it (and if both are given they must agree).
    if (params.resource && params.audience && params.resource !== params.audience) {
      throw new errors.InvalidTarget('resource and audience name different APIs');
    }
    let target = params.resource ?? params.audience;
    if (!target) {
      // Without a target the scopes must point at one API: the requested ones, else the key's own.
      const candidates = requested.length
        ? await reads.findApisByScopes(requested)
        : (await keyGrants(reads, key)).map((g) => g.api);
      if (candidates.length !== 1) {
        throw new errors.InvalidTarget(candidates.length ? 'the scopes belong to several APIs; name one with resource' : 'name the API with resource');
      }
      target = candidates[0].identifier;
    }
    const api = await reads.findApiByIdentifier(target);
    if (!api) throw new errors.InvalidTarget('resource is not a registered API');

    const defined = new Set(api.scopes.map((s) => s.name));
    const foreign = requested.find((s) => !defined.has(s));
    if (foreign) throw new errors.InvalidScope('requested scope does not belong to the requested resource', foreign);
    const usable = keyScopesAt(api, key);
    const scopes = requested.length ? requested.filter((s) => usable.includes(s)) : usable;
    if (!scopes.length) throw new errors.InvalidScope('the API key holds none of the requested scopes at this API', requested.join(' '));

    // Short-lived, and never longer than the key itself is valid.
    let ttl = Math.min(api.accessTokenTtl, MAX_EXCHANGED_TTL);
    if (key.key.expiresAt) ttl = Math.min(ttl, Math.floor((key.key.expiresAt.getTime() - Date.now()) / 1000));
    if (ttl < 1) throw new errors.InvalidGrant('the API key is expired');

    const { AccessToken, ResourceServer } = ctx.oidc.provider;
    const scope = scopes.join(' ');
    const at = new AccessToken({ accountId: key.owner.id, client, gty: 'token-exchange', scope } as never);
    if (dpop) at.setThumbprint('jkt', dpop.thumbprint);
    at.resourceServer = new ResourceServer(api.identifier, {
      scope,
      audience: api.identifier,
      accessTokenTTL: ttl,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: api.signingAlg as 'RS256' } },
    });
    // The token names the key (api_key_id), so that revoking the key stops it at resource servers.
    (ctx.state as ExchangeMarks).exchangedApiKeyId = key.key.id;
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType,
      expires_in: at.expiration,
      scope,
    };
  }

  provider.registerGrantType(TOKEN_EXCHANGE, tokenExchange, PARAMETERS);
}
