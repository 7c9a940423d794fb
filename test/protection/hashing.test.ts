import { expect } from 'chai';
import { USER, baseSeed } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/server.js';
import { freshAddress, loginForm } from '../support/sign-in.js';

/**
 * Bounded password hashing: with one hash at a time and a queue of two, a burst of sign-ins is
 * partly refused at once with 503 and Retry-After instead of piling up; nothing fails with a 500.
 */
describe('bounded password hashing', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ seed: baseSeed(), env: { TRUST_PROXY: 'true', HASH_CONCURRENCY: '1', HASH_QUEUE: '2' } });
  });
  after(() => server?.destroy());

  it('past the queue, sign-ins get 503 with Retry-After; the rest are answered; the right password still works after', async () => {
    const forms = await Promise.all(Array.from({ length: 16 }, () => loginForm(server, freshAddress())));
    const answers = await Promise.all(forms.map((f, i) => f.attempt(i % 2 ? USER.email : `nobody${i}@example.test`, 'a wrong password here')));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 503).length, statuses.join()).to.be.greaterThan(0);
    expect(statuses.filter((s) => s === 401).length, statuses.join()).to.be.at.least(3);
    expect(statuses.every((s) => s === 401 || s === 503), statuses.join()).to.equal(true);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.retryAfter).to.be.greaterThan(0);
      expect(a.text).to.match(/retry|try again/i);
    }
    expect((await (await loginForm(server, freshAddress())).attempt(USER.email, USER.password)).status).to.equal(303);
  });
});
