import type { Database } from '../../db/database.js';
import { retireEarlierBuiltinApis } from '../management-api.js';
import { markBuiltinApi, upsertApi } from '../../store/apis.js';

/** The scope a receiver's client needs to manage its streams and poll them. */
export const SSF_SCOPE = 'ssf:stream';

const SSF_API_PATH = '/ssf';
export const ssfApiIdentifier = (issuer: string) => `${issuer}${SSF_API_PATH}`;

/**
 * Registers the Shared Signals API at start (idempotent): receivers authenticate to the stream
 * management and poll endpoints with a client-credentials token for it (aud = $ISSUER/ssf, scope
 * ssf:stream), so granting a client that scope is what makes it a receiver. It does not enforce
 * roles: a receiver is a service, and what it learns (ids of users, clients, grants and keys whose
 * access ended) confers no access.
 */
export async function ensureSsfApi(db: Database, issuer: string): Promise<void> {
  const identifier = ssfApiIdentifier(issuer);
  await db.transaction(async (tx) => {
    // After an ISSUER change the receivers' grants and resource servers follow, as for the Management API.
    await retireEarlierBuiltinApis(tx, identifier, SSF_API_PATH);
    await upsertApi(tx, {
      identifier,
      name: 'Gatehouse Shared Signals',
      scopes: [{ name: SSF_SCOPE, description: 'Receive security events (revocations) through Shared Signals streams' }],
      accessTokenTtl: 900,
    });
    await markBuiltinApi(tx, identifier, false);
  });
}
