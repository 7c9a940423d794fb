import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import type * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  authorizationRequest, exchangeCode, heading, isConsentPage, isLoginPage, launchBrowser, newPage, person, rpConfig, seedFor, signIn,
  skipWithoutChromium, startRelyingParty, submit, typeInto, waitForRelyingParty, redirectUriFor, type RelyingParty,
} from '../support/browser.js';
import { WEB } from '../support/fixtures.js';
import { spendRecoveryCode } from '../../server/services/recovery-codes.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import type { ManagementApi } from '../support/setup.js';

/**
 * Two-factor sign-in in Chromium (issue 13): TOTP enrolment and sign-in, recovery codes, passkeys
 * on Chromium's virtual authenticator (the DevTools WebAuthn domain), the admin role's policy on a
 * new installation, acr_values, amr/acr in the ID token, and an administrator's reset.
 */
describe('browser: second factors', function () {
  this.timeout(180_000);
  let server: TestServer;
  let rp: RelyingParty;
  let browser: Browser;
  let web: oidc.Configuration;
  let admin: ManagementApi;
  let webRedirect: string;
  const ADMIN_PERSON = person(5);

  before(async function () {
    skipWithoutChromium(this);
    // Six people are seeded (argon2 for each) and Chromium starts: slow on a loaded machine.
    this.timeout(180_000);
    rp = await startRelyingParty();
    const seed = seedFor(rp, 4);
    seed.users.push({ ...ADMIN_PERSON, roles: ['admin'] } as never);
    seed.clients.push(adminClientSeed() as never);
    // WebAuthn needs a domain for its relying-party id; the admin role keeps a new installation's policy.
    server = await startServer({ seed, localhost: true, adminTwoFactors: true });
    admin = managementApi(server, await managementToken(server));
    browser = await launchBrowser();
    web = await rpConfig(server, 'web');
    webRedirect = redirectUriFor(rp, WEB.redirect);
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.destroy();
    await rp?.close();
  });

  const userId = async (email: string) => (await admin.get(`/users?q=${encodeURIComponent(email)}`)).body.data[0].id as string;

  /** Starts an authorization request in the page; returns what the application keeps. */
  async function start(page: Page, params: Record<string, string> = {}) {
    const pending = await authorizationRequest(web, webRedirect, { scope: 'openid', ...params });
    await page.goto(pending.url.href);
    return pending;
  }

  /** Allows if asked, waits for the callback, exchanges the code; returns the ID token's claims. */
  async function landAndExchange(page: Page, pending: Awaited<ReturnType<typeof start>>) {
    if (new URL(page.url()).origin !== rp.origin && (await isConsentPage(page))) await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await waitForRelyingParty(page, rp);
    const tokens = await exchangeCode(web, pending, callback, true);
    return tokens.claims()!;
  }

  /** A code of the authenticator, `stepsAhead` time steps from now (the server accepts one step ahead). */
  const codeOf = (secret: string, stepsAhead = 0) =>
    TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + stepsAhead * 30_000 });

  /** A fresh browser profile; each sign-in hashes a password, which takes a while on a loaded machine. */
  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const opened = await newPage(browser);
    opened.context.setDefaultTimeout(30_000);
    opened.context.setDefaultNavigationTimeout(30_000);
    return opened;
  }

  it('advertises its acr values in discovery', async () => {
    const doc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { acr_values_supported: string[] };
    expect(doc.acr_values_supported).to.include.members(['urn:gatehouse:acr:pwd', 'urn:gatehouse:acr:mfa', 'http://schemas.openid.net/pape/policies/2007/06/multi-factor']);
  });

  it('TOTP: enrol at /account/security, sign in with a code (not twice), then with a recovery code (once)', async () => {
    const who = person(1);
    const { context, page } = await freshPage();
    // Signed in with a password alone: the ID token says so.
    let pending = await start(page);
    await signIn(page, who);
    let claims = await landAndExchange(page, pending);
    expect(claims.amr).to.deep.equal(['pwd']);
    expect(claims.acr).to.equal('urn:gatehouse:acr:pwd');

    await page.goto(`${server.url}/account/security`);
    expect(await heading(page)).to.equal('Sign-in security');
    await submit(page, page.getByRole('link', { name: 'Set up an authenticator app' }));
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    expect(secret).to.match(/^[A-Z2-7]{32}$/);
    expect(await page.getByRole('img', { name: 'QR code for your authenticator app' }).getAttribute('src')).to.match(/^data:image\/svg\+xml;base64,/);
    // A wrong code first: refused, and the same secret stays on the page.
    await typeInto(page, page.getByLabel('Six-digit code'), '000000' === codeOf(secret) ? '111111' : '000000');
    await submit(page, page.getByRole('button', { name: 'Turn on' }));
    expect(await page.getByRole('alert').textContent()).to.contain('not right');
    expect(((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '')).to.equal(secret);
    await typeInto(page, page.getByLabel('Six-digit code'), codeOf(secret));
    await submit(page, page.getByRole('button', { name: 'Turn on' }));
    expect(await heading(page)).to.equal('Save your recovery codes');
    const codes = (await page.locator('.codes code').allTextContents()).map((c) => c.trim());
    expect(codes).to.have.length(10);
    await submit(page, page.getByRole('button', { name: 'Done' }));
    expect(await page.locator('main').textContent()).to.contain('10 recovery codes left');
    await context.close();

    // Sign in on another browser: password, then the next code.
    const second = await freshPage();
    pending = await start(second.page);
    await signIn(second.page, who);
    expect(await heading(second.page)).to.equal('Confirm it is you');
    const next = codeOf(secret, 1);
    await typeInto(second.page, second.page.getByLabel('Code from your authenticator app'), next);
    await submit(second.page, second.page.getByRole('button', { name: 'Continue' }));
    claims = await landAndExchange(second.page, pending);
    expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
    expect(claims.acr).to.equal('urn:gatehouse:acr:mfa');
    await second.context.close();

    // The same code again is refused (RFC 6238 §5.2); a recovery code works, once.
    const third = await freshPage();
    pending = await start(third.page);
    await signIn(third.page, who);
    await typeInto(third.page, third.page.getByLabel('Code from your authenticator app'), next);
    await submit(third.page, third.page.getByRole('button', { name: 'Continue' }));
    expect(await third.page.getByRole('alert').textContent()).to.contain('already used');
    await third.page.getByText('Use a recovery code').click();
    await typeInto(third.page, third.page.getByLabel('Recovery code'), codes[0].toUpperCase());
    await submit(third.page, third.page.getByRole('button', { name: 'Use recovery code' }));
    claims = await landAndExchange(third.page, pending);
    expect(claims.amr).to.include('mfa');
    await third.context.close();

    // Spent: the same recovery code does not sign in again.
    expect(await spendRecoveryCode(server.runtime.db, await userId(who.email), codes[0])).to.equal(false);
    expect((await admin.get(`/users/${await userId(who.email)}/factors`)).body.recovery_codes_left).to.equal(9);

    // Sealed at rest: the secret is nowhere in the row.
    const row = await server.runtime.db.query<{ secret_sealed: string }>('SELECT secret_sealed FROM user_totp WHERE user_id = $1', [await userId(who.email)]);
    expect(row.rows[0].secret_sealed).to.match(/^v1\./).and.not.contain(secret);
    const audit = await admin.get(`/audit-events?type=user.totp_enrolled`);
    expect(audit.body.data.map((e: { target: { id: string } }) => e.target.id)).to.include(await userId(who.email));
  });

  it('passkeys: add one at /account/security, use it as the second step and as the first factor, remove it', async () => {
    const who = person(2);
    const { context, page } = await freshPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    let pending = await start(page);
    await signIn(page, who);
    await landAndExchange(page, pending);

    await page.goto(`${server.url}/account/security`);
    await typeInto(page, page.getByLabel('Name of the new passkey'), 'Work laptop');
    await Promise.all([page.waitForURL(`${server.url}/account/security`, { waitUntil: 'load' }), page.getByRole('button', { name: 'Add a passkey' }).click()]);
    await page.getByText('Work laptop', { exact: true }).waitFor();

    // The second step: password, then the passkey.
    await context.clearCookies();
    pending = await start(page);
    await signIn(page, who);
    expect(await heading(page)).to.equal('Confirm it is you');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    let claims = await landAndExchange(page, pending);
    expect(claims.amr).to.have.members(['pwd', 'hwk', 'mfa']);
    expect(claims.acr).to.equal('urn:gatehouse:acr:mfa');

    // The first factor: no email, no password.
    await context.clearCookies();
    pending = await start(page);
    expect(await isLoginPage(page)).to.equal(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    claims = await landAndExchange(page, pending);
    expect(claims.sub).to.equal(await userId(who.email));
    expect(claims.amr).to.have.members(['hwk', 'mfa']);

    // Rename, then remove: both audited.
    await page.goto(`${server.url}/account/security`);
    await typeInto(page, page.getByLabel('New name for Work laptop'), 'Old laptop');
    await submit(page, page.getByRole('button', { name: 'Rename' }));
    await page.getByText('Renamed to Old laptop.').waitFor();
    await submit(page, page.getByRole('button', { name: 'Remove Old laptop' }));
    await page.getByText('The passkey was removed.').waitFor();
    const factors = await admin.get(`/users/${await userId(who.email)}/factors`);
    expect(factors.body.passkeys).to.deep.equal([]);
    const types = (await admin.get(`/audit-events?actor=${await userId(who.email)}`)).body.data.map((e: { type: string }) => e.type);
    expect(types).to.include.members(['user.passkey_added', 'user.passkey_renamed', 'user.passkey_removed']);
    await context.close();
  });

  it('a role that requires two factors takes a person without one to enrolment at their next sign-in (admin, on a new installation)', async () => {
    const roles = (await admin.get('/roles')).body.data as { name: string; require_two_factors: boolean }[];
    expect(roles.find((r) => r.name === 'admin')!.require_two_factors).to.equal(true);
    const { context, page } = await freshPage();
    const pending = await start(page);
    await signIn(page, ADMIN_PERSON);
    expect(await heading(page)).to.equal('Set up two-step sign-in');
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    await typeInto(page, page.getByLabel('Six-digit code'), codeOf(secret));
    await submit(page, page.getByRole('button', { name: 'Turn on' }));
    expect(await heading(page)).to.equal('Save your recovery codes');
    await submit(page, page.getByRole('button', { name: 'I have saved them: continue' }));
    const claims = await landAndExchange(page, pending);
    expect(claims.amr).to.have.members(['pwd', 'otp', 'mfa']);
    await context.close();
  });

  it('acr_values asking for two factors: a one-factor session signs in again, and a person without a factor enrols', async () => {
    const who = person(3);
    const { context, page } = await freshPage();
    let pending = await start(page);
    await signIn(page, who);
    await landAndExchange(page, pending);
    // Same browser session, now asking for two factors: the password alone no longer answers.
    pending = await start(page, { acr_values: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor' });
    expect(await isLoginPage(page)).to.equal(true);
    await signIn(page, who);
    expect(await heading(page)).to.equal('Set up two-step sign-in');
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    await typeInto(page, page.getByLabel('Six-digit code'), codeOf(secret));
    await submit(page, page.getByRole('button', { name: 'Turn on' }));
    await submit(page, page.getByRole('button', { name: 'I have saved them: continue' }));
    const claims = await landAndExchange(page, pending);
    // The acr answers in the words of the request (OIDC Core §2).
    expect(claims.acr).to.equal('http://schemas.openid.net/pape/policies/2007/06/multi-factor');
    expect(claims.amr).to.include('mfa');
    await context.close();
  });

  it('an administrator resets a person’s second factors (audited); the next sign-in needs the password only', async () => {
    const who = person(4);
    const id = await userId(who.email);
    // Enrol through the account page first.
    const { context, page } = await freshPage();
    let pending = await start(page);
    await signIn(page, who);
    await landAndExchange(page, pending);
    await page.goto(`${server.url}/account/security/totp`);
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    await typeInto(page, page.getByLabel('Six-digit code'), codeOf(secret));
    await submit(page, page.getByRole('button', { name: 'Turn on' }));
    expect((await admin.get(`/users/${id}`)).body.factors).to.deep.equal(['totp']);
    expect((await admin.get(`/users/${id}/factors`)).body).to.include({ recovery_codes_left: 10 });

    expect((await admin.delete(`/users/${id}/factors`)).status).to.equal(204);
    expect((await admin.get(`/users/${id}`)).body.factors).to.deep.equal([]);
    const events = (await admin.get('/audit-events?type=user.factors_reset')).body.data;
    expect(events[0]).to.deep.include({ target: { type: 'user', id } });

    await context.clearCookies();
    pending = await start(page);
    await signIn(page, who);
    const claims = await landAndExchange(page, pending);
    expect(claims.amr).to.deep.equal(['pwd']);
    await context.close();
  });

  it('refuses what is not a sign-in in progress: the second step without a password, a forged state, a bad passkey id', async () => {
    const { context, page } = await freshPage();
    await start(page);
    const uid = new URL(page.url()).pathname.split('/')[2];
    // Straight to the second step: sent back to the password.
    await page.goto(`${server.url}/interaction/${uid}/second-factor`);
    expect(await isLoginPage(page)).to.equal(true);
    await context.addCookies([{ name: 'gh_signin', value: 'forged.value.e30.xx', url: `${server.url}/interaction/${uid}` }]);
    await page.goto(`${server.url}/interaction/${uid}/enrol`);
    expect(await isLoginPage(page)).to.equal(true);
    await context.close();
    // The account page wants a session: asked for, it signs in first and comes back; a form posted
    // without one is refused.
    const res = await fetch(`${server.url}/account/security`, { redirect: 'manual' });
    expect(res.status).to.equal(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.pathname).to.equal('/oauth/authorize');
    expect(to.searchParams.get('state')).to.equal('security');
    const posted = await fetch(`${server.url}/account/security/totp/remove`, { method: 'POST', body: new URLSearchParams({ csrf: 'x' }) });
    expect(posted.status).to.equal(401);
  });
});
