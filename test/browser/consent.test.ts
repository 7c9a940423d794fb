import { expect } from 'chai';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  heading,
  isConsentPage,
  isLoginPage,
  listedPermissions,
  newPage,
  person,
  signIn,
  skipWithoutChromium,
  startHarness,
  waitForRelyingParty,
  type BrowserHarness,
} from '../support/browser.js';

describe('browser: remembered consent', function () {
  this.timeout(60_000);
  let h: BrowserHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startHarness({ people: 4 });
  });
  after(async () => h?.close());

  /** A new browser context each time: a new Gatehouse session that must sign in again. */
  async function inNewSession<T>(fn: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    const { context, page } = await newPage(h.browser);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  it('is asked once per user and client, and not again in a new session for the same scopes', async () => {
    const alice = person(1);
    const first = await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read' });
      return authorizeInBrowser(page, h.rp, pending.url, alice);
    });
    expect(first).to.include({ sawLogin: true, sawConsent: true });

    const second = await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read' });
      const result = await authorizeInBrowser(page, h.rp, pending.url, alice);
      // What was remembered is really granted: the code redeems for the same scopes.
      // (The token response's scope is the access token's, which is for the Orders API; RFC 6749 §5.1.)
      const tokens = await exchangeCode(h.web, pending, result.callback, true);
      expect(tokens.scope).to.equal('orders:read');
      expect(tokens.claims()!.name).to.equal(alice.name);
      return result;
    });
    expect(second).to.include({ sawLogin: true, sawConsent: false });
    expect(second.callback.searchParams.has('code')).to.equal(true);

    // A subset of what was allowed needs no consent either.
    const subset = await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
      return authorizeInBrowser(page, h.rp, pending.url, alice);
    });
    expect(subset).to.include({ sawLogin: true, sawConsent: false });
  });

  it('asks only for the new scope when an app asks for more', async () => {
    const bob = person(2);
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
      expect(await authorizeInBrowser(page, h.rp, pending.url, bob)).to.include({ sawConsent: true });
    });
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read orders:write' });
      await page.goto(pending.url.href);
      await signIn(page, bob);
      expect(await isConsentPage(page)).to.equal(true);
      expect(await listedPermissions(page)).to.deep.equal(['Create and change your orders']);
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchangeCode(h.web, pending, await waitForRelyingParty(page, h.rp), true);
      expect(tokens.scope?.split(' ')).to.include.members(['orders:read', 'orders:write']);
    });
    // Both are remembered now.
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read orders:write' });
      expect(await authorizeInBrowser(page, h.rp, pending.url, bob)).to.include({ sawLogin: true, sawConsent: false });
    });
  });

  it('what was allowed in one session counts in another session that was already open', async () => {
    const dave = person(4);
    const first = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
      expect(await authorizeInBrowser(first.page, h.rp, pending.url, dave)).to.include({ sawLogin: true, sawConsent: true });

      // Elsewhere (another browser), Dave allows more.
      await inNewSession(async (page) => {
        const more = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read orders:write' });
        await page.goto(more.url.href);
        await signIn(page, dave);
        expect(await listedPermissions(page)).to.deep.equal(['Create and change your orders']);
        await page.getByRole('button', { name: 'Allow' }).click();
        await waitForRelyingParty(page, h.rp);
      });

      // Back in the first browser, still signed in: nothing left to ask.
      const again = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read orders:write' });
      expect(await authorizeInBrowser(first.page, h.rp, again.url, dave)).to.include({ sawLogin: false, sawConsent: false });
    } finally {
      await first.context.close();
    }
  });

  it('prompt=consent asks again, listing what is requested (OIDC Core §3.1.2.1)', async () => {
    const carol = person(3);
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read' });
      expect(await authorizeInBrowser(page, h.rp, pending.url, carol)).to.include({ sawConsent: true });

      // Same session, so no login; consent is asked because the app says so.
      const again = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read', prompt: 'consent' });
      await page.goto(again.url.href);
      expect(await isLoginPage(page)).to.equal(false);
      expect(await isConsentPage(page)).to.equal(true);
      expect(await listedPermissions(page)).to.include.members(['See your name', 'Read your orders']);
      await page.getByRole('button', { name: 'Allow' }).click();
      const tokens = await exchangeCode(h.web, again, await waitForRelyingParty(page, h.rp), true);
      expect(tokens.scope).to.equal('orders:read');
      expect(tokens.claims()!.name).to.equal(carol.name);
    });
  });

  it('is remembered per client: another app of the same user still asks', async () => {
    const alice = person(1); // allowed the Shop web app above
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.spa, h.spaRedirect, { scope: 'openid orders:read' });
      await page.goto(pending.url.href);
      await signIn(page, alice);
      expect(await heading(page)).to.equal('Allow Shop SPA to access your account?');
    });
  });

  it('is remembered per user: another person signing in to the same app is asked', async () => {
    const fresh = { email: 'ada@example.test', password: 'correct horse battery staple' };
    await inNewSession(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read' });
      await page.goto(pending.url.href);
      await signIn(page, fresh);
      expect(await isConsentPage(page)).to.equal(true);
    });
  });
});
