import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Tracer } from '../telemetry/spans.js';
import { grantTypeOf, outcomeOf } from '../telemetry/labels.js';

/**
 * Spans of our own inside oidc-provider, installed only when tracing is on (server/oidc/provider.ts):
 * the token request, client authentication and signing. The http, koa, pg and ioredis spans around
 * and under them come from the standard instrumentations (server/telemetry/tracing.ts).
 */

/** `oauth.token` around each token request (provider.ts runs it there), with its grant type and status once answered. */
export function traceTokenRequests(tracer: Tracer): Middleware {
  return function traceTokenRequest(ctx, next) {
    return tracer.span('oauth.token', {}, async (span) => {
      await next();
      span.setAttribute('oauth.grant_type', grantTypeOf(ctx));
      span.setAttribute('oauth.outcome', outcomeOf(ctx));
      span.setAttribute('http.response.status_code', ctx.status);
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
