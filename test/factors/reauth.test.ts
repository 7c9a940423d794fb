import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { heading, isLoginPage, launchBrowser, newPage, person, seedFor, signIn, skipWithoutChromium, startRelyingParty, submit, typeInto, type RelyingParty } from '../support/browser.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import type { ManagementApi } from '../support/setup.js';

/**
 * /account/security asks for a recent sign-in before a second factor is added or removed (OWASP ASVS
 * 3.7.1): a stolen session cookie alone can neither plant an attacker's authenticator nor take the
 * owner's away. ACCOUNT_REAUTH_SECONDS is 3 here, so a session ages within the test.
 */
describe('browser: second factors need a recent sign-in', function () {
  this.timeout(180_000);
  const REAUTH_SECONDS = 3;
  let server: TestServer;
  let rp: RelyingParty;
  let browser: Browser;
  let admin: ManagementApi;
  const who = person(1);

  before(async function () {
    skipWithoutChromium(this);
    rp = await startRelyingParty();
    const seed = seedFor(rp, 1);
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed, env: { ACCOUNT_REAUTH_SECONDS: String(REAUTH_SECONDS) } });
    admin = managementApi(server, await managementToken(server));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.destroy();
    await rp?.close();
  });

  const aged = () => new Promise((r) => setTimeout(r, (REAUTH_SECONDS + 1) * 1000));
  const factorsOf = async () => {
    const id = (await admin.get(`/users?q=${encodeURIComponent(who.email)}`)).body.data[0].id as string;
    return (await admin.get(`/users/${id}`)).body.factors as string[];
  };

  it('an old session is sent to sign in again before adding an authenticator app, and refused removing it', async () => {
    const { context, page } = await newPage(browser);
    context.setDefaultTimeout(30_000);
    try {
      // Without a session the page signs in first and comes back to itself.
      await page.goto(`${server.url}/account/security`);
      expect(await isLoginPage(page)).to.equal(true);
      await signIn(page, who);
      expect(await heading(page)).to.equal('Sign-in security');

      await aged();
      await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
      const alert = page.getByRole('alert');
      expect(await alert.textContent()).to.contain('sign in again before changing how you sign in');
      expect(await page.locator('#totp-secret').count()).to.equal(0);

      // Signing in again (asked for even with a live session), then the change goes through.
      await alert.getByRole('link', { name: 'Sign in again' }).click();
      expect(await isLoginPage(page)).to.equal(true);
      await signIn(page, who);
      expect(await heading(page)).to.equal('Sign-in security');
      await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      await typeInto(page, page.getByLabel('Six-digit code'), TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }));
      await submit(page, page.getByRole('button', { name: 'Turn on' }));
      expect(await factorsOf()).to.deep.equal(['totp']);

      // Later, removing it is refused until the person signs in again.
      await page.goto(`${server.url}/account/security`);
      await aged();
      await submit(page, page.getByRole('button', { name: 'Remove authenticator app' }));
      expect(await page.getByRole('alert').textContent()).to.contain('sign in again');
      expect(await factorsOf()).to.deep.equal(['totp']);
    } finally {
      await context.close();
    }
  });
});
