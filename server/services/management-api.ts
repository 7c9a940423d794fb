import type { Database, Queryable } from '../db/database.js';
import { deleteApiRow, markBuiltinApi, upsertApi } from '../store/apis.js';
import { addResourceServers, apiIdByIdentifier, lockOtherBuiltinApis, renameApi } from '../store/builtin-apis.js';
import { recordAudit } from './audit.js';
import { systemPrincipal } from './principal.js';

export { MANAGEMENT_SCOPES } from './permissions.js';
import { MANAGEMENT_SCOPES } from './permissions.js';

const MANAGEMENT_API_PATH = '/api/v1';
export const managementApiIdentifier = (issuer: string) => `${issuer}${MANAGEMENT_API_PATH}`;

/**
 * Registers the Management API at start (idempotent), so that its scopes can be granted like any
 * other API's and its tokens are ordinary RFC 9068 JWTs with aud = $ISSUER/api/v1. When ISSUER has
 * changed, the API registered under the old one is retired first, in the same transaction: there is
 * only ever one built-in Management API.
 */
export async function ensureManagementApi(db: Database, issuer: string): Promise<void> {
  const identifier = managementApiIdentifier(issuer);
  await db.transaction(async (tx) => {
    await retireEarlierBuiltinApis(tx, identifier, MANAGEMENT_API_PATH);
    await upsertApi(tx, {
      identifier,
      name: 'Gatehouse Management API',
      scopes: Object.entries(MANAGEMENT_SCOPES).map(([name, description]) => ({ name, description })),
      accessTokenTtl: 900,
    });
    await markBuiltinApi(tx, identifier);
  });
}

/**
 * A built-in API (the Management API, `/api/v1`; Shared Signals, `/ssf`) of an earlier ISSUER moves to
 * the new identifier: the same row (its settings and
 * the resource servers allowed to introspect its tokens stay), renamed. Should both exist (a server
 * that started with the new ISSUER before this step existed), the old one's resource servers join
 * the new one's and the old row goes. Scopes are granted by name (clients, roles, API keys), so
 * every grant now belongs to the new API. Audited as the system.
 */
export async function retireEarlierBuiltinApis(tx: Queryable, identifier: string, path: string): Promise<void> {
  const actor = systemPrincipal('server').actor;
  for (const old of await lockOtherBuiltinApis(tx, identifier, path)) {
    const current = await apiIdByIdentifier(tx, identifier);
    if (!current) {
      await renameApi(tx, old.id, identifier);
      await recordAudit(tx, { type: 'api.moved', actor, target: { type: 'api', id: old.id }, data: { from: old.identifier, to: identifier, reason: 'issuer_changed' } });
      continue;
    }
    await addResourceServers(tx, identifier, old.resource_servers);
    await deleteApiRow(tx, old.id);
    await recordAudit(tx, {
      type: 'api.retired',
      actor,
      target: { type: 'api', id: old.id },
      data: { identifier: old.identifier, replaced_by: identifier, resource_servers: old.resource_servers, reason: 'issuer_changed' },
    });
  }
}
