import type { Database, Queryable } from '../../db/database.js';
import { retireEarlierBuiltinApis } from '../management-api.js';
import { clientHoldings } from '../credentials.js';
import { enforcedScopes, markBuiltinApi, upsertApi } from '../../store/apis.js';
import type { ClientRecord } from '../../store/clients.js';

/** The scope a receiver's client needs to manage its streams and poll them. */
export const SSF_SCOPE = 'ssf:stream';

const SSF_API_PATH = '/ssf';
export const ssfApiIdentifier = (issuer: string) => `${issuer}${SSF_API_PATH}`;

/**
 * Registers the Shared Signals API at start (idempotent): receivers authenticate to the stream
 * management and poll endpoints with a client-credentials token for it (aud = $ISSUER/ssf, scope
 * ssf:stream), so granting a client that scope is what makes it a receiver.
 *
 * It enforces roles (apis.enforce_roles), so the delegation rule (services/delegation.ts) guards
 * ssf:stream: only someone who holds it through a role, or administers APIs (apis:write), may give it
 * to a client, and a client made by a user keeps it only while its owner does. What a receiver learns
 * confers no access, but it is about people: which users were deactivated or deleted and when their
 * passwords changed, which users:read or audit:read would otherwise govern; a clients:write holder
 * must not be able to read it by making a client. No further role is asked of the receiver itself:
 * it is a service acting for itself, and it sees only its own streams (services/ssf/streams.ts).
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
    await markBuiltinApi(tx, identifier, true);
  });
}

/**
 * Whether the client holds ssf:stream now (its registered scopes, within its owner's current roles):
 * a receiver's token stops working for stream management and polls as soon as the scope is taken
 * from the client or from its owner, not when the token expires.
 */
export async function holdsStreamScope(q: Queryable, client: ClientRecord): Promise<boolean> {
  return (await clientHoldings(q, client, await enforcedScopes(q, [SSF_SCOPE]))).has(SSF_SCOPE);
}
