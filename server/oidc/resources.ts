import { errors, type KoaContextWithOIDC, type Client, type ResourceServer } from 'oidc-provider';
import type { Api } from '../store/apis.js';
import type { HotReads } from '../store/cache.js';
import { isOidcScope, splitScope } from '../services/scope-names.js';

/**
 * What the token path derives from cached objects, kept beside them: the same Client is handed out
 * while its record is cached (clients.ts, reuseClients), the same Api and list of Apis while theirs
 * are, so each is worked out once per change rather than once per request.
 */
const apiScopesOf = new WeakMap<Client, ReadonlySet<string>>();
const scopesOfApi = new WeakMap<Api, ApiScopes>();
const definedBy = new WeakMap<readonly Api[], ReadonlySet<string>>();

/** The names of the scopes an API defines, in its order and as a set. */
interface ApiScopes {
  names: readonly string[];
  set: ReadonlySet<string>;
}

function remembered<K extends object, V>(memo: WeakMap<K, V>, key: K, make: (key: K) => V): V {
  let value = memo.get(key);
  if (value === undefined) memo.set(key, (value = make(key)));
  return value;
}

/** The API scopes a client may be granted (see EXTRA_CLIENT_METADATA). */
function clientApiScopes(client: Client): ReadonlySet<string> {
  return remembered(apiScopesOf, client, (c) => new Set(splitScope((c as unknown as { gatehouse_api_scopes?: string }).gatehouse_api_scopes)));
}

const apiScopes = (api: Api) =>
  remembered(scopesOfApi, api, (a) => {
    const names = a.scopes.map((s) => s.name);
    return { names, set: new Set(names) };
  });

/** The user who created the client, if a person did (see EXTRA_CLIENT_METADATA). */
const ownerOf = (client: Client) => (client as unknown as { gatehouse_owner?: string }).gatehouse_owner;

const isClientCredentials = (ctx: KoaContextWithOIDC) =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';

/** Requests whose scope parameter we check strictly here; elsewhere the grant already bounds it. */
const strict = (ctx: KoaContextWithOIDC) => ctx.oidc.route === 'authorization' || isClientCredentials(ctx);

const requestedApiScopes = (ctx: KoaContextWithOIDC) => splitScope(ctx.oidc.params?.scope).filter((s) => !isOidcScope(s));

/** The user an authorization or token request acts for, when there is one. */
function accountOf(ctx: KoaContextWithOIDC): string | undefined {
  const { entities, route } = ctx.oidc;
  const fromToken = entities.AuthorizationCode?.accountId ?? entities.RefreshToken?.accountId;
  if (fromToken) return fromToken;
  return route === 'authorization' || route === 'resume' ? ctx.oidc.session?.accountId : undefined;
}

const requestedResources = (ctx: KoaContextWithOIDC): string[] => {
  const r = ctx.oidc.params?.resource;
  return Array.isArray(r) ? r : typeof r === 'string' ? [r] : [];
};

/** Identity scopes describe a user; a client acting for itself has none to ask for. */
function refuseIdentityScopes(ctx: KoaContextWithOIDC) {
  const identity = splitScope(ctx.oidc.params?.scope).find(isOidcScope);
  if (identity) throw new errors.InvalidScope('identity scopes cannot be requested with client credentials', identity);
}

/**
 * RFC 8707 resource indicators backed by the apis table. Access tokens are always RFC 9068 JWTs
 * whose audience is the API identifier; their scope is what the API defines and the client may have.
 */
export function resourceIndicators(reads: HotReads) {
  async function apisOwning(scopes: string[]): Promise<Api[]> {
    const apis = await reads.findApisByScopes(scopes);
    const defined = remembered(definedBy, apis, (list) => new Set(list.flatMap((api) => apiScopes(api).names)));
    const unknown = scopes.find((s) => !defined.has(s));
    // RFC 6749 §3.3 / §5.2: an unknown scope is refused with invalid_scope, never silently dropped.
    if (unknown) throw new errors.InvalidScope('requested scope is not defined by any API', unknown);
    return apis;
  }

  return {
    enabled: true,

    async defaultResource(ctx: KoaContextWithOIDC, client: Client, oneOf?: string[]) {
      // At the token endpoint with several granted resources the client must choose one.
      if (oneOf) return oneOf;
      let scopes = requestedApiScopes(ctx);
      if (isClientCredentials(ctx)) {
        refuseIdentityScopes(ctx);
        if (!scopes.length) scopes = [...clientApiScopes(client)];
        // Every client-credentials token is a JWT for one API; without one there is nothing to issue.
        if (!scopes.length) throw new errors.InvalidScope('the client is granted no API scopes', undefined as never);
      }
      if (!scopes.length) return undefined;
      const identifiers = (await apisOwning(scopes)).map((a) => a.identifier);
      if (isClientCredentials(ctx) && identifiers.length > 1) {
        throw new errors.InvalidTarget('the requested scopes belong to several APIs; name one with the resource parameter');
      }
      return identifiers.length === 1 ? identifiers[0] : identifiers;
    },

    async getResourceServerInfo(ctx: KoaContextWithOIDC, identifier: string, client: Client): Promise<ResourceServer> {
      const api = await reads.findApiByIdentifier(identifier);
      if (!api) throw new errors.InvalidTarget('resource indicator is not a registered API');
      const allowed = clientApiScopes(client);
      const { names: defined, set: ours } = apiScopes(api);
      let grantable = defined.filter((s) => allowed.has(s));
      // For APIs that enforce roles, a user can be given only what their roles allow right now: the
      // consent page never offers the rest (oidc-provider asks only for scopes the API lists here), and
      // a refreshed token loses a permission as soon as the role does.
      const accountId = accountOf(ctx);
      if (api.enforceRoles && accountId) {
        const permitted = await reads.permissionsOfUser(accountId);
        grantable = grantable.filter((s) => permitted.has(s));
      }
      // A client acting for itself holds no more than the person who made it holds now, as their
      // API keys do (issue 8): a deactivated owner has no roles, so their clients lose these scopes
      // at once, on every node. Clients made by the operator's tools have no owner.
      const owner = ownerOf(client);
      if (api.enforceRoles && isClientCredentials(ctx) && owner) {
        const permitted = await reads.permissionsOfUser(owner);
        grantable = grantable.filter((s) => permitted.has(s));
      }

      if (strict(ctx)) {
        if (isClientCredentials(ctx)) refuseIdentityScopes(ctx);
        const requested = requestedApiScopes(ctx);
        if (isClientCredentials(ctx) && !requested.length) {
          // RFC 6749 §3.3: with no scope parameter we use a pre-defined default, which is every
          // scope of this API the client was granted.
          if (!grantable.length) throw new errors.InvalidScope('the client is granted no scope of this API', identifier);
          ctx.oidc.params!.scope = grantable.join(' ');
        }
        const denied = requested.find((s) => ours.has(s) && !allowed.has(s));
        if (denied) throw new errors.InvalidScope('requested scope is not allowed for this client', denied);
        const lost = requested.find((s) => ours.has(s) && !grantable.includes(s));
        if (lost && isClientCredentials(ctx)) throw new errors.InvalidScope("the client's owner does not hold this permission now", lost);
        const others = requested.filter((s) => !ours.has(s));
        if (others.length) {
          const owners = await apisOwning(others);
          const named = new Set(requestedResources(ctx));
          const stray = owners.find((a) => !named.has(a.identifier));
          if (stray || isClientCredentials(ctx)) {
            throw new errors.InvalidScope('requested scope does not belong to the requested resource', others[0]);
          }
        }
      }

      return {
        scope: grantable.join(' '),
        audience: api.identifier,
        accessTokenTTL: api.accessTokenTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: api.signingAlg as 'RS256' } },
      };
    },

    // An app that asked for one API's scopes gets a JWT for that API from the token endpoint without
    // repeating the resource parameter (RFC 8707 §2.2 lets the server choose the default).
    async useGrantedResource() {
      return true;
    },
  };
}
