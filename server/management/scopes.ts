import type { Queryable } from '../db/database.js';
import { upsertApi } from '../store/apis.js';

/** The Management API's own permissions (issue: credential management), each a `resource:action` scope. */
export const MANAGEMENT_SCOPES: Record<string, string> = {
  'clients:read': 'View API credentials (clients)',
  'clients:write': 'Create, change, rotate and revoke API credentials',
  'apis:read': 'View registered APIs and their scopes',
  'apis:write': 'Register and change APIs',
  'users:read': 'View users',
  'users:write': 'Create and change users and their roles; manage other users’ API keys',
  'users:delete': 'Delete users',
  'roles:read': 'View roles',
  'roles:write': 'Create and change roles',
  'api-keys:read': 'View API keys',
  'api-keys:write': 'Create and revoke your API keys',
  'audit:read': 'Read the audit log',
  'keys:write': 'Rotate the signing keys',
};

export const managementApiIdentifier = (issuer: string) => `${issuer}/api/v1`;

/**
 * Registers the Management API at start (idempotent), so that its scopes can be granted like any
 * other API's and its tokens are ordinary RFC 9068 JWTs with aud = $ISSUER/api/v1.
 */
export async function ensureManagementApi(db: Queryable, issuer: string): Promise<void> {
  await upsertApi(db, {
    identifier: managementApiIdentifier(issuer),
    name: 'Gatehouse Management API',
    scopes: Object.entries(MANAGEMENT_SCOPES).map(([name, description]) => ({ name, description })),
    accessTokenTtl: 900,
  });
  await db.query('UPDATE apis SET builtin = true, enforce_roles = true WHERE identifier = $1', [managementApiIdentifier(issuer)]);
}
