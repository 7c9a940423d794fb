import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import { confirmTotp, startTotpEnrolment, verifyTotp } from '../../server/services/totp.js';
import { spendRecoveryCode } from '../../server/services/recovery-codes.js';
import { CookieJar, pkcePair } from '../support/code-flow.js';
import { USER, WEB } from '../support/fixtures.js';
import { useServer, type ManagementApi } from '../support/setup.js';
import type { TestServer } from '../support/server.js';
import { freshAddress } from '../support/sign-in.js';

/**
 * TOTP and recovery codes from outside, over HTTP, and at rest: codes spent once even when two
 * requests race, guesses at the second step throttled with the password failures, secrets sealed.
 */
describe('second factors: codes over HTTP and at rest', function () {
  // The embedded database starts slowly on a loaded machine.
  this.timeout(120_000);
  let server: TestServer;
  let admin: ManagementApi;
  let userId: string;
  let secret: string;
  let recovery: string[];
  useServer({ admin: true, start: { env: { TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '3', LOGIN_WAIT_INCREMENT: '60', LOGIN_MAX_WAIT: '120' } } }, (s) => ({ server, admin } = s));

  const code = (stepsAhead = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + stepsAhead * 30_000 });

  before(async () => {
    userId = (await admin.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data[0].id;
    const { db, sealer } = server.runtime;
    secret = (await startTotpEnrolment(db, sealer, server.issuer, { id: userId, email: USER.email })).secret;
    recovery = (await confirmTotp(db, sealer, userId, code(), { type: 'system', id: 'test' }))!;
  });

  it('stores the TOTP secret sealed and the recovery codes as digests', async () => {
    const { rows } = await server.runtime.db.query<{ secret_sealed: string }>('SELECT secret_sealed FROM user_totp WHERE user_id = $1', [userId]);
    expect(rows[0].secret_sealed).to.match(/^v1\./).and.not.include(secret);
    const hashes = (await server.runtime.db.query<{ code_hash: string }>('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [userId])).rows.map((r) => r.code_hash);
    expect(hashes).to.have.length(10);
    for (const c of recovery) expect(hashes.join(' ')).to.not.include(c.replace(/-/g, ''));
  });

  it('accepts a code once, even from two requests at the same moment; a recovery code likewise', async () => {
    const { db, sealer } = server.runtime;
    const next = code(1);
    const results = await Promise.all([verifyTotp(db, sealer, userId, next), verifyTotp(db, sealer, userId, next)]);
    expect(results.filter(Boolean)).to.have.length(1);
    expect(await verifyTotp(db, sealer, userId, next)).to.equal(false);
    const spent = await Promise.all([spendRecoveryCode(db, userId, recovery[1]), spendRecoveryCode(db, userId, recovery[1])]);
    expect(spent.filter(Boolean)).to.have.length(1);
  });

  it('throttles guesses at the second step with the password failures: 429 past the limit, for the right code too', async () => {
    const jar = new CookieJar();
    const headers = { 'x-forwarded-for': freshAddress() };
    const params = new URLSearchParams({ client_id: WEB.id, response_type: 'code', redirect_uri: WEB.redirect, scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' });
    const start = await jar.fetch(new URL(`/oauth/authorize?${params}`, server.url), { headers });
    const page = new URL(start.headers.get('location')!, server.url).pathname;
    const csrf = /name="csrf" value="([^"]*)"/.exec(await (await jar.fetch(new URL(page, server.url), { headers })).text())![1];
    const post = (path: string, form: Record<string, string>) =>
      jar.fetch(new URL(`${page}${path}`, server.url), { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...form }) });
    const login = await post('/login', { login: USER.email, password: USER.password });
    expect(login.status).to.equal(303);
    expect(login.headers.get('location')).to.equal(`${page}/second-factor`);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post('/second-factor', { method: 'totp', code: '000000' === code() ? '111111' : '000000' })).status);
    expect(statuses).to.deep.equal([401, 401, 429]);
    const right = await post('/second-factor', { method: 'totp', code: code() });
    expect(right.status).to.equal(429);
    expect(Number(right.headers.get('retry-after'))).to.be.greaterThan(0);
    // Typing the password again buys no more guesses: the count is the same one.
    expect((await post('/login', { login: USER.email, password: USER.password })).status).to.equal(429);
    const failures = (await admin.get(`/audit-events?type=login.failed`)).body.data;
    expect(failures.some((e: { data: { reason: string } }) => e.data.reason === 'bad_otp')).to.equal(true);
  });
});
