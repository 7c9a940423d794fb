import { PostgresArtifactStore } from '../../adapters/postgres.js';
import type { Queryable } from '../db/database.js';

/**
 * Revocation of the durable OAuth artifacts (grants and refresh tokens, RFC 6749 §10.4, and browser
 * sessions where they live in the database) through the storage contract, inside the caller's
 * transaction so the revocation commits with the change that causes it. Redis holds only what
 * cannot outlive these: codes and sessions. A code is refused once its grant is gone; a session is
 * refused by sessions_valid_after (users) or because its client is gone (clients).
 */
const BY_ACCOUNT = ['Grant', 'RefreshToken', 'Session'] as const;
const BY_CLIENT = ['Grant', 'RefreshToken'] as const;

export async function revokeAccountArtifacts(tx: Queryable, accountId: string): Promise<number> {
  const store = new PostgresArtifactStore(tx);
  let count = 0;
  for (const model of BY_ACCOUNT) count += await store.revokeByAccountId(model, accountId);
  return count;
}

export async function revokeClientArtifacts(tx: Queryable, clientId: string): Promise<number> {
  const store = new PostgresArtifactStore(tx);
  let count = 0;
  for (const model of BY_CLIENT) count += await store.revokeByClientId(model, clientId);
  return count;
}

/** What one client holds for one account: a person withdrawing their consent from an app. */
export async function revokeAccountClientArtifacts(tx: Queryable, accountId: string, clientId: string): Promise<number> {
  const store = new PostgresArtifactStore(tx);
  let count = 0;
  for (const model of BY_CLIENT) count += await store.revokeByAccountAndClient(model, accountId, clientId);
  return count;
}
