import type { Queryable } from '../db/database.js';
import { type ClientRecord, findClient } from '../store/clients.js';
import { enforcedScopes } from '../store/apis.js';
import { permissionsOfUser } from '../store/roles.js';
import { findUserById } from '../store/users.js';
import type { VerifiedApiKey } from './api-key-check.js';
import { CONSOLE_CLIENT_ID } from './console-client.js';
import { MANAGEMENT_SCOPES } from './permissions.js';
import type { Principal } from './principal.js';
import { splitScope } from './scope-names.js';

/**
 * What a verified credential may do right now, as a Principal: the one definition of "what this
 * credential holds", used by the route guards (permissions) and by the delegation rule (holds).
 * Everything is read at the time of the request, so a role, scope or owner change applies at once.
 */

const isManagement = (s: string) => Object.hasOwn(MANAGEMENT_SCOPES, s);
const within = (scopes: Iterable<string>, allowed: ReadonlySet<string>) => new Set([...scopes].filter((s) => allowed.has(s)));

/**
 * A user's access token. Its Management API permissions are its scopes within the user's roles.
 * The console is the person at the keyboard: its token, whose audience is the Management API alone,
 * also holds the scopes of role-enforcing APIs the person's roles give, so they can hand those on
 * (within their roles). Any other client's token holds only what it carries: an application a user
 * let manage clients for them cannot give away the user's other permissions.
 */
export async function userTokenPrincipal(
  q: Queryable,
  token: { userId: string; clientId: string; scopes: readonly string[]; ip: string },
): Promise<Principal | undefined> {
  const user = await findUserById(q, token.userId);
  if (!user || !user.active) return undefined;
  const roles = await permissionsOfUser(q, user.id);
  const permissions = within(token.scopes.filter(isManagement), roles);
  const holds = new Set(permissions);
  if (token.clientId === CONSOLE_CLIENT_ID) for (const p of roles) if (!isManagement(p)) holds.add(p);
  return { kind: 'user', id: user.id, userId: user.id, ownerId: user.id, permissions, holds, actor: { type: 'user', id: user.id, ip: token.ip } };
}

/** An API key: its scopes within its owner's current roles (checkApiKey has verified it). */
export function apiKeyPrincipal(verified: VerifiedApiKey, ip: string): Principal {
  const { key, owner, rolePermissions } = verified;
  const held = within(key.scopes, rolePermissions);
  return {
    kind: 'api_key',
    id: key.id,
    userId: owner.id,
    ownerId: owner.id,
    permissions: new Set([...held].filter(isManagement)),
    holds: held,
    actor: { type: 'api_key', id: key.id, ip },
  };
}

/**
 * What a client may hold now: its registered scopes, within its owner's current roles where roles
 * apply (the Management API and APIs that enforce roles; `enforced` names those scopes). A client
 * made by an operator tool has no owner and is bounded by its scopes alone. A deactivated owner has
 * no roles, so their clients lose every role-bound scope at once.
 */
export async function clientHoldings(q: Queryable, client: ClientRecord, enforced: ReadonlySet<string>): Promise<Set<string>> {
  const scopes = splitScope(client.metadata.scope);
  if (!client.createdBy) return new Set(scopes);
  const roles = await permissionsOfUser(q, client.createdBy);
  return new Set(scopes.filter((s) => !(isManagement(s) || enforced.has(s)) || roles.has(s)));
}

/** A client's own (client credentials) token: what it carries within what the client holds now. */
export async function clientTokenPrincipal(
  q: Queryable,
  client: ClientRecord,
  token: { scopes: readonly string[]; ip: string },
  enforced: ReadonlySet<string>,
): Promise<Principal> {
  const holdings = await clientHoldings(q, client, enforced);
  const permissions = within(token.scopes.filter(isManagement), holdings);
  // Its Management API permissions are what this token carries; other APIs' scopes it could get a
  // token for at any time, so it holds them as the client does.
  const holds = new Set([...permissions, ...[...holdings].filter((s) => !isManagement(s))]);
  return {
    kind: 'client',
    id: client.clientId,
    ownerId: client.createdBy ?? undefined,
    permissions,
    holds,
    actor: { type: 'client', id: client.clientId, ip: token.ip },
  };
}

/**
 * The principal behind a verified Management API access token (RFC 9068 claims), or why it is
 * refused: the issuing client must still exist and be enabled, and the user be active, so revocation
 * reaches the Management API at once.
 */
export async function principalForAccessToken(
  q: Queryable,
  claims: { sub: string; clientId: string; scopes: readonly string[] },
  ip: string,
): Promise<Principal | { refused: string }> {
  const client = await findClient(q, claims.clientId);
  if (!client || !client.enabled || (client.expiresAt && client.expiresAt.getTime() <= Date.now())) {
    return { refused: 'the client this token was issued to has been revoked' };
  }
  if (claims.sub === claims.clientId) {
    // Client credentials: what the client may be granted now bounds what the token still does.
    const enforced = await enforcedScopes(q, splitScope(client.metadata.scope));
    return clientTokenPrincipal(q, client, { scopes: claims.scopes, ip }, enforced);
  }
  const principal = await userTokenPrincipal(q, { userId: claims.sub, clientId: claims.clientId, scopes: claims.scopes, ip });
  return principal ?? { refused: 'the user this token was issued to is deactivated' };
}
