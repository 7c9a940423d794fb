import { expect } from 'chai';
import { SERVICE, USER, baseSeed, basic, postForm } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';
import { freshAddress, loginForm } from '../support/sign-in.js';

/**
 * The limits hold across nodes: two nodes on one Postgres and one Redis count the same failures, so
 * an attacker gains nothing by spreading guesses over the nodes behind a load balancer.
 */
const ISSUER = 'http://gatehouse.test';
const realServices = usingRealServices && Boolean(process.env.REDIS_URL);
const env = { ISSUER, TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '4', LOGIN_WAIT_INCREMENT: '30', LOGIN_MAX_WAIT: '60', CLIENT_AUTH_MAX_FAILURES: '4', CREDENTIAL_MAX_FAILURES: '4' };

describe('attack protection across two nodes sharing Redis (needs DATABASE_URL and REDIS_URL; skipped in embedded mode)', () => {
  let a: TestServer;
  let b: TestServer;
  before(async function () {
    if (!realServices) this.skip();
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    a = await startServer({ seed, env });
    b = await startServer({ databaseUrl: a.databaseUrl, env });
  });
  after(async () => {
    await b?.stop();
    await a?.destroy();
  });

  it('sign-in failures alternate between nodes and add up; the lockout made on one is lifted from the other', async () => {
    const address = freshAddress();
    const [onA, onB] = await Promise.all([loginForm(a, address), loginForm(b, address)]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await (i % 2 ? onB : onA).attempt(USER.email, `wrong ${i}`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 429]);
    expect((await onB.attempt(USER.email, USER.password)).status).to.equal(429);
    expect((await onA.attempt(USER.email, USER.password)).status).to.equal(429);

    // Two more failures reach the longest wait (60 s): a lockout, seen and lifted through node B.
    const adminB = managementApi(b, await managementToken(b));
    const userId = (await adminB.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data[0].id;
    expect((await adminB.get(`/users/${userId}/lockout`)).body.locked_until).to.equal(null);
    await a.runtime.protection.login.failed(userId, address, userId);
    expect((await adminB.get(`/users/${userId}/lockout`)).body.locked_until).to.be.a('string');
    expect((await adminB.delete(`/users/${userId}/lockout`)).status).to.equal(204);
    expect((await onA.attempt(USER.email, USER.password)).status).to.equal(303);
  });

  it('failed client authentication on node A refuses the client at that address on node B, within a second', async () => {
    const address = freshAddress();
    const token = (node: TestServer, secret: string) =>
      postForm(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, secret), 'x-forwarded-for': address });
    // Node B has served this client from this address: its "not refused" answer is cached for 1 s.
    expect((await token(b, SERVICE.secret)).status).to.equal(200);
    for (let i = 0; i < 4; i++) expect((await token(a, `wrong-${i}`)).status).to.equal(401);
    expect((await token(a, SERVICE.secret)).status).to.equal(429);
    await new Promise((r) => setTimeout(r, 1100));
    const onB = await token(b, SERVICE.secret);
    expect(onB.status).to.equal(429);
    expect(onB.json.error).to.equal('too_many_requests');
  });

  it('bad bearer tokens at /api/v1 add up across nodes', async () => {
    const address = freshAddress();
    const call = (node: TestServer, bearer: string) => fetch(`${node.url}/api/v1/me`, { headers: { authorization: `Bearer ${bearer}`, 'x-forwarded-for': address } });
    for (let i = 0; i < 4; i++) expect((await call(i % 2 ? b : a, `ak_live_guess_${i}`)).status).to.equal(401);
    // Node B counted the last failure and refuses at once; node A within its 1 s cache of "not refused".
    expect((await call(b, 'ak_live_guess_5')).status).to.equal(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call(a, 'ak_live_guess_5')).status).to.equal(429);
  });
});
