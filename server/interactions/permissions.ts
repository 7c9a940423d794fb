import type { Queryable } from '../db/database.js';
import { findApiByIdentifier, findApisByScopes } from '../store/apis.js';
import { isOidcScope, splitScope } from '../services/scope-names.js';
import { permissionsOfUser } from '../store/roles.js';
import type { Permission } from '../../views/consent.js';

const IDENTITY: Record<string, string> = {
  openid: 'Know who you are when you sign in',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected when you are not using it',
};

const VERBS: Record<string, string> = {
  read: 'View',
  write: 'Create and change',
  delete: 'Delete',
  admin: 'Administer',
};

/** `orders:read` → "View orders" when the API gives no description. */
function describe(scope: string): string {
  const [resource, action] = scope.split(':');
  if (!action) return scope;
  const verb = VERBS[action] ?? action.charAt(0).toUpperCase() + action.slice(1);
  return `${verb} ${resource.replace(/[-_]/g, ' ')}`;
}

/** What the consent page lists, in plain words, for the scopes still missing from the grant. */
export async function permissionsFor(
  db: Queryable,
  oidcScopes: readonly string[],
  resourceScopes: Record<string, readonly string[]>,
): Promise<Permission[]> {
  const out: Permission[] = oidcScopes.filter((s) => IDENTITY[s]).map((s) => ({ scope: s, text: IDENTITY[s] }));
  for (const [identifier, scopes] of Object.entries(resourceScopes)) {
    const api = await findApiByIdentifier(db, identifier);
    const descriptions = new Map(api?.scopes.map((s) => [s.name, s.description]) ?? []);
    for (const scope of scopes) {
      out.push({ scope, text: descriptions.get(scope) || describe(scope), api: api?.name ?? identifier });
    }
  }
  return out;
}

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/**
 * A user can consent only to what they may hold: on APIs that enforce roles, scopes outside the
 * user's role permissions right now are dropped (and an API left with none is dropped too).
 * oidc-provider does not ask for them in the first place (getResourceServerInfo in
 * server/oidc/resources.ts leaves them out of the API's scopes for this user, so they are never
 * "missing" and consent cannot loop); this keeps the page and the grant right on their own.
 */
export async function withinRoles(
  db: Queryable,
  accountId: string,
  resourceScopes: Record<string, readonly string[]>,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  let permitted: Set<string> | undefined;
  for (const [identifier, scopes] of Object.entries(resourceScopes)) {
    const api = await findApiByIdentifier(db, identifier);
    if (api?.enforceRoles) permitted ??= await permissionsOfUser(db, accountId);
    const kept = api?.enforceRoles ? scopes.filter((s) => permitted!.has(s)) : [...scopes];
    if (kept.length) out[identifier] = kept;
  }
  return out;
}

/**
 * The scopes the consent page asks about: those the grant is missing. When nothing is missing the
 * page is shown because the application sent prompt=consent (OIDC Core §3.1.2.1), which asks the
 * user to confirm again; then it lists everything requested that the user may grant, not an empty list.
 */
export async function scopesToConfirm(
  db: Queryable,
  details: ConsentDetails,
  requestedScope: unknown,
  accountId: string | undefined,
): Promise<{ oidcScopes: string[]; resourceScopes: Record<string, string[]> }> {
  const within = (r: Record<string, readonly string[]>) => (accountId ? withinRoles(db, accountId, r) : Promise.resolve({}));
  const oidcScopes = details.missingOIDCScope ?? [];
  const missing = details.missingResourceScopes ?? {};
  if (oidcScopes.length || Object.keys(missing).length) return { oidcScopes, resourceScopes: await within(missing) };
  const requested = splitScope(requestedScope);
  const apiScopes = requested.filter((s) => !isOidcScope(s));
  const byResource: Record<string, string[]> = {};
  for (const api of await findApisByScopes(db, apiScopes)) {
    const own = new Set(api.scopes.map((s) => s.name));
    byResource[api.identifier] = apiScopes.filter((s) => own.has(s));
  }
  return { oidcScopes: requested.filter(isOidcScope), resourceScopes: await within(byResource) };
}
