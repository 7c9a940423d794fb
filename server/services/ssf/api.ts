import type { Queryable } from '../../db/database.js';
import { markBuiltinApi, upsertApi } from '../../store/apis.js';

/** The scope a receiver's client needs to manage its streams and poll them. */
export const SSF_SCOPE = 'ssf:stream';

export const ssfApiIdentifier = (issuer: string) => `${issuer}/ssf`;

/**
 * Registers the Shared Signals API at start (idempotent): receivers authenticate to the stream
 * management and poll endpoints with a client-credentials token for it (aud = $ISSUER/ssf, scope
 * ssf:stream), so granting a client that scope is what makes it a receiver. It does not enforce
 * roles: a receiver is a service, and what it learns (ids of users, clients, grants and keys whose
 * access ended) confers no access.
 */
export async function ensureSsfApi(db: Queryable, issuer: string): Promise<void> {
  await upsertApi(db, {
    identifier: ssfApiIdentifier(issuer),
    name: 'Gatehouse Shared Signals',
    scopes: [{ name: SSF_SCOPE, description: 'Receive security events (revocations) through Shared Signals streams' }],
    accessTokenTtl: 900,
  });
  await markBuiltinApi(db, ssfApiIdentifier(issuer), false);
}
