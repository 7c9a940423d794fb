import { expect } from 'chai';
import { USER, baseSeed } from '../support/fixtures.js';
import { auditOf } from '../support/accounts.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import { alertOf, freshAddress, loginForm } from '../support/sign-in.js';

/**
 * Sign-in throttling as an attacker meets it, from outside, over HTTP: one account from one address,
 * many accounts from one address, one account from many addresses, unknown accounts. Small limits
 * (3 failures, then waits of 1 s growing to 2 s) keep the test short; the logic is the same.
 */
const LIMITS = {
  TRUST_PROXY: 'true',
  LOGIN_MAX_FAILURES: '3',
  LOGIN_WAIT_INCREMENT: '1',
  LOGIN_MAX_WAIT: '2',
  LOGIN_ADDRESS_MAX_FAILURES: '12',
  BLOCK_SECONDS: '60',
};
const WRONG = 'not the password at all';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sign-in throttling and lockout', () => {
  let server: TestServer;
  let userId: string;
  let admin: ReturnType<typeof managementApi>;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed, env: LIMITS });
    admin = managementApi(server, await managementToken(server));
    userId = (await admin.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data[0].id;
  });
  after(() => server?.destroy());

  it('waits grow with failures per account and address, up to a lockout that the page announces; a right password is refused meanwhile', async () => {
    const address = freshAddress();
    const form = await loginForm(server, address);
    for (let i = 0; i < 2; i++) expect((await form.attempt(USER.email, WRONG)).status).to.equal(401);
    // The third failure starts the waits: 429, Retry-After, and a page that says so and until when.
    const third = await form.attempt(USER.email, WRONG);
    expect(third.status).to.equal(429);
    expect(third.retryAfter).to.equal(1);
    expect(third.text).to.match(/Too many failed sign-ins.*try again in 1 seconds \(at \d\d:\d\d UTC\)/);
    // While waiting, even the right password is not checked: a guess cannot be confirmed.
    expect((await form.attempt(USER.email, USER.password)).status).to.equal(429);
    await sleep(1100);
    // The next failure waits longer, and reaching the longest wait is a lockout: audited and visible.
    const fourth = await form.attempt(USER.email, WRONG);
    expect(fourth.status).to.equal(429);
    expect(fourth.retryAfter).to.equal(2);
    const locked = await auditOf(server, 'user.locked', userId);
    expect(locked.at(-1)).to.include({ target_id: userId, ip: address });
    const lockout = await admin.get(`/users/${userId}/lockout`);
    expect(lockout.status).to.equal(200);
    expect(Date.parse(lockout.body.locked_until)).to.be.greaterThan(Date.now());
    expect(Date.parse((await admin.get(`/users/${userId}`)).body.locked_until)).to.be.closeTo(Date.parse(lockout.body.locked_until), 1000);
    // The owner, elsewhere, is not locked out by what happened at the attacker's address.
    const owner = await loginForm(server, freshAddress());
    expect((await owner.attempt(USER.email, USER.password)).status).to.equal(303);
  });

  it('an administrator unlocks: the account signs in again at once from the locked address, audited as user.unlocked', async () => {
    const address = freshAddress();
    const form = await loginForm(server, address);
    for (let i = 0; i < 3; i++) await form.attempt(USER.email, WRONG);
    await sleep(1100);
    expect((await form.attempt(USER.email, WRONG)).retryAfter).to.equal(2);
    expect((await form.attempt(USER.email, USER.password)).status).to.equal(429);

    expect((await managementApi(server, 'not a token').delete(`/users/${userId}/lockout`)).status).to.equal(401);
    const readOnly = managementApi(server, await managementToken(server, ['users:read']));
    expect((await readOnly.delete(`/users/${userId}/lockout`)).status).to.equal(403);
    expect((await admin.delete('/users/00000000-0000-4000-8000-000000000000/lockout')).status).to.equal(404);
    expect((await admin.delete(`/users/${userId}/lockout`)).status).to.equal(204);
    expect((await admin.get(`/users/${userId}/lockout`)).body).to.deep.equal({ locked_until: null });
    expect((await auditOf(server, 'user.unlocked', userId)).at(-1)).to.include({ actor_type: 'client', target_id: userId });
    expect((await form.attempt(USER.email, USER.password)).status).to.equal(303);
  });

  it('a success forgets the failures of that account and address', async () => {
    const address = freshAddress();
    const form = await loginForm(server, address);
    for (let i = 0; i < 2; i++) expect((await form.attempt(USER.email, WRONG)).status).to.equal(401);
    expect((await form.attempt(USER.email, USER.password)).status).to.equal(303);
    const again = await loginForm(server, address);
    for (let i = 0; i < 2; i++) expect((await again.attempt(USER.email, WRONG)).status, 'counting starts again').to.equal(401);
  });

  it('an unknown email gets exactly the answers a known one gets, so guessing reveals no account', async () => {
    const known = await loginForm(server, freshAddress());
    const unknown = await loginForm(server, freshAddress());
    const answers = async (form: Awaited<ReturnType<typeof loginForm>>, email: string) => {
      const out = [];
      for (let i = 0; i < 4; i++) {
        const a = await form.attempt(email, WRONG);
        out.push([a.status, a.retryAfter, alertOf(a.text)]);
      }
      return out;
    };
    const a = await answers(known, USER.email);
    const b = await answers(unknown, 'nobody-here@example.test');
    expect(b).to.deep.equal(a);
    expect(a.map((x) => x[0])).to.deep.equal([401, 401, 429, 429]);
  });

  it('one address guessing across many accounts, known or not, is stopped by the per-address limit; other addresses are not', async () => {
    const address = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++) {
      const form = await loginForm(server, address);
      statuses.push((await form.attempt(i === 0 ? USER.email : `victim${i}@example.test`, WRONG)).status);
    }
    // 12 failures are counted (one per account), the 12th starts the block, after which
    // every account is refused from this address, the right password too.
    expect(statuses.slice(0, 11).every((s) => s === 401), statuses.join()).to.equal(true);
    expect(statuses.slice(11)).to.deep.equal([429, 429]);
    const last = await (await loginForm(server, address)).attempt(USER.email, USER.password);
    expect(last.status).to.equal(429);
    expect(last.retryAfter).to.be.within(50, 60);
    expect((await (await loginForm(server, freshAddress())).attempt(USER.email, USER.password)).status).to.equal(303);
  });

  it('many addresses against one account: each address is limited on its own (per account and address)', async () => {
    const addresses = Array.from({ length: 5 }, freshAddress);
    for (const address of addresses) {
      const form = await loginForm(server, address);
      const s = [];
      for (let i = 0; i < 3; i++) s.push((await form.attempt(USER.email, WRONG)).status);
      expect(s).to.deep.equal([401, 401, 429]);
    }
    // IPv6 addresses count by their /64: rotating through one host's addresses does not help.
    const v6 = [];
    for (let i = 1; i <= 3; i++) v6.push((await (await loginForm(server, `2001:db8:1:2::${i.toString(16)}`)).attempt(USER.email, WRONG)).status);
    expect(v6).to.deep.equal([401, 401, 429]);
  });
});
