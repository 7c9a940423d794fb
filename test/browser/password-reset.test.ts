import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { digest } from '../../server/crypto/tokens.js';
import {
  authorizationRequest, authorizeInBrowser, exchangeCode, heading, isLoginPage, newPage, person, signIn, patient,
  refusal, submit, typeInto, type BrowserHarness,
} from '../support/browser.js';
import { type MailCatcher, type MailHarness, useMailHarness } from '../support/smtp.js';

/**
 * Password reset and email verification by link, end to end: Gatehouse sends through a real SMTP
 * server running in this process, the message is parsed as a mail client would, and Chromium follows
 * the link.
 */
describe('browser: password reset and email verification by email', function () {
  this.timeout(300_000);
  let h: BrowserHarness;
  let mail: MailCatcher;
  let admin: MailHarness['admin'];
  useMailHarness(2, (m) => ({ h, mail, admin } = m));

  async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    const { context, page } = await newPage(h.browser);
    patient(context);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  /** A refresh token of `who` at the web app (consented), as an app holds one. */
  async function refreshTokenOf(who: { email: string; password: string }): Promise<string> {
    return withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid email offline_access', prompt: 'consent' });
      const { callback } = await authorizeInBrowser(page, h.rp, pending.url, who);
      const tokens = await exchangeCode(h.web, pending, callback, true);
      return tokens.refresh_token!;
    });
  }

  async function askForReset(page: Page, email: string): Promise<string> {
    await page.goto(`${h.server.url}/account/forgot`);
    await typeInto(page, page.getByLabel('Email'), email);
    await submit(page, page.getByRole('button', { name: 'Send reset link' }));
    return page.content();
  }

  it('resets a forgotten password from the login page: one link, once, then signs in with the new password', async () => {
    const who = person(1);
    const newPassword = 'a brand new passphrase for person one';
    const refreshToken = await refreshTokenOf(who);

    await withPage(async (page) => {
      // From the login page of an application, as a person who forgot their password.
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      expect(await isLoginPage(page)).to.equal(true);
      await submit(page, page.getByRole('link', { name: 'Forgot password?' }));
      expect(await heading(page)).to.equal('Reset your password');
      await typeInto(page, page.getByLabel('Email'), who.email);
      await submit(page, page.getByRole('button', { name: 'Send reset link' }));
      expect(await heading(page)).to.equal('Check your email');
      const known = (await page.content()).replaceAll(who.email, '<EMAIL>');

      // An address with no account gets the very same page, and no message is sent to it.
      const unknown = 'nobody-here@example.test';
      const unknownPage = (await askForReset(page, unknown)).replaceAll(unknown, '<EMAIL>');
      expect(unknownPage).to.equal(known);

      const message = await mail.next(who.email);
      expect(message.from).to.include('accounts@example.test');
      expect(message.subject).to.equal('Reset your Gatehouse password');
      const link = message.links.find((l) => l.startsWith(`${h.server.issuer}/account/reset?token=`));
      expect(link, message.text).to.be.a('string');
      const token = new URL(link!).searchParams.get('token')!;

      // Only the link's digest is stored.
      const { rows } = await h.server.runtime.db.query<{ token_hash: string }>('SELECT token_hash FROM account_links');
      expect(rows.map((r) => r.token_hash)).to.include(digest(token)).and.not.include(token);

      await page.goto(link!);
      expect(await heading(page)).to.equal('Choose a new password');
      // The password rules apply.
      await typeInto(page, page.getByLabel('New password'), 'password123');
      await submit(page, page.getByRole('button', { name: 'Set new password' }));
      expect(await page.getByRole('alert').textContent()).to.match(/at least 12 characters|common or breached/);
      await typeInto(page, page.getByLabel('New password'), newPassword);
      await submit(page, page.getByRole('button', { name: 'Set new password' }));
      expect(await heading(page)).to.equal('Your password is changed');

      // The link works once.
      await page.goto(link!);
      expect(await heading(page)).to.equal('This link has expired');
    });
    expect(mail.pending('nobody-here@example.test')).to.have.length(0);

    // What the old password started is over: the app's refresh token is refused.
    expect(await refusal(oidc.refreshTokenGrant(h.web, refreshToken))).to.equal('invalid_grant');

    // The new password signs in; the old one does not.
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      await signIn(page, who);
      expect(await page.getByRole('alert').textContent()).to.equal('The email or password is incorrect.');
      const { callback } = await authorizeInBrowser(page, h.rp, pending.url, { email: who.email, password: newPassword });
      expect(callback.searchParams.get('code')).to.be.a('string');
    });

    const events = (await admin.get('/audit-events?type=user.password_reset')).body.data;
    expect(events).to.have.length(1);
    expect(events[0].data.revoked_artifacts).to.be.greaterThan(0);
  });

  it('verifies an address by the link sent when the user is created, and again after an email change', async () => {
    const email = 'grace@example.test';
    const created = await admin.post('/users', { email, name: 'Grace Hopper', password: 'a long enough password for grace' });
    expect(created.status).to.equal(201);
    expect(created.body.email_verified).to.equal(false);

    const message = await mail.next(email);
    expect(message.subject).to.equal('Confirm your email address for Gatehouse');
    const link = message.links.find((l) => l.startsWith(`${h.server.issuer}/account/verify?token=`))!;
    await withPage(async (page) => {
      await page.goto(link);
      // Following the link alone verifies nothing (mail scanners fetch links); the person confirms.
      expect((await admin.get(`/users/${created.body.id}`)).body.email_verified).to.equal(false);
      await submit(page, page.getByRole('button', { name: 'Confirm' }));
      expect(await heading(page)).to.equal('Your email is confirmed');
      await page.goto(link);
      expect(await heading(page)).to.equal('This link has expired');
    });
    expect((await admin.get(`/users/${created.body.id}`)).body.email_verified).to.equal(true);

    // Applications are told so (OIDC Core §5.1, the email scope's claims at userinfo).
    const claims = await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid email' });
      const { callback } = await authorizeInBrowser(page, h.rp, pending.url, { email, password: 'a long enough password for grace' });
      const tokens = await exchangeCode(h.web, pending, callback, true);
      return oidc.fetchUserInfo(h.web, tokens.access_token, tokens.claims()!.sub);
    });
    expect(claims).to.include({ email, email_verified: true });

    // A new address is not verified until its own link is followed.
    const moved = await admin.patch(`/users/${created.body.id}`, { email: 'grace.hopper@example.test' });
    expect(moved.body.email_verified).to.equal(false);
    const second = await mail.next('grace.hopper@example.test');
    expect(second.links.some((l) => l.startsWith(`${h.server.issuer}/account/verify?token=`))).to.equal(true);
  });
});
