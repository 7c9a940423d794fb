import type { Queryable } from '../db/database.js';
import { markBuiltinApi, upsertApi } from '../store/apis.js';

export { MANAGEMENT_SCOPES } from './permissions.js';
import { MANAGEMENT_SCOPES } from './permissions.js';

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
  await markBuiltinApi(db, managementApiIdentifier(issuer));
}
