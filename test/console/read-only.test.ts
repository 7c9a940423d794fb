import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { skipWithoutChromium } from '../support/browser.js';
import { SERVICE } from '../support/fixtures.js';
import { openConsole, startConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';

/** Buttons that change nothing on the server: a viewer may use them. */
const HARMLESS = /^(View .*|Sign out|Menu|Open navigation|Close navigation|Load more|Copy.*|Show.*|Hide.*|Apply.*|Clear filters?|Search|Filter.*|Refresh|Actions for .*|More actions.*)$/;

/** Every button on the page: its accessible name, whether it is disabled, and its tooltip. */
async function buttons(page: Page) {
  return page.locator('main button, main a.btn').evaluateAll((els) =>
    els
      .filter((el) => (el as unknown as { offsetParent: unknown }).offsetParent !== null)
      .map((el) => ({
        name: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim(),
        disabled: (el as unknown as { disabled?: boolean }).disabled === true,
        title: el.getAttribute('title') ?? '',
      })),
  );
}

/**
 * Honest read-only: a viewer walks every page of the console. Every control that would change
 * something is disabled with a tooltip naming the permission it needs, or not there at all; the
 * scopes page cannot be made "unsaved".
 */
describe('console: a viewer’s read-only pages', function () {
  this.timeout(180_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('offers a viewer no control that would fail, and names the missing permission on each disabled one', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER);
    try {
      const pages = [
        ['/console/', 'API Access'],
        [`/console/credentials/${SERVICE.id}`, undefined],
        ['/console/api-keys', 'API keys'],
        ['/console/apis', 'APIs'],
        ['/console/users', 'Users'],
        ['/console/roles', 'Roles'],
        ['/console/audit', 'Audit log'],
        ['/console/signing-keys', 'Signing keys'],
      ] as const;
      for (const [path, heading] of pages) {
        await page.goto(`${h.server.url}${path}`);
        await page.locator('#page-title').waitFor();
        if (heading) await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        // The page's content is in: its lists and their row actions are there to check.
        await page.locator('main .loading').first().waitFor({ state: 'detached' });
        await page.locator('main table, main .empty, main .section').first().waitFor();
        // Row actions live in each row's menu (components/row-menu.tsx): open them all, so that the
        // actions are checked too, not skipped as hidden.
        await page.locator('main details.row-menu').evaluateAll((menus) => menus.forEach((m) => ((m as unknown as { open: boolean }).open = true)));
        for (const b of await buttons(page)) {
          if (b.disabled) expect(b.title, `${path}: disabled "${b.name}" says why`).to.match(/[a-z-]+:(read|write|admin|delete)|Built in|Tick/);
          else expect(b.name, `${path}: "${b.name}" is enabled for a viewer`).to.match(HARMLESS);
        }
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('shows a viewer the scopes page read-only: nothing can be ticked, nothing becomes unsaved', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER, { path: `/console/credentials/${SERVICE.id}/scopes` });
    try {
      await page.getByText(/You need the clients:write permission to change scopes/).waitFor();
      const boxes = page.locator('main input[type=checkbox]');
      expect(await boxes.count()).to.be.greaterThan(0);
      for (const box of await boxes.all()) expect(await box.isDisabled()).to.equal(true);
      await page.locator('main .scope-group-head label').first().click({ force: true });
      expect(await page.getByText(/unsaved changes/).count()).to.equal(0);
      expect(await page.getByRole('button', { name: 'Save scopes' }).isDisabled()).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
