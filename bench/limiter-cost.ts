import { Redis } from 'ioredis';
import { loadConfig } from '../server/config.js';
import type { Database } from '../server/db/database.js';
import { createLogger } from '../server/logger.js';
import { FailureLimit, blockAt } from '../server/services/protection/failure-limit.js';
import { createProtection } from '../server/services/protection/index.js';
import { limiterStore } from '../server/services/protection/limiter-store.js';

/**
 * What the limits cost a good token request, measured on the real store (Redis): the checks such a
 * request makes (its address against two limits, its client_id and address against one), timed in
 * this process. In the steady state each answer "not refused" is trusted for a second, so most
 * requests make no round trip; the uncached figure is the cost of the one request per second and
 * key that does.
 */
export async function limiterCost(db: Database, redisUrl: string): Promise<{ cachedMicros: number; uncachedMicros: number }> {
  const redis = new Redis(redisUrl);
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const issuer = `http://limiter-cost.bench/${Date.now()}`;
  const config = loadConfig({ ISSUER: issuer, COOKIE_SECRETS: 'x'.repeat(32), KEY_ENCRYPTION_SECRET: 'x'.repeat(32) });
  try {
    const protection = createProtection(db, redis, issuer, config.protection, createLogger('silent'));
    const goodRequest = (i: number) =>
      protection.refuseIfBlocked([
        [protection.clientAuthAddress, `10.9.${(i >> 8) & 3}.${i & 255}`],
        [protection.credentials, `10.9.${(i >> 8) & 3}.${i & 255}`],
        [protection.clientAuth, `bench-service|10.9.${(i >> 8) & 3}.${i & 255}`],
      ]);
    // 1024 addresses, each seen many times: the cache's steady state.
    for (let i = 0; i < 1024; i++) await goodRequest(i);
    const n = 50_000;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await goodRequest(i % 1024);
    const cachedMicros = ((performance.now() - t0) * 1000) / n;

    const store = limiterStore(db, redis, issuer);
    const uncached = [0, 1, 2].map((k) => new FailureLimit(store, true, { name: `bench-${k}`, windowSeconds: 60, waitAfter: blockAt(10, 60) }));
    const m = 3000;
    t0 = performance.now();
    for (let i = 0; i < m; i++) await Promise.all(uncached.map((l) => l.retryAfter(`10.8.${(i >> 8) & 255}.${i & 255}`)));
    const uncachedMicros = ((performance.now() - t0) * 1000) / m;
    await protection.close();
    return { cachedMicros, uncachedMicros };
  } finally {
    redis.disconnect();
  }
}
