import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisArtifactStore } from '../../adapters/redis.js';
import { artifactStoreContract } from './contract.js';

/** Deletes every key under the prefix (SCAN, never KEYS: the Redis is shared). */
async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

if (!process.env.REDIS_URL) {
  describe('ArtifactStore contract: redis', () => {
    it.skip('skipped: set REDIS_URL to a real Redis to run it');
  });
} else {
  artifactStoreContract('redis (real server, unique key prefix)', async () => {
    const redis = new Redis(process.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    // Other people use this Redis: everything this run writes lives under its own prefix.
    const prefix = `gatehouse-test:${randomBytes(6).toString('hex')}:`;
    return {
      store: new RedisArtifactStore(redis, prefix),
      async close() {
        try {
          await deleteKeysWithPrefix(redis, prefix);
        } finally {
          await redis.quit();
        }
      },
    };
  });
}
