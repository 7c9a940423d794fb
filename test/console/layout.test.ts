import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { projectPath } from '../../server/paths.js';
import { skipWithoutChromium } from '../support/browser.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';
import { SERVICE } from '../support/fixtures.js';

/**
 * The console as people use it beyond clicking: at 1280 px and on a phone, with the keyboard, with
 * every control labelled. With UPDATE_SCREENSHOTS=1 it also writes the screenshots the README shows.
 */
const PHONE = { width: 390, height: 844 };
const PAGES = [
  { path: '/console/', name: 'credentials', heading: 'API Access' },
  { path: '/console/api-keys', name: 'api-keys', heading: 'API keys' },
  { path: '/console/apis', name: 'apis', heading: 'APIs' },
  { path: '/console/users', name: 'users', heading: 'Users' },
  { path: '/console/roles', name: 'roles', heading: 'Roles' },
  { path: '/console/signing-keys', name: 'signing-keys', heading: 'Signing keys' },
  { path: '/console/resource-servers', name: 'resource-servers', heading: 'Resource servers' },
  { path: '/console/audit', name: 'audit', heading: 'Audit log' },
  { path: '/console/webhooks', name: 'webhooks', heading: 'Webhooks' },
];
const screenshotDir = process.env.UPDATE_SCREENSHOTS ? projectPath('docs', 'screenshots') : undefined;

async function shoot(page: Page, name: string) {
  if (screenshotDir) await page.screenshot({ path: join(screenshotDir, `console-${name}.png`), fullPage: false });
}

/*
 * What the checks below run in the page, as strings: this project's TypeScript has no DOM types
 * (the server must not use them by accident).
 */
/** Form controls on the page that have neither a <label> nor an aria-label. */
const unlabelled = (page: Page) =>
  page.evaluate<string[]>(`[...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden')
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 120))`);
const fitsWidth = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');
const focused = (page: Page) => page.evaluate<{ text: string; id: string; inDialog: boolean; outline: string } | null>(`(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return { text: (el.textContent ?? '').trim(), id: el.id, inDialog: el.closest('dialog') !== null, outline: getComputedStyle(el).outlineStyle };
})()`);

async function goTo(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { name, level: 1, exact: true }).waitFor();
  await page.locator('.loading').first().waitFor({ state: 'detached' });
}

describe('console: layout, keyboard and labels', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
    // Something in every list, so the pages (and screenshots) show what they are for.
    const users = (await h.admin.get('/users?limit=200')).body.data as { id: string; email: string }[];
    const ada = users.find((u) => u.email === 'ada@example.test')!;
    await h.admin.post('/api-keys', { name: 'CI deploys', scopes: ['clients:read', 'clients:write'], user_id: ada.id, expires_in: '90d' });
    await h.admin.post('/api-keys', { name: 'Grafana audit export', scopes: ['audit:read'], user_id: ada.id });
    await h.admin.post('/clients', { client_name: 'Billing reconciler', type: 'service', scope: 'billing:read orders:read', environment: 'test', expires_in: '365d' });
  });
  after(async () => h?.close());

  it('every page at 1280 px: a heading, labelled controls, no horizontal scrolling, no CSP violation', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      for (const p of PAGES) {
        await goTo(page, p.heading);
        expect(await unlabelled(page), p.path).to.deep.equal([]);
        expect(await fitsWidth(page), `${p.path} fits`).to.equal(true);
        await shoot(page, `${p.name}-desktop`);
      }
      // The dialogs and the scopes page, for the README.
      await goTo(page, 'API Access');
      await page.getByRole('button', { name: 'Create credential' }).click();
      const create = page.getByRole('dialog', { name: 'Create credential' });
      await create.getByLabel('Name').fill('Warehouse sync');
      expect(await unlabelled(page)).to.deep.equal([]);
      await shoot(page, 'create-desktop');
      await create.getByRole('button', { name: 'Create credential' }).click();
      const result = page.getByRole('dialog', { name: 'Credential created' });
      await result.waitFor();
      await shoot(page, 'secret-desktop');
      await result.getByLabel('I have saved my credentials securely').check();
      await result.getByRole('button', { name: 'Close and edit scopes' }).click();
      await page.getByRole('heading', { name: 'Scopes of Warehouse sync' }).waitFor();
      await page.getByRole('region', { name: 'Orders API' }).getByLabel('Select all Orders API scopes').check();
      expect(await unlabelled(page)).to.deep.equal([]);
      await shoot(page, 'scopes-desktop');

      // A credential's page ("Use this credential") and an API key's page (usage, roll).
      await page.goto(`${h.server.url}/console/credentials/${SERVICE.id}`);
      await page.getByRole('heading', { name: 'Use this credential' }).waitFor();
      expect(await unlabelled(page)).to.deep.equal([]);
      expect(await fitsWidth(page)).to.equal(true);
      await shoot(page, 'credential-desktop');
      await page.goto(`${h.server.url}/console/api-keys`);
      await page.getByRole('link', { name: 'CI deploys' }).click();
      await page.getByRole('heading', { name: 'CI deploys', level: 1 }).waitFor();
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      expect(await unlabelled(page)).to.deep.equal([]);
      expect(await fitsWidth(page)).to.equal(true);
      await shoot(page, 'api-key-desktop');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('on a phone: a menu instead of the sidebar, tables as cards, nothing wider than the screen', async () => {
    const { context, page, problems } = await openConsole(h, undefined, { viewport: PHONE });
    try {
      await page.getByRole('heading', { name: 'API Access' }).waitFor();
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      const nav = page.getByRole('navigation', { name: 'Console' });
      expect(await nav.isVisible(), 'navigation folded away').to.equal(false);
      expect(await page.locator('thead').first().isVisible(), 'table header hidden: rows are cards').to.equal(false);
      expect(await fitsWidth(page)).to.equal(true);
      await shoot(page, 'credentials-phone');
      const menu = page.getByRole('button', { name: 'Menu' });
      expect(await menu.getAttribute('aria-expanded')).to.equal('false');
      await menu.click();
      expect(await menu.getAttribute('aria-expanded')).to.equal('true');
      await nav.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
      expect(await nav.isVisible(), 'the menu closes after navigating').to.equal(false);
      expect(await fitsWidth(page)).to.equal(true);
      await shoot(page, 'audit-phone');
      for (const [path, heading, name] of [
        [`/console/credentials/${SERVICE.id}`, 'Use this credential', 'credential-phone'],
        ['/console/api-keys', 'API keys', 'api-keys-phone'],
        ['/console/webhooks', 'Webhooks', 'webhooks-phone'],
      ]) {
        await page.goto(`${h.server.url}${path}`);
        await page.getByRole('heading', { name: heading }).first().waitFor();
        await page.locator('.loading').first().waitFor({ state: 'detached' });
        expect(await fitsWidth(page), `${path} fits a phone`).to.equal(true);
        await shoot(page, name);
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('works from the keyboard: skip link, visible focus, dialogs that hold focus and give it back', async () => {
    const { context, page } = await openConsole(h);
    try {
      await page.getByRole('heading', { name: 'API Access' }).waitFor();
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      await page.keyboard.press('Tab');
      expect((await focused(page))?.text).to.equal('Skip to content');
      await page.keyboard.press('Enter');
      expect((await focused(page))?.id).to.equal('main');

      // Reach "Create credential" with Tab alone, open it with Enter.
      let found = false;
      for (let i = 0; i < 30 && !found; i++) {
        await page.keyboard.press('Tab');
        found = (await focused(page))?.text === 'Create credential';
      }
      expect(found, 'Create credential is reachable with Tab').to.equal(true);
      expect((await focused(page))?.outline, 'focus is visible').to.not.equal('none');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Create credential' });
      await dialog.waitFor();
      expect((await focused(page))?.inDialog, 'focus moves into the dialog').to.equal(true);
      for (let i = 0; i < 15; i++) {
        await page.keyboard.press('Tab');
        const now = await focused(page);
        expect(now === null || now.inDialog, 'focus stays in the dialog').to.equal(true);
      }
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      // Focus comes back in the same task as the dialog closes, or the next one: allow a moment.
      let back: string | undefined;
      for (let i = 0; i < 20 && back !== 'Create credential'; i++) {
        back = (await focused(page))?.text;
        if (back !== 'Create credential') await new Promise((r) => setTimeout(r, 50));
      }
      expect(back, 'focus returns to the button').to.equal('Create credential');
    } finally {
      await context.close();
    }
  });
});
