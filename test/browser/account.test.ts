import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { BrowserContext, Page } from 'playwright-core';
import {
  authorizationRequest, authorizeInBrowser, exchangeCode, heading, isConsentPage, isLoginPage, newPage, person, refusal, signIn,
  patient, submit, typeInto, type BrowserHarness, type Person,
} from '../support/browser.js';
import { type MailCatcher, type MailHarness, useMailHarness } from '../support/smtp.js';

/**
 * /account in Chromium: a person's password, the browsers they are signed in on, and the apps they
 * have allowed. Each test uses its own person, so remembered consent and sessions do not mix.
 */
describe('browser: the account page', function () {
  this.timeout(300_000);
  let h: BrowserHarness;
  let mail: MailCatcher;
  let admin: MailHarness['admin'];
  const contexts: BrowserContext[] = [];
  useMailHarness(5, (m) => ({ h, mail, admin } = m));
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });

  /** A fresh browser (no cookies), signed in to /account as `who`. */
  async function browserAt(who: Person, userAgent?: string): Promise<Page> {
    const { context, page } = await newPage(h.browser, userAgent ? { userAgent } : {});
    patient(context);
    contexts.push(context);
    await page.goto(`${h.server.url}/account`);
    expect(await isLoginPage(page)).to.equal(true);
    await signIn(page, who);
    expect(await heading(page)).to.equal('Your account');
    return page;
  }

  /** Whether this browser's Gatehouse session still signs it in: /account, or the login page. */
  async function stillSignedIn(page: Page): Promise<boolean> {
    await page.goto(`${h.server.url}/account`);
    return (await heading(page)) === 'Your account';
  }

  /** An app's refresh token for `who` (consented in its own browser). */
  async function refreshTokenOf(who: Person): Promise<string> {
    const { context, page } = await newPage(h.browser);
    patient(context);
    contexts.push(context);
    const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid offline_access orders:read', prompt: 'consent' });
    const { callback } = await authorizeInBrowser(page, h.rp, pending.url, who);
    return (await exchangeCode(h.web, pending, callback, true)).refresh_token!;
  }

  it('lists the browsers a person is signed in on, and ending one makes its cookie useless', async () => {
    const who = person(1);
    const phone = await browserAt(who, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
    const laptop = await browserAt(who);
    await laptop.reload();
    const sessions = laptop.getByRole('list', { name: 'Where you are signed in' }).getByRole('listitem');
    expect(await sessions.count()).to.equal(2);
    expect(await sessions.filter({ hasText: 'This browser' }).textContent()).to.match(/Chrome/);
    const other = sessions.filter({ hasText: 'Safari' });
    expect(await other.textContent()).to.match(/iOS/).and.match(/127\.0\.0\.1/);

    await submit(laptop, other.getByRole('button', { name: /^Sign out/ }));
    expect(await laptop.getByRole('status').textContent()).to.equal('That session is signed out.');
    expect(await sessions.count()).to.equal(1);

    // The phone's cookie no longer signs anyone in: /account asks to sign in, and an app's silent
    // request is told login_required (OIDC Core §3.1.2.6).
    expect(await stillSignedIn(phone)).to.equal(false);
    const silent = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid', prompt: 'none' });
    await phone.goto(silent.url.href);
    await phone.waitForURL((u) => u.origin === h.rp.origin);
    expect(new URL(phone.url()).searchParams.get('error')).to.equal('login_required');
    expect(await stillSignedIn(laptop)).to.equal(true);

    const ended = (await admin.get('/audit-events?type=session.ended')).body.data;
    expect(ended).to.have.length(1);
    expect(ended[0].actor.id).to.equal(ended[0].target.id);
  });

  it('changes the password with the current one, and signs out everywhere else', async () => {
    const who = person(2);
    const newPassword = 'person two has a new passphrase';
    const refreshToken = await refreshTokenOf(who);
    const elsewhere = await browserAt(who);
    const here = await browserAt(who);

    await typeInto(here, here.getByLabel('Current password'), 'not my password at all');
    await typeInto(here, here.getByLabel('New password'), newPassword);
    await submit(here, here.getByRole('button', { name: 'Change password' }));
    expect(await here.getByRole('alert').textContent()).to.equal('The current password is incorrect.');

    await typeInto(here, here.getByLabel('Current password'), who.password);
    await typeInto(here, here.getByLabel('New password'), newPassword);
    await submit(here, here.getByRole('button', { name: 'Change password' }));
    expect(await here.getByRole('status').textContent()).to.match(/^Your password is changed/);

    expect(await stillSignedIn(here), 'the browser it was changed in stays signed in').to.equal(true);
    expect(await stillSignedIn(elsewhere)).to.equal(false);
    expect(await refusal(oidc.refreshTokenGrant(h.web, refreshToken))).to.equal('invalid_grant');
    await signIn(elsewhere, { email: who.email, password: newPassword });
    expect(await heading(elsewhere)).to.equal('Your account');
  });

  it('counts wrong current passwords like failed sign-ins: after LOGIN_MAX_FAILURES even the right one waits (429)', async () => {
    // A stolen session cookie must not buy unlimited guesses at the password (OWASP ASVS 2.2.1).
    const who = person(5);
    const page = await browserAt(who);
    const csrf = await page.locator('form[action="/account/password"] input[name="csrf"]').getAttribute('value');
    const change = (current: string) =>
      page.request.post(`${h.server.url}/account/password`, {
        form: { csrf: csrf!, current_password: current, new_password: 'person five has a new passphrase' },
        maxRedirects: 0,
      });
    // LOGIN_MAX_FAILURES defaults to 30: the 30th failure starts a wait.
    for (let i = 0; i < 30; i++) expect((await change(`wrong guess ${i}`)).status(), `guess ${i}`).to.equal(400);
    const refused = await change(who.password);
    expect(refused.status()).to.equal(429);
    expect(Number(refused.headers()['retry-after'])).to.be.greaterThan(0);
    expect(await refused.text()).to.contain('Too many wrong passwords');
    // The refused request changed nothing.
    const users = (await admin.get('/users?limit=100')).body.data as { id: string; email: string }[];
    const id = users.find((u) => u.email === who.email)!.id;
    const changes = (await admin.get('/audit-events?type=user.password_changed')).body.data as { target: { id: string } }[];
    expect(changes.filter((e) => e.target.id === id)).to.have.length(0);
  });

  it('withdraws consent from an app: its refresh token fails and it must ask again', async () => {
    const who = person(3);
    const rotated = (await oidc.refreshTokenGrant(h.web, await refreshTokenOf(who))).refresh_token!;
    expect(rotated).to.be.a('string');

    const page = await browserAt(who);
    const apps = page.getByRole('list', { name: 'Apps you have allowed' }).getByRole('listitem');
    expect(await apps.count()).to.equal(1);
    expect(await apps.first().textContent()).to.include('Shop').and.include('orders:read');
    await submit(page, page.getByRole('button', { name: 'Remove access for Shop' }));
    expect(await page.getByRole('status').textContent()).to.match(/access is removed/);
    expect(await page.getByText('You have not allowed any app yet.').count()).to.equal(1);

    expect(await refusal(oidc.refreshTokenGrant(h.web, rotated))).to.equal('invalid_grant');
    // The app asks again: the consent page, not a silent code.
    const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
    await page.goto(pending.url.href);
    expect(await isConsentPage(page)).to.equal(true);
  });

  it('sends a verification email from the account page, and the address is verified by its link', async () => {
    const who = person(4);
    const page = await browserAt(who);
    expect(await page.getByText('Not verified').count()).to.equal(1);
    await submit(page, page.getByRole('button', { name: 'Send a verification email' }));
    expect(await page.getByRole('status').textContent()).to.match(/sent you an email/);
    const message = await mail.next(who.email);
    await page.goto(message.links[0]);
    await submit(page, page.getByRole('button', { name: 'Confirm' }));
    await page.goto(`${h.server.url}/account`);
    expect(await page.getByText('Verified', { exact: true }).count()).to.equal(1);
  });
});
