import type { Queryable } from '../db/database.js';
import { findApiByIdentifier, findApisByScopes } from '../store/apis.js';
import { isOidcScope, splitScope } from '../oidc/scopes.js';
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
 * The scopes the consent page asks about: those the grant is missing. When nothing is missing the
 * page is shown because the application sent prompt=consent (OIDC Core §3.1.2.1), which asks the
 * user to confirm again; then it lists everything requested, not an empty list.
 */
export async function scopesToConfirm(
  db: Queryable,
  details: ConsentDetails,
  requestedScope: unknown,
): Promise<{ oidcScopes: string[]; resourceScopes: Record<string, string[]> }> {
  const oidcScopes = details.missingOIDCScope ?? [];
  const resourceScopes = details.missingResourceScopes ?? {};
  if (oidcScopes.length || Object.keys(resourceScopes).length) return { oidcScopes, resourceScopes };
  const requested = splitScope(requestedScope);
  const apiScopes = requested.filter((s) => !isOidcScope(s));
  const byResource: Record<string, string[]> = {};
  for (const api of await findApisByScopes(db, apiScopes)) {
    const own = new Set(api.scopes.map((s) => s.name));
    byResource[api.identifier] = apiScopes.filter((s) => own.has(s));
  }
  return { oidcScopes: requested.filter(isOidcScope), resourceScopes: byResource };
}
