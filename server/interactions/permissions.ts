import type { Queryable } from '../db/database.js';
import { findApiByIdentifier } from '../store/apis.js';
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
