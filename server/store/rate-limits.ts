import type { Queryable } from '../db/database.js';

/** The table rate-limiter-flexible's RateLimiterPostgres keeps its counters in (migration 007). */
export const RATE_LIMITS_TABLE = 'rate_limits';

/**
 * RateLimiterPostgres speaks to a pg-style client ({ text, values } → { rows, rowCount }); this hands
 * its queries to our Database, so the same counters work on a pg Pool and on the embedded PGlite.
 * Its statement names (prepared statements) are dropped: our pool does not prepare.
 */
export function limiterClient(db: Queryable) {
  return {
    query: (q: { text: string; values?: unknown[] }) => db.query(q.text, q.values),
  };
}

/** Forgets every counter whose key starts with prefix (an administrator's unlock of one account). */
export async function deleteRateLimitsByPrefix(db: Queryable, prefix: string): Promise<void> {
  const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  await db.query(`DELETE FROM ${RATE_LIMITS_TABLE} WHERE key LIKE $1`, [`${escaped}%`]);
}
