import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../server/config.js';
import { WEB, baseSeed } from '../support/fixtures.js';
import { authorize } from '../support/code-flow.js';
import { countKeysWithPrefix, withRedis } from '../support/redis.js';
import { startServer } from '../support/server.js';

/**
 * Everything a node writes to Redis is under REDIS_PREFIX (default `gatehouse:`), so deployments
 * and test runs can share one Redis without reading or deleting each other's keys. Test servers use
 * a prefix of their own and delete it when they are destroyed.
 */
describe('REDIS_PREFIX', function () {
  this.timeout(60_000);

  it('is `gatehouse:` unless set, and refuses characters that would need quoting', () => {
    const base = { COOKIE_SECRETS: 'x'.repeat(32), KEY_ENCRYPTION_SECRET: 'y'.repeat(32) };
    expect(loadConfig(base).redisPrefix).to.equal('gatehouse:');
    expect(loadConfig({ ...base, REDIS_PREFIX: 'staging:gatehouse:' }).redisPrefix).to.equal('staging:gatehouse:');
    expect(() => loadConfig({ ...base, REDIS_PREFIX: 'has space*' })).to.throw(/REDIS_PREFIX: must be 1-64 letters/);
  });

  const redisUrl = process.env.REDIS_URL;
  (redisUrl ? it : it.skip)(
    redisUrl ? 'a server writes only under its prefix, and a test server deletes its keys on destroy' : 'a server writes only under its prefix (skipped: the embedded default has no Redis; set REDIS_URL)',
    async () => {
      const prefix = `gatehouse-prefix-test:${randomBytes(4).toString('hex')}:`;
      const count = (p: string) => withRedis(redisUrl!, (redis) => countKeysWithPrefix(redis, p));
      const productionBefore = await count('gatehouse:');
      const server = await startServer({ seed: baseSeed(), env: { REDIS_PREFIX: prefix } });
      try {
        expect(server.redisPrefix).to.equal(prefix);
        // A sign-in leaves a session and a code in Redis.
        await authorize(server, { client: WEB, scope: 'openid' });
        expect(await count(prefix)).to.be.greaterThan(0);
        expect(await count('gatehouse:'), 'keys under the production prefix').to.equal(productionBefore);
      } finally {
        await server.destroy();
      }
      expect(await count(prefix), 'keys left after destroy()').to.equal(0);
    },
  );
});
