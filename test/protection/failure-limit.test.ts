import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { FailureLimit, blockAt } from '../../server/services/protection/failure-limit.js';
import { limiterStore } from '../../server/services/protection/limiter-store.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * A failure limit's memory of "not refused" (clearCacheMs) must never outlive a refusal this node
 * imposes: a check reading the store while a failure is being counted gets the answer from before
 * the refusal, and must not keep it. Real stores: Redis with REDIS_URL, else the database's table (where
keys are not named per issuer, hence a new client id in each).
 */
describe('a failure limit that remembers "not refused" (server/services/protection/failure-limit.ts)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({});
  });
  after(async () => {
    await server?.destroy();
  });

  const limit = () =>
    new FailureLimit(limiterStore(server.runtime.db, server.runtime.redis, `http://failure-limit.test/${randomUUID()}`), Boolean(server.runtime.redis), {
      name: 'race',
      windowSeconds: 60,
      waitAfter: blockAt(2, 60),
      clearCacheMs: 60_000,
    });

  /** Lets the other operation get `turns` steps ahead (microtask turns, then one event-loop turn each ten). */
  async function steps(turns: number) {
    for (let i = 0; i < turns; i++) await (i % 10 === 9 ? new Promise((r) => setImmediate(r)) : Promise.resolve());
  }

  it('refuses at once after the failure that reaches the limit, whenever a check reads the store meanwhile', async () => {
    // The check starts at a different moment of the failure's counting in each round: before it, while
    // the count is in flight, between the count and the refusal being stored, after.
    for (let turns = 0; turns < 60; turns++) {
      const failures = limit();
      const key = `client-${randomUUID()}|192.0.2.1`;
      expect(await failures.retryAfter(key)).to.equal(0);
      await failures.fail(key);
      // The second failure refuses the key; the check may see the store before or after that.
      const refusing = failures.fail(key);
      await steps(turns);
      const during = await failures.retryAfter(key);
      await refusing;
      expect(during).to.be.a('number');
      expect(await failures.retryAfter(key), `check started ${turns} turns into the failure`).to.be.greaterThan(0);
      expect(failures.knownClear(key)).to.equal(false);
    }
  });

  it('a key checked clear is answered from memory until a failure, then read again', async () => {
    const failures = limit();
    const key = `client-${randomUUID()}|198.51.100.7`;
    expect(failures.knownClear(key)).to.equal(false);
    expect(await failures.retryAfter(key)).to.equal(0);
    expect(failures.knownClear(key)).to.equal(true);
    await failures.fail(key);
    expect(failures.knownClear(key)).to.equal(true, 'one failure below the limit refuses nothing');
    await failures.fail(key);
    expect(failures.knownClear(key)).to.equal(false);
    expect(await failures.retryAfter(key)).to.be.within(59, 60);
    expect(failures.refusals).to.equal(1);
  });
});
