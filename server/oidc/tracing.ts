import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Tracer } from '../telemetry/spans.js';
import { normalise } from './endpoints.js';

/**
 * Spans of our own inside oidc-provider, installed only when tracing is on (server/oidc/provider.ts):
 * the token request, client authentication and signing. The http, koa, pg and ioredis spans around
 * and under them come from the standard instrumentations (server/telemetry/tracing.ts).
 */

/** The grant types we serve; anything else a caller sends is recorded as `other` (no caller text in spans). */
const GRANT_TYPES = new Set(['client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange']);

/** `oauth.token` around each token request, with its grant type and status once answered. */
export function traceTokenRequests(tracer: Tracer, tokenRoute: string): Middleware {
  const tokenPath = normalise(tokenRoute);
  return function traceTokenRequest(ctx, next) {
    if (normalise(ctx.path) !== tokenPath) return next();
    return tracer.span('oauth.token', {}, async (span) => {
      await next();
      const grant = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type;
      span.setAttribute('oauth.grant_type', typeof grant === 'string' ? (GRANT_TYPES.has(grant) ? grant : 'other') : 'none');
      span.setAttribute('http.response.status_code', ctx.status);
      const error = (ctx.body as { error?: unknown } | undefined)?.error;
      if (ctx.status >= 400 && typeof error === 'string' && /^[a-z_]{1,40}$/.test(error)) span.setAttribute('oauth.error', error);
    });
  };
}

type AsyncMethod = (this: unknown, ...args: unknown[]) => Promise<unknown>;

function wrap(target: object, method: string, name: string, attributes: Record<string, string>, tracer: Tracer): void {
  const holder = target as Record<string, AsyncMethod>;
  const original = holder[method];
  holder[method] = function traced(this: unknown, ...args: unknown[]) {
    return tracer.span(name, attributes, () => original.apply(this, args));
  };
}

/**
 * `oauth.client_authentication` around the client secret check (with the IP allowlist and the limit
 * on guessing: server/oidc/clients.ts), and `oauth.sign` around making each access token (a JWT for
 * an API: signing is most of it) and ID token. Call after installSecretComparison.
 */
export function traceProviderModels(provider: Provider, tracer: Tracer): void {
  wrap(provider.Client.prototype, 'compareClientSecret', 'oauth.client_authentication', { 'oauth.client_auth': 'client_secret' }, tracer);
  wrap(provider.AccessToken.prototype, 'getValueAndPayload', 'oauth.sign', { 'oauth.token_type': 'access_token' }, tracer);
  wrap(provider.ClientCredentials.prototype, 'getValueAndPayload', 'oauth.sign', { 'oauth.token_type': 'access_token' }, tracer);
  wrap(provider.IdToken.prototype, 'issue', 'oauth.sign', { 'oauth.token_type': 'id_token' }, tracer);
}
