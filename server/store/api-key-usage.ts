import type { Queryable } from '../db/database.js';

/** What one node counted since its last flush. */
export interface UsageBatch {
  /** Requests per key and UTC day (YYYY-MM-DD). */
  counts: { keyId: string; day: string; count: number }[];
  /** The latest use per key and address. */
  addresses: { keyId: string; ip: string; at: Date }[];
}

/** How many distinct addresses are kept per key, and how many days of counts. */
export const ADDRESSES_KEPT = 10;
export const DAYS_KEPT = 90;

/**
 * Adds a node's counts in one statement: counts are added to what other nodes wrote (ON CONFLICT
 * adds), addresses keep their latest time. Keys revoked meanwhile are skipped (the join), so a flush
 * never fails on a key that is gone. Old days and all but the newest addresses of the keys written
 * are pruned in the same statement; it sees the table as it was before this flush, so a key may
 * briefly hold a few more than ADDRESSES_KEPT.
 */
export async function addUsage(db: Queryable, batch: UsageBatch): Promise<void> {
  await db.query(
    `WITH counted AS (
       INSERT INTO api_key_usage (key_id, day, count)
       SELECT u.key_id, u.day, u.count
         FROM unnest($1::uuid[], $2::date[], $3::bigint[]) AS u(key_id, day, count)
         JOIN api_keys k ON k.id = u.key_id
       ON CONFLICT (key_id, day) DO UPDATE SET count = api_key_usage.count + EXCLUDED.count
     ), seen AS (
       INSERT INTO api_key_addresses (key_id, ip, last_seen_at)
       SELECT a.key_id, a.ip, a.at
         FROM unnest($4::uuid[], $5::text[], $6::timestamptz[]) AS a(key_id, ip, at)
         JOIN api_keys k ON k.id = a.key_id
       ON CONFLICT (key_id, ip) DO UPDATE SET last_seen_at = GREATEST(api_key_addresses.last_seen_at, EXCLUDED.last_seen_at)
     ), old_days AS (
       DELETE FROM api_key_usage WHERE key_id = ANY($1::uuid[]) AND day < (now() AT TIME ZONE 'UTC')::date - ${DAYS_KEPT}
     )
     DELETE FROM api_key_addresses d
      WHERE d.key_id = ANY($4::uuid[])
        AND (d.key_id, d.ip) NOT IN (
          SELECT key_id, ip FROM (
            SELECT key_id, ip, row_number() OVER (PARTITION BY key_id ORDER BY last_seen_at DESC) AS n
              FROM api_key_addresses WHERE key_id = ANY($4::uuid[])
          ) ranked WHERE n <= ${ADDRESSES_KEPT}
        )`,
    [
      batch.counts.map((c) => c.keyId), batch.counts.map((c) => c.day), batch.counts.map((c) => c.count),
      batch.addresses.map((a) => a.keyId), batch.addresses.map((a) => a.ip), batch.addresses.map((a) => a.at),
    ],
  );
}

/** Requests per UTC day since `since` (YYYY-MM-DD), oldest first; days without use are absent. */
export async function findUsageByDay(db: Queryable, keyId: string, since: string): Promise<{ day: string; count: number }[]> {
  const { rows } = await db.query<{ day: string; count: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, count::text FROM api_key_usage WHERE key_id = $1 AND day >= $2::date ORDER BY day`,
    [keyId, since],
  );
  return rows.map((r) => ({ day: r.day, count: Number(r.count) }));
}

/** The newest addresses first. */
export async function findRecentAddresses(db: Queryable, keyId: string): Promise<{ ip: string; lastSeenAt: Date }[]> {
  const { rows } = await db.query<{ ip: string; last_seen_at: Date }>(
    `SELECT ip, last_seen_at FROM api_key_addresses WHERE key_id = $1 ORDER BY last_seen_at DESC LIMIT ${ADDRESSES_KEPT}`,
    [keyId],
  );
  return rows.map((r) => ({ ip: r.ip, lastSeenAt: new Date(r.last_seen_at) }));
}
