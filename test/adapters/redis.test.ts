import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisArtifactStore } from '../../adapters/redis.js';
import { artifactStoreContract } from './contract.js';
import { deleteKeysWithPrefix } from '../support/redis.js';

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
