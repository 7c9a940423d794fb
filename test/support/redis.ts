import { Redis } from 'ioredis';

/** The keys under a prefix, a batch at a time (SCAN, never KEYS: the Redis is shared with other runs and people). */
async function* keysWithPrefix(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) yield keys;
  } while (cursor !== '0');
}

/** Deletes every key under the prefix (never FLUSHDB); returns how many it deleted. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of keysWithPrefix(redis, prefix)) deleted += await redis.del(...keys);
  return deleted;
}

/** Runs fn on a connection of its own (a test server's own one may be closed, or cut by a proxy, by then). */
export async function withRedis<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** How many keys exist under the prefix. */
export async function countKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let count = 0;
  for await (const keys of keysWithPrefix(redis, prefix)) count += keys.length;
  return count;
}
