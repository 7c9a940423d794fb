import type { Queryable } from '../db/database.js';
import { allEnforcedScopes, enforcedScopes } from '../store/apis.js';
import { findRoles, permissionsOfRolesOfUser } from '../store/roles.js';
import { ApiError } from './errors.js';
import { MANAGEMENT_SCOPES } from './permissions.js';
import type { Principal } from './principal.js';

/**
 * The delegation rule: no credential confers more than its holder has. Every operation that gives
 * a permission to something (an API key, a client, a role, a user) or acts on someone who holds
 * permissions asks here, so the rule lives in one place and holds the same for the Management API,
 * the console, the CLI and the seed file.
 *
 * A permission here is a Management API permission or a scope of an API that enforces roles
 * (apis.enforce_roles): what people hold through roles. Scopes of other APIs are granted to clients
 * by anyone who may edit the client; they are not part of anyone's authority.
 *
 * What a caller holds is what its credential may do at this moment (services/credentials.ts): a user
 * token or API key, its scopes within the user's current roles; a client, its scopes within its
 * owner's current roles. A refusal is 403 insufficient_scope naming what is missing (RFC 6750 §3.1).
 *
 * The scopes of a role-enforcing API are also held by whoever holds apis:write: they define the API
 * and its scopes, so they are its administrators, and without them nobody could ever make the first
 * role that gives such a scope. The Management API's own permissions have no such administrator:
 * they are held only through roles.
 */

const isManagement = (s: string) => Object.hasOwn(MANAGEMENT_SCOPES, s);

/** Of these scopes, the ones the rule guards: Management API permissions and role-enforced API scopes. */
export async function guardedScopes(q: Queryable, scopes: Iterable<string>): Promise<{ management: string[]; enforced: string[] }> {
  const list = [...new Set(scopes)].sort();
  const rest = list.filter((s) => !isManagement(s));
  const enforced = rest.length ? await enforcedScopes(q, rest) : new Set<string>();
  return { management: list.filter(isManagement), enforced: rest.filter((s) => enforced.has(s)) };
}

/** What of these scopes the caller does not hold. */
export async function missingFor(q: Queryable, caller: Principal, scopes: Iterable<string>): Promise<string[]> {
  if (caller.holds === 'everything') return [];
  const holds = caller.holds;
  const { management, enforced } = await guardedScopes(q, scopes);
  const administersApis = holds.has('apis:write');
  return [...management.filter((s) => !holds.has(s)), ...enforced.filter((s) => !holds.has(s) && !administersApis)];
}

export function delegationRefused(missing: string[], what: string, field?: string): ApiError {
  const scope = missing.join(' ');
  return new ApiError(
    403,
    'insufficient_scope',
    `${what} needs ${missing.length > 1 ? 'permissions' : 'the permission'} you do not hold: ${missing.join(', ')}`,
    { 'WWW-Authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"` },
    { scope, missing, ...(field ? { field } : {}) },
  );
}

/** The caller may give these scopes to something only if it holds every guarded one of them. */
export async function assertMayConfer(q: Queryable, caller: Principal, scopes: Iterable<string>, what: string, field?: string): Promise<void> {
  const missing = await missingFor(q, caller, scopes);
  if (missing.length) throw delegationRefused(missing, what, field);
}

/**
 * Acting on a user (their password, email, roles, activation, deletion, API keys) is acting with
 * what they hold: a caller must hold every permission the user's roles give. Roles count whether or
 * not the account is active, or reactivating an administrator would be a way around the rule.
 */
export async function assertMayActOnUser(q: Queryable, caller: Principal, userId: string): Promise<void> {
  if (caller.holds === 'everything') return;
  await assertMayConfer(q, caller, await permissionsOfRolesOfUser(q, userId), 'acting on this user (they hold more than you)');
}

/** Giving someone roles confers every permission in them. */
export async function assertMayGiveRoles(q: Queryable, caller: Principal, roleNames: readonly string[]): Promise<void> {
  if (caller.holds === 'everything' || !roleNames.length) return;
  const roles = await findRoles(q, roleNames);
  await assertMayConfer(q, caller, roles.flatMap((r) => r.permissions), `giving the role${roleNames.length > 1 ? 's' : ''} ${roleNames.join(', ')}`, 'roles');
}

/**
 * Every guarded permission the caller may confer now (GET /me): what the console offers, so that it
 * shows the rest as unavailable with the reason instead of letting a request fail.
 */
export async function conferrable(q: Queryable, caller: Principal): Promise<string[]> {
  const all = [...Object.keys(MANAGEMENT_SCOPES), ...(await allEnforcedScopes(q))];
  const missing = new Set(await missingFor(q, caller, all));
  return [...new Set(all)].filter((s) => !missing.has(s)).sort();
}
