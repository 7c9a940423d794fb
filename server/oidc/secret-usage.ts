import type { Queryable } from '../db/database.js';
import type { Logger } from '../logger.js';
import { touchClientSecret } from '../store/clients.js';

/**
 * "Last used" for clients and their secrets, written at most once a minute per secret and off the
 * request path: a token request never waits on it and a busy client does not write on every call.
 */
export function secretUsage(db: Queryable, logger: Logger, everyMs = 60_000) {
  const lastWrite = new Map<string, number>();
  return {
    record(clientId: string, secretId: string) {
      const now = Date.now();
      if (now - (lastWrite.get(secretId) ?? 0) < everyMs) return;
      lastWrite.set(secretId, now);
      touchClientSecret(db, clientId, secretId).catch((err) => logger.warn({ err: err.message }, 'could not record secret use'));
    },
  };
}
