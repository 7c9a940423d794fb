import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { projectPath } from '../../server/paths.js';
import {
  authorizationRequest,
  heading,
  isConsentPage,
  isLoginPage,
  newPage,
  person,
  signIn,
  skipWithoutChromium,
  startHarness,
  submit,
  waitForRelyingParty,
  type BrowserHarness,
} from '../support/browser.js';
import { USER } from '../support/fixtures.js';

/**
 * Callbacks given to evaluate() run inside Chromium. This project compiles without the DOM lib, so
 * they reach the few browser globals they use through this type (the cast vanishes when compiled).
 */
interface InBrowser {
  document: {
    activeElement: { getAttribute(name: string): string | null; textContent: string | null; tagName: string } | null;
    body: unknown;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
  getComputedStyle(el: unknown): { backgroundColor: string; outlineStyle: string };
}

/**
 * What every page of ours must be: uncached, under a strict CSP, self-contained, usable with the
 * keyboard and without JavaScript, and readable when something is wrong.
 */
describe('browser: the pages themselves', function () {
  this.timeout(60_000);
  let h: BrowserHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startHarness({ people: 2 });
  });
  after(async () => h?.close());

  async function withPage<T>(fn: (page: Page) => Promise<T>, options = {}): Promise<T> {
    const { context, page } = await newPage(h.browser, options);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  /** The response of the next page (not redirect) of ours the browser shows. */
  const pageResponse = (page: Page) =>
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().startsWith(h.server.url) && (r.status() < 300 || r.status() >= 400));

  function expectPageHeaders(res: Response, what: string) {
    const headers = res.headers();
    expect(headers['cache-control'], `${what}: Cache-Control`).to.equal('no-store');
    const csp = headers['content-security-policy'] ?? '';
    expect(csp, `${what}: Content-Security-Policy`).to.contain("default-src 'none'");
    expect(csp).to.contain("frame-ancestors 'none'");
    expect(csp).to.not.contain('unsafe-inline');
    expect(headers['content-type']).to.match(/^text\/html/);
  }

  it('login, consent and error pages are no-store, under a CSP, and load nothing from anywhere else', async () => {
    await withPage(async (page) => {
      const requests: string[] = [];
      const cspViolations: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });

      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
      const login = await page.goto(pending.url.href);
      expect(await isLoginPage(page)).to.equal(true);
      expectPageHeaders(login!, 'login page');
      // The one stylesheet loaded and applied under the CSP.
      const buttonColour = await page.getByRole('button', { name: 'Sign in', exact: true }).evaluate((b) => (globalThis as unknown as InBrowser).getComputedStyle(b).backgroundColor);
      expect(buttonColour).to.equal('rgb(36, 83, 212)');

      const [consent] = await Promise.all([pageResponse(page), signIn(page)]);
      expect(await isConsentPage(page)).to.equal(true);
      expectPageHeaders(consent, 'consent page');

      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await waitForRelyingParty(page, h.rp);

      // Everything the pages fetched came from Gatehouse; the only other origin is the app's
      // redirect_uri, which the flow ends on. (The browser's own favicon fetch is not the page's.)
      const foreign = requests.filter((u) => new URL(u).origin !== h.server.url && new URL(u).pathname !== '/favicon.ico');
      expect(foreign).to.deep.equal([callback.href]);
      expect(requests.filter((u) => new URL(u).pathname === '/assets/gatehouse.css').length).to.be.at.least(1);
      expect(cspViolations).to.deep.equal([]);

      const error = await page.goto(`${h.server.url}/interaction/no-such-interaction`);
      expectPageHeaders(error!, 'error page');
    });
  });

  it('the keyboard alone signs in: Tab goes email → password → Sign in → Forgot password?, Enter submits, Allow has focus', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid email' });
      await page.goto(pending.url.href);
      const focused = () =>
        page.evaluate(() => {
          const { document } = globalThis as unknown as InBrowser;
          const el = document.activeElement;
          return el && el !== document.body ? (el.getAttribute('name') ?? el.textContent?.trim() ?? el.tagName) : 'body';
        });
      // The email field has focus on arrival (autofocus).
      expect(await focused()).to.equal('login');

      // From the top of the page (a click on the heading moves the starting point there), Tab
      // reaches the controls in reading order.
      await page.locator('h1').click();
      const order: string[] = [];
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        order.push((await focused()) ?? '');
      }
      expect(order).to.deep.equal(['login', 'password', 'Sign in', 'Forgot password?', 'Cancel and return to Shop']);

      // A visible focus ring (WCAG 2.4.7): the outline is not removed.
      await page.getByLabel('Email').focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      const outline = await page.getByLabel('Email').evaluate((el) => (globalThis as unknown as InBrowser).getComputedStyle(el).outlineStyle);
      expect(outline).to.not.equal('none');

      await page.keyboard.type(USER.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(USER.password);
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
      expect(await isConsentPage(page)).to.equal(true);
      expect(await focused()).to.equal('Allow');
      await page.keyboard.press('Enter');
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.searchParams.get('state')).to.equal(pending.state);
    });
  });

  it('works with JavaScript disabled, start to finish', async () => {
    await withPage(
      async (page) => {
        const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile', prompt: 'consent' });
        await page.goto(pending.url.href);
        expect(await isLoginPage(page)).to.equal(true);
        await signIn(page);
        expect(await isConsentPage(page)).to.equal(true);
        await page.getByRole('button', { name: 'Allow' }).click();
        const callback = await waitForRelyingParty(page, h.rp);
        expect(callback.searchParams.get('code')).to.be.a('string');
        expect(callback.searchParams.get('state')).to.equal(pending.state);
      },
      { javaScriptEnabled: false },
    );
  });

  it('a login form posted with a forged csrf value is refused with a readable 400 page', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      await page.locator('form[action$="/login"] input[name=csrf]').evaluate((el) => el.setAttribute('value', 'forged'));
      await page.getByLabel('Email').fill(USER.email);
      await page.getByLabel('Password').fill(USER.password);
      const [res] = await Promise.all([pageResponse(page), submit(page, page.getByRole('button', { name: 'Sign in', exact: true }))]);
      expect(res.status()).to.equal(400);
      expectPageHeaders(res, 'csrf error page');
      expect(await heading(page)).to.equal('This form has expired');
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).to.match(/go back/i);
      expect(new URL(page.url()).origin).to.equal(h.server.url);
      expect(h.rp.hits.some((u) => u.searchParams.has('code') && u.searchParams.get('state') === pending.state)).to.equal(false);
    });
  });

  for (const [what, path] of [
    ['an unknown interaction', '/interaction/this-does-not-exist'],
    ['an interaction id that is not even well-formed', '/interaction/%3Cscript%3E'],
  ] as const) {
    it(`${what} gets a readable "expired" page with no stack trace`, async () => {
      await withPage(async (page) => {
        const res = await page.goto(`${h.server.url}${path}`);
        expect(res!.status()).to.equal(400);
        expect(await heading(page)).to.equal('This sign-in has expired');
        await expectNoInternals(page);
      });
    });
  }

  it('posting to an unknown interaction is the same readable page, not a 5xx', async () => {
    await withPage(async (page) => {
      const res = await page.request.post(`${h.server.url}/interaction/this-does-not-exist/login`, {
        form: { csrf: 'x', login: USER.email, password: USER.password },
        headers: { accept: 'text/html' },
      });
      expect(res.status()).to.equal(400);
      const body = await res.text();
      expect(body).to.contain('This sign-in has expired');
      expect(body).to.not.match(/\bat .+\.(ts|js):\d+/);
    });
  });

  it('an interaction that already finished cannot be replayed', async () => {
    await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      const interactionUrl = page.url();
      await signIn(page);
      if (await isConsentPage(page)) await page.getByRole('button', { name: 'Allow' }).click();
      await waitForRelyingParty(page, h.rp);

      const res = await page.goto(interactionUrl);
      expect(res!.status()).to.equal(400);
      expect(await heading(page)).to.equal('This sign-in has expired');
      await expectNoInternals(page);
    });
  });

  it('an interaction opened in another browser (without its cookie) is refused', async () => {
    const interactionUrl = await withPage(async (page) => {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      return page.url();
    });
    await withPage(async (page) => {
      const res = await page.goto(interactionUrl);
      expect(res!.status()).to.equal(400);
      expect(await heading(page)).to.equal('This sign-in has expired');
    });
  });

  async function expectNoInternals(page: Page) {
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).to.not.match(/\bat .+\.(ts|js):\d+/, 'no stack frames');
    expect(text).to.not.match(/node_modules|SessionNotFound|TypeError|Error:/);
  }

  describe('layout', () => {
    // Screenshots land in docs/screenshots when UPDATE_SCREENSHOTS=1, so a normal run leaves the tree alone.
    const dir = process.env.UPDATE_SCREENSHOTS ? projectPath('docs', 'screenshots') : undefined;
    before(() => {
      if (dir) mkdirSync(dir, { recursive: true });
    });

    for (const [label, width, height] of [
      ['desktop', 1280, 800],
      ['phone', 390, 844],
    ] as const) {
      it(`fits a ${width}px wide screen without sideways scrolling (login, consent, logout, error)`, async () => {
        await withPage(
          async (page) => {
            const shots: [string, Page][] = [];
            const check = async (name: string) => {
              const overflow = await page.evaluate(() => {
                const { documentElement } = (globalThis as unknown as InBrowser).document;
                return documentElement.scrollWidth - documentElement.clientWidth;
              });
              expect(overflow, `${name} at ${width}px scrolls sideways`).to.be.at.most(0);
              // Every button and field is fully on screen horizontally and tall enough to tap (WCAG 2.5.8).
              for (const box of await page.locator('main button, main input:not([type=hidden])').evaluateAll((els) =>
                els.map((e) => {
                  const r = e.getBoundingClientRect();
                  return { left: r.left, right: r.right, height: r.height, text: e.textContent ?? e.getAttribute('name') };
                }),
              )) {
                expect(box.left, `${name}: ${box.text}`).to.be.at.least(0);
                expect(box.right, `${name}: ${box.text}`).to.be.at.most(width);
                expect(box.height, `${name}: ${box.text}`).to.be.at.least(24);
              }
              if (dir) await page.screenshot({ path: join(dir, `${name}-${label}.png`), fullPage: true });
              shots.push([name, page]);
            };

            // Someone new to Shop, so the consent page lists everything asked for.
            const who = person(label === 'desktop' ? 1 : 2);
            const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile email offline_access orders:read orders:write', prompt: 'consent' });
            await page.goto(pending.url.href);
            await check('login');
            await page.getByLabel('Email').fill(who.email);
            await page.getByLabel('Password').fill('wrong password');
            await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
            expect(await page.getByRole('alert').isVisible()).to.equal(true);
            await check('login-failed');
            await signIn(page, who);
            expect(await isConsentPage(page)).to.equal(true);
            await check('consent');
            await page.getByRole('button', { name: 'Allow' }).click();
            await waitForRelyingParty(page, h.rp);
            await page.goto(`${h.server.url}/oauth/logout`);
            expect(await heading(page)).to.equal('Sign out?');
            await check('logout');
            await page.goto(`${h.server.url}/interaction/expired-or-unknown`);
            await check('error');
            expect(shots.length).to.equal(5);
          },
          { viewport: { width, height } },
        );
      });
    }
  });
});
