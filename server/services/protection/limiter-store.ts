import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Database } from '../../db/database.js';
import { StorageUnavailableError } from '../../db/errors.js';
import { RATE_LIMITS_TABLE, deleteRateLimitsByPrefix, limiterClient } from '../../store/rate-limits.js';

/**
 * Where failure counters live: Redis when there is one, otherwise the database, so that every node
 * sees the same counts (a limit per node would multiply by the number of nodes). The counting itself
 * is rate-limiter-flexible's (atomic INCR + expiry in Redis, an upsert in Postgres).
 */
export interface LimiterStore {
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  /** Deletes every counter of `name` whose key starts with keyPrefix. */
  forget(name: string, keyPrefix: string): Promise<void>;
}

/**
 * Redis keys are named per issuer: the nodes of one deployment share an ISSUER and so their counts,
 * while another deployment (or a test server) on the same Redis counts on its own.
 */
// Under the deployment's REDIS_PREFIX too, so that whatever removes a deployment's keys removes these.
const redisPrefix = (prefix: string, issuer: string) => `${prefix}rl:${createHash('sha256').update(issuer).digest('base64url').slice(0, 12)}`;

export function limiterStore(db: Database, redis: Redis | undefined, issuer: string, prefix = 'gatehouse:'): LimiterStore {
  const REDIS_PREFIX = redisPrefix(prefix, issuer);
  if (redis) {
    return {
      limiter: (name, points, duration) =>
        // While Redis is away (rejectIfRedisNotReady: at once, not after a timeout) each node counts in
        // its own memory: the library's insurance limiter. Limits then hold per node instead of per
        // deployment, and what needs no Redis (client credentials) keeps working.
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${REDIS_PREFIX}:${name}`,
          points,
          duration,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
        }),
      async forget(name, keyPrefix) {
        const pattern = `${REDIS_PREFIX}:${name}:${keyPrefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
        for await (const keys of redis.scanStream({ match: pattern, count: 500 })) {
          if ((keys as string[]).length) await redis.del(...(keys as string[]));
        }
      },
    };
  }
  return {
    limiter: (name, points, duration) =>
      new RateLimiterPostgres({
        storeClient: limiterClient(db),
        storeType: 'pool',
        tableName: RATE_LIMITS_TABLE,
        tableCreated: true,
        keyPrefix: name,
        points,
        duration,
      }),
    forget: (name, keyPrefix) => deleteRateLimitsByPrefix(db, `${name}:${keyPrefix}`),
  };
}

/**
 * rate-limiter-flexible rejects with a plain Error when its store fails. Such a failure must answer
 * 503 like any other unreachable store, never let a guess through unchecked and never be a 500.
 */
export async function guarded<T>(redis: boolean, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof StorageUnavailableError) throw err;
    throw new StorageUnavailableError(redis ? 'redis' : 'postgres', { cause: err });
  }
}
