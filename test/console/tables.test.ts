import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { basic, ORDERS_API, postForm } from '../support/fixtures.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/** Tables: ids whole on one line with a copy button, row actions in a menu (Scopes, Revoke), a title per page. */
describe('console: tables and page titles', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('credentials list: the client id on one line with Copy; Scopes and Revoke from the row’s menu; each page has its own title', async () => {
    const created = await h.admin.post('/clients', { client_name: 'Menu target', type: 'service', scope: 'orders:read' });
    const { client_id: clientId, client_secret: secret } = created.body as { client_id: string; client_secret: string };
    const { context, page, problems } = await openConsole(h, undefined, { viewport: { width: 1280, height: 800 } });
    try {
      const row = page.getByRole('row', { name: /Menu target/ });
      await row.waitFor();
      expect(await page.title()).to.equal('API Access · Gatehouse console');
      const id = row.locator('code.id');
      expect(await id.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { whiteSpace: string } }).getComputedStyle(el).whiteSpace)).to.equal('nowrap');
      const box = await id.boundingBox();
      expect(box!.height, 'one line').to.be.lessThan(30);
      await row.getByRole('button', { name: 'Copy client ID of Menu target' }).waitFor();

      await row.getByLabel('Actions for Menu target').click();
      await row.getByRole('link', { name: 'Scopes' }).click();
      await page.getByRole('heading', { name: 'Scopes of Menu target' }).waitFor();
      expect(await page.title()).to.equal('Scopes of Menu target · Gatehouse console');
      await page.goBack();

      await page.getByRole('row', { name: /Menu target/ }).getByLabel('Actions for Menu target').click();
      await page.getByRole('row', { name: /Menu target/ }).getByRole('button', { name: 'Revoke' }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke Menu target?' });
      await confirm.getByRole('button', { name: 'Revoke credential' }).click();
      await page.getByRole('status').filter({ hasText: 'Menu target was revoked.' }).waitFor();
      const res = await postForm(`${h.server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic(clientId, secret) });
      expect(res.status).to.equal(401);

      for (const [path, title] of [['/console/users', 'Users'], ['/console/apis', 'APIs'], ['/console/audit', 'Audit log']] as const) {
        await page.goto(`${h.server.url}${path}`);
        await page.getByRole('heading', { name: title, level: 1 }).waitFor();
        expect(await page.title()).to.equal(`${title} · Gatehouse console`);
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
