import Provider, { type Configuration, type KoaContextWithOIDC, errors } from 'oidc-provider';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { logoutPages, logoutWithoutSession, renderErrorPage } from './logout.js';
import type { Protection } from '../services/protection/index.js';
import { awaitAudit, refuseBlockedClient, throttleFailedCredentials, watchFailures, type FailureMarks } from './throttle.js';
import { secretUsage } from './secret-usage.js';
import { accountFinder, interactionPolicyWithAccountCheck } from './accounts.js';
import { endpointGuard } from './endpoints.js';
import { type ArtifactRouting, createAdapterClass, settleDeferredConsume } from './adapter.js';
import { EXTRA_CLIENT_METADATA, createClientAdapter, installSecretComparison, reuseClients } from './clients.js';
import { existingGrantLoader } from './grants.js';
import { resourceIndicators } from './resources.js';
import { CLAIMS, OIDC_SCOPES } from '../services/scope-names.js';
import { ACR_VALUES } from '../services/two-factor-policy.js';
import type { KeyRing } from '../services/keyring.js';
import type { HotReads } from '../store/cache.js';
import type { ApiKeyUsage } from '../services/api-key-usage.js';
import { introspectionExtension } from './introspection.js';
import { recordSessionUses, trackSessions } from './session-tracking.js';
import { registerTokenExchange } from './token-exchange.js';
import { clientAssertionCheck, outboundRequests } from './client-assertions.js';
import { deviceCodeGuard, deviceFlowFeature, devicePollPace } from './device.js';
import { queueBackchannelLogouts } from './backchannel.js';
import { tracer } from '../telemetry/spans.js';
import { traceProviderModels, traceTokenRequests } from './tracing.js';
import { accessTokenClaims } from './token-claims.js';
import { ACCESS_TOKEN_TTL } from '../services/limits.js';
import { recordGrantRevoked } from '../services/ssf/events.js';
import { missingClientReason } from '../services/audit-log.js';

/** The client_id a failed token request claimed (Basic header or body), for the audit log only. */
function attemptedClientId(ctx: KoaContextWithOIDC): string | undefined {
  const fromBody = ctx.oidc?.params?.client_id;
  if (typeof fromBody === 'string' && fromBody.length <= 200) return fromBody;
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(ctx.get('authorization'));
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const id = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
  try {
    return id && id.length <= 200 ? decodeURIComponent(id) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why client authentication failed, from oidc-provider's fixed error_detail texts
 * (lib/shared/client_auth.js) to words of our own; anything else is left out rather than copied.
 * The Client adapter hides suspended and expired clients from oidc-provider, and marks why
 * (client_suspended, client_expired) for the audit; a client_id that does not exist is
 * "client_deleted" when the audit log records its deletion, else "unknown_client".
 */
const REFUSAL_DETAIL: Record<string, string> = {
  'client not found': 'unknown_client',
  'invalid secret provided': 'wrong_secret',
  'the provided authentication mechanism does not match the registered client authentication method': 'wrong_auth_method',
};

export interface ProviderDeps {
  config: Config;
  db: Database;
  routing: ArtifactRouting;
  jwks: { keys: object[] };
  keys: KeyRing;
  logger: Logger;
  /** What the token path reads, from this node's cache (server/store/cache.ts). */
  reads: HotReads;
  protection: Protection;
  /** Counts requests made with API keys (token exchange, introspection). */
  apiKeyUsage: ApiKeyUsage;
}

/** Asymmetric only: client secrets are stored as digests, so nothing can be keyed off them (HS*). */
const SIGNING_ALGS = ['RS256', 'PS256', 'ES256'];

export const OAUTH_ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/logout',
  pushed_authorization_request: '/oauth/par',
  device_authorization: '/oauth/device/auth',
  code_verification: '/device',
} as const;

/** Access tokens never outlive an hour, whatever an API asks for (RFC 9068 tokens cannot be recalled). */
const MAX_ACCESS_TOKEN_TTL = ACCESS_TOKEN_TTL.max;

export function createProvider({ config, db, routing, jwks, keys, logger, reads, protection, apiKeyUsage }: ProviderDeps): Provider {
  const usage = secretUsage(db, logger);
  const accessTokenTtl = (_ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number } }) =>
    Math.min(token.resourceServer?.accessTokenTTL ?? 900, MAX_ACCESS_TOKEN_TTL);

  const configuration: Configuration = {
    adapter: createAdapterClass(routing, createClientAdapter(reads)),
    clients: [],
    findAccount: accountFinder(reads),
    claims: CLAIMS,
    extraTokenClaims: accessTokenClaims as Configuration['extraTokenClaims'],
    // OIDC Core §2, §3.1.2.1: what acr_values may ask for, advertised as acr_values_supported; the
    // login step reports which was met (interactions/routes.ts completeSignIn).
    acrValues: ACR_VALUES,
    scopes: [...OIDC_SCOPES],
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt'],
    // private_key_jwt (RFC 7523 §3): iss, sub, aud, exp and a jti the library keeps until exp (one use).
    assertJwtClientAuthClaimsAndHeader: clientAssertionCheck(() => Provider.ctx?.ip),
    ...outboundRequests(config),
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: {
      idTokenSigningAlgValues: SIGNING_ALGS as never,
      userinfoSigningAlgValues: SIGNING_ALGS as never,
      introspectionSigningAlgValues: SIGNING_ALGS as never,
      authorizationSigningAlgValues: SIGNING_ALGS as never,
      requestObjectSigningAlgValues: SIGNING_ALGS as never,
      clientAuthSigningAlgValues: SIGNING_ALGS as never,
    },
    responseTypes: ['code'],
    routes: OAUTH_ROUTES,
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: [...config.cookieSecrets],
      names: { session: 'gh_session', interaction: 'gh_interaction', resume: 'gh_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: interactionPolicyWithAccountCheck(db),
    },
    features: {
      devInteractions: { enabled: false },
      // RFC 9126 and RFC 9449, on by default in oidc-provider 9; named here because Gatehouse
      // documents and tests them. Per client: require_pushed_authorization_requests, dpop_bound_access_tokens.
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 §4: only a token's audience may introspect it. What oidc-provider stores itself
        // (refresh tokens, and opaque access tokens for our own userinfo endpoint) has no other
        // audience than the client it was issued to; our JWTs and API keys are answered by
        // introspection.ts for the resource servers of their API.
        allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' && token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, ...logoutPages() },
      // RFC 8628, for clients granted urn:ietf:params:oauth:grant-type:device_code; pages in device.ts.
      deviceFlow: deviceFlowFeature(protection, logger),
      // Back-Channel Logout 1.0: the library signs the logout token; delivery is ours (backchannel.ts).
      backchannelLogout: { enabled: true },
      resourceIndicators: resourceIndicators(reads) as never,
    },
    // PKCE (RFC 7636): always for public clients (RFC 9700 §2.1.1); for confidential clients when
    // registered with require_pkce (OAuth 2.1 §4.1.1 recommends it; the documented flow integrators
    // copy has none, so it is theirs to turn on).
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || (client as { gatehouse_require_pkce?: boolean }).gatehouse_require_pkce === true,
    },
    // RFC 9700 §2.2.2: rotate every refresh token on use; a rotated one presented again revokes the grant.
    rotateRefreshToken: true,
    // CORS at the token, userinfo and revocation endpoints: only for the origins a client redirects
    // to (a browser app calls from the page it was sent back to); the console is same-origin and needs none.
    clientBasedCORS: (_ctx, origin, client) =>
      (client.redirectUris ?? []).some((uri) => URL.canParse(uri) && new URL(uri).origin === origin),
    loadExistingGrant: existingGrantLoader(db, config.issuer),
    // Every client registered with the refresh_token grant gets a refresh token on code exchange
    // (the flow integrators copy: no offline_access, yet a refresh_token in the answer). Without
    // offline_access it is bound to the person's browser session (expiresWithSession below): it stops
    // when the session ends (logout, and password change or deactivation, which end every session,
    // services/users.ts endUserAccess). With offline_access (OIDC Core §11, only with prompt=consent)
    // it outlives the session, as Keycloak's offline tokens do; password change and deactivation
    // still end it, since they revoke the person's grants.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
    ttl: {
      AccessToken: accessTokenTtl as never,
      ClientCredentials: accessTokenTtl as never,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 30 * 60,
      Session: 14 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
      // RFC 8628 §3.2 expires_in: ten minutes to walk to a browser and type eight characters.
      DeviceCode: 600,
    },
    renderError: async (ctx, out) => {
      renderErrorPage(ctx, out as { error: string; error_description?: string });
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // oidc-provider makes Koa contexts of its own only for its cookie jars (lib/helpers/oidc_context.js,
  // lib/models/session.js) and then marks them secure when our context is (server/http/issuer-origin.ts
  // pins that to ISSUER). Trusting X-Forwarded-Proto here would let a caller's header decide instead.
  provider.proxy = false;
  reuseClients(provider, reads);
  // Each endpoint's additions, looked up by path once per request (endpointGuard): a token request runs
  // the token endpoint's and nothing else.
  const tracing = tracer();
  const throttle = throttleFailedCredentials(protection);
  const introspect = introspectionExtension(db, reads, keys, config.issuer, apiKeyUsage);
  provider.use(recordSessionUses);
  provider.use(
    endpointGuard(OAUTH_ROUTES, {
      token: [
        // With tracing on (only then), a span around each token request, its client authentication and signing.
        ...(tracing ? [traceTokenRequests(tracing)] : []),
        async function settleDeferredConsumes(ctx, next) {
          await next();
          await settleDeferredConsume(routing, ctx).catch((err) => {
            if (!(err instanceof errors.InvalidGrant)) throw err;
            ctx.status = 400;
            ctx.body = { error: 'invalid_grant', error_description: 'refresh token already used' };
          });
        },
        throttle,
        devicePollPace(protection),
      ],
      introspection: [throttle, introspect],
      revocation: [throttle],
      code_verification: [deviceCodeGuard(protection)],
      end_session: [logoutWithoutSession(provider)],
    }),
  );
  trackSessions(provider, db, reads, logger);
  watchFailures(provider, attemptedClientId);
  installSecretComparison(provider, {
    requestIp: () => Provider.ctx?.ip,
    beforeCompare: (clientId) => refuseBlockedClient(protection, clientId, Provider.ctx?.ip, Provider.ctx),
    onMatch: (clientId, secretId) => usage.record(clientId, secretId),
    onIpRefused: (clientId, ip) => {
      // Marked so the generic invalid_client audit below does not record the same refusal twice.
      const current = Provider.ctx;
      if (current) current.state.ipRefused = true;
      awaitAudit(
        current,
        protection.audit
          .failure({
            type: 'client.token_refused',
            actor: { type: 'client', id: clientId, ip },
            target: { type: 'client', id: clientId },
            data: { reason: 'ip_not_allowed' },
          })
          .catch((err) => logger.warn({ err: err.message }, 'could not audit a refused token request')),
      );
    },
  });
  if (tracing) traceProviderModels(provider, tracing);
  registerTokenExchange(provider, db, reads, apiKeyUsage);
  queueBackchannelLogouts(provider, db);
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: string; error_detail?: string }) => {
    if (err.error !== 'invalid_client' || ctx.state?.ipRefused) return;
    const clientId = attemptedClientId(ctx);
    // A suspended, expired or deleted client looks unknown to oidc-provider; the audit log says which
    // it was (a deletion is known from the log itself: services/audit-log.ts).
    const marked = (ctx.state as FailureMarks | undefined)?.inactiveReason ?? REFUSAL_DETAIL[err.error_detail ?? ''];
    const detail = marked === 'unknown_client' && clientId ? missingClientReason(db, clientId) : Promise.resolve(marked);
    awaitAudit(
      ctx,
      detail
        .then((d) =>
          protection.audit.failure({
            type: 'client.token_refused',
            actor: { type: clientId ? 'client' : 'anonymous', id: clientId, ip: ctx.ip },
            ...(clientId ? { target: { type: 'client', id: clientId } } : {}),
            data: { reason: 'invalid_client', ...(d ? { detail: d } : {}) },
          }),
        )
        .catch((e) => logger.warn({ err: e.message }, 'could not audit a refused token request')),
    );
  });
  // oidc-provider revokes a grant at logout, at RFC 7009 revocation of a refresh token and when a
  // spent refresh token comes back (RFC 9700 §4.14.2): resource servers hear of it (Shared Signals).
  const REVOKED_BY: Record<string, string> = { end_session: 'logout', revocation: 'revoked by the client (RFC 7009)', token: 'refresh token reused' };
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const user = ctx.oidc?.session?.accountId ?? ctx.oidc?.entities?.RefreshToken?.accountId;
    awaitAudit(
      ctx,
      recordGrantRevoked(db, grantId, { user }, REVOKED_BY[ctx.oidc?.route ?? ''] ?? 'grant revoked').catch((err) =>
        logger.error({ err: err.message }, 'could not record a grant revocation for resource servers'),
      ),
    );
  });
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    logger.error({ err, route: ctx.oidc?.route, reqId: ctx.state?.requestId }, 'oidc-provider server_error');
  });
  return provider;
}
