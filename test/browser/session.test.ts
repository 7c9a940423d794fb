import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  heading,
  isConsentPage,
  isLoginPage,
  newPage,
  signIn,
  skipWithoutChromium,
  startHarness,
  submit,
  typeInto,
  waitForRelyingParty,
  type BrowserHarness,
} from '../support/browser.js';
import { USER } from '../support/fixtures.js';

describe('browser: signing in and out', function () {
  this.timeout(60_000);
  let h: BrowserHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startHarness();
  });
  after(async () => h?.close());

  async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    const { context, page } = await newPage(h.browser);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  /** Submits the login form and returns the status of the page the browser ends up on. */
  async function submitLogin(page: Page, login: string, password: string): Promise<number> {
    await typeInto(page, page.getByLabel('Email'), login);
    await typeInto(page, page.getByLabel('Password'), password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
      submit(page, page.getByRole('button', { name: 'Sign in', exact: true })),
    ]);
    return response.status();
  }

  it('says the same thing for a wrong password and an unknown email, then lets the right password in', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      const html = (email: string) => page.content().then((c) => c.replaceAll(email, '<EMAIL>'));

      const wrongPassword = await submitLogin(page, USER.email, 'not the password at all');
      const wrongPasswordPage = await html(USER.email);
      const wrongPasswordAlert = await page.getByRole('alert').textContent();

      const unknown = 'nobody-by-this-name@example.test';
      const unknownEmail = await submitLogin(page, unknown, USER.password);
      const unknownEmailPage = await html(unknown);

      expect(wrongPassword).to.be.within(400, 499);
      expect(unknownEmail).to.equal(wrongPassword);
      expect(wrongPasswordAlert).to.equal('The email or password is incorrect.');
      // Byte for byte the same page, apart from the address the person typed being kept in the field.
      expect(unknownEmailPage).to.equal(wrongPasswordPage);
      expect(await isLoginPage(page)).to.equal(true);
      expect(await page.getByLabel('Email').inputValue()).to.equal(unknown);
      expect(await page.getByLabel('Password').inputValue(), 'a password is never echoed back').to.equal('');
      // The message is tied to the field for screen readers.
      expect(await page.getByLabel('Email').getAttribute('aria-describedby')).to.equal('login-error');

      // The same interaction still works with the right password.
      const ok = await submitLogin(page, USER.email, USER.password);
      expect(ok).to.be.below(400);
      expect(await isConsentPage(page)).to.equal(true);
    });
  });

  it('an empty form is a failed sign-in, not an error', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
        submit(page, page.getByRole('button', { name: 'Sign in', exact: true })),
      ]);
      expect(response.status()).to.equal(401);
      expect(await page.getByRole('alert').textContent()).to.equal('The email or password is incorrect.');
    });
  });

  it('RP-initiated logout asks, signs the person out, and returns to the app with its state (RP-Initiated Logout §2, §3)', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      const signedIn = await authorizeInBrowser(page, h.rp, pending.url);
      expect(signedIn.sawLogin).to.equal(true);
      const tokens = await exchangeCode(h.web, pending, signedIn.callback, true);

      // Signed in: a second authorization goes straight through.
      const again = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      expect(await authorizeInBrowser(page, h.rp, again.url)).to.include({ sawLogin: false, sawConsent: false });

      const landing = `${h.rp.origin}/`;
      const logout = oidc.buildEndSessionUrl(h.web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: landing, state: 'bye-state' });
      const res = await page.goto(logout.href);
      expect(res!.status()).to.equal(200);
      expect(res!.headers()['cache-control']).to.equal('no-store');
      expect(res!.headers()['content-security-policy']).to.contain("default-src 'none'");
      expect(await heading(page)).to.equal('Sign out of Shop?');
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();

      const back = await waitForRelyingParty(page, h.rp);
      expect(back.pathname).to.equal('/');
      expect(back.searchParams.get('state')).to.equal('bye-state');

      // The session is gone: the next authorization asks to sign in again.
      const after = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(after.url.href);
      expect(await isLoginPage(page)).to.equal(true);
      // …and consent given before is still remembered after signing in.
      await signIn(page);
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.searchParams.has('code')).to.equal(true);
    });
  });

  it('"Stay signed in" keeps the Gatehouse session', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      const signedIn = await authorizeInBrowser(page, h.rp, pending.url);
      const tokens = await exchangeCode(h.web, pending, signedIn.callback, true);

      const logout = oidc.buildEndSessionUrl(h.web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${h.rp.origin}/`, state: 's' });
      await page.goto(logout.href);
      await page.getByRole('button', { name: 'Stay signed in' }).click();
      await waitForRelyingParty(page, h.rp);

      const after = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      expect(await authorizeInBrowser(page, h.rp, after.url)).to.include({ sawLogin: false });
    });
  });

  it('logout without a redirect ends on our own "signed out" page', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await authorizeInBrowser(page, h.rp, pending.url);

      await page.goto(`${h.server.url}/oauth/logout`);
      expect(await heading(page)).to.equal('Sign out?');
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.waitForURL((u) => u.pathname.startsWith('/oauth/logout/'));
      expect(await heading(page)).to.equal('You are signed out');
      expect(new URL(page.url()).origin).to.equal(h.server.url);

      const after = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(after.url.href);
      expect(await isLoginPage(page)).to.equal(true);
    });
  });

  it('a logout with a post_logout_redirect_uri the app did not register is refused on our page', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      const signedIn = await authorizeInBrowser(page, h.rp, pending.url);
      const tokens = await exchangeCode(h.web, pending, signedIn.callback, true);
      const logout = oidc.buildEndSessionUrl(h.web, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${h.rp.origin}/elsewhere` });
      const res = await page.goto(logout.href);
      expect(res!.status()).to.equal(400);
      expect(new URL(page.url()).origin).to.equal(h.server.url);
      expect(await page.locator('main').textContent()).to.contain('invalid_request');
      // (Counting hits would race with the browser's own favicon fetch from the app's last page.)
      expect(h.rp.hits.map((u) => u.pathname)).to.not.include('/elsewhere');
    });
  });
});
