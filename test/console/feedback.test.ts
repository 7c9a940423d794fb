import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import { skipWithoutChromium } from '../support/browser.js';
import { SERVICE } from '../support/fixtures.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/** Whether the element is inside the viewport as it is now, not merely somewhere on the page. */
async function inView(page: Page, element: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  const viewport = page.viewportSize()!;
  return Boolean(box && box.y >= 0 && box.y + box.height <= viewport.height && box.x >= 0 && box.x + box.width <= viewport.width);
}

/**
 * Feedback where the action happened: confirmations show in the viewport (a toast) on a phone and
 * after a save at the bottom of a long page; leaving the scopes page with unsaved changes asks first,
 * by a link or by the browser's Back button.
 */
describe('console: feedback and unsaved changes', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('on a phone, the scopes page’s "Saved" shows in view; settings saved at the bottom of a credential say so in view', async () => {
    const { context, page, problems } = await openConsole(h, undefined, { path: `/console/credentials/${SERVICE.id}/scopes`, viewport: { width: 390, height: 844 } });
    try {
      const orders = page.getByRole('region', { name: 'Orders API' });
      await orders.getByRole('checkbox', { name: /^orders:write/ }).check();
      await page.getByRole('button', { name: 'Save scopes' }).click();
      const saved = page.getByRole('status').filter({ hasText: /^Saved\./ });
      await saved.waitFor();
      expect(await inView(page, saved), 'the notice is on screen').to.equal(true);
      expect((await h.admin.get(`/clients/${SERVICE.id}`)).body.scope.split(' ')).to.include('orders:write');

      await page.goto(`${h.server.url}/console/credentials/${SERVICE.id}`);
      const name = page.getByLabel('Name', { exact: true });
      await name.fill('Orders sync (nightly)');
      await page.getByRole('button', { name: 'Save settings' }).click();
      const settings = page.getByRole('status').filter({ hasText: 'Settings saved.' });
      await settings.waitFor();
      expect(await inView(page, settings)).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await h.admin.patch(`/clients/${SERVICE.id}`, { scope: 'orders:read', client_name: 'Orders sync' });
      await context.close();
    }
  });

  it('leaving the scopes page with unsaved changes asks first; staying keeps them', async () => {
    // Reached from the credential's page inside the console, so that Back is a move within it.
    const { context, page } = await openConsole(h, undefined, { path: `/console/credentials/${SERVICE.id}` });
    try {
      await page.getByRole('button', { name: 'Edit scopes' }).click();
      const box = page.getByRole('region', { name: 'Orders API' }).getByRole('checkbox', { name: /^orders:write/ });
      await box.check();
      await page.getByText(/unsaved changes/).waitFor();
      const asked: string[] = [];
      page.once('dialog', (d) => {
        asked.push(d.message());
        void d.dismiss();
      });
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Orders sync' }).click();
      expect(asked).to.deep.equal(['You have unsaved scope changes. Leave this page and lose them?']);
      expect(new URL(page.url()).pathname).to.equal(`/console/credentials/${SERVICE.id}/scopes`);
      expect(await box.isChecked()).to.equal(true);

      // The browser's Back button asks too: refused, the page and its address stay.
      const scopesUrl = page.url();
      const askedOnBack: string[] = [];
      page.once('dialog', (d) => {
        askedOnBack.push(d.message());
        void d.dismiss();
      });
      await page.goBack();
      await page.waitForFunction(`location.href === ${JSON.stringify(scopesUrl)}`);
      expect(askedOnBack).to.deep.equal(['You have unsaved scope changes. Leave this page and lose them?']);
      expect(await box.isChecked()).to.equal(true);
      await page.getByText(/unsaved changes/).waitFor();

      page.once('dialog', (d) => void d.accept());
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Orders sync' }).click();
      await page.getByRole('heading', { name: 'Orders sync', level: 1 }).waitFor();
      expect((await h.admin.get(`/clients/${SERVICE.id}`)).body.scope).to.equal('orders:read');
    } finally {
      await context.close();
    }
  });
});
