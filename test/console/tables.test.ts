import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { basic, ORDERS_API, postForm } from '../support/fixtures.js';
import { ADMIN, openConsole, rowAction, startConsoleHarness, type ConsoleHarness } from '../support/console.js';
import { eventually } from '../support/eventually.js';

/**
 * Tables: ids whole on one line with a copy button (credentials, users, APIs, signing keys, resource
 * servers), row actions in a menu (credentials, users, API keys, APIs, webhooks), a title per page.
 */
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

  /** Whether an element stays on one line: its box is one line high however narrow the cell. */
  const oneLine = async (el: import('playwright-core').Locator) => {
    const box = await el.boundingBox();
    const lineHeight = await el.evaluate((e) => parseFloat((globalThis as unknown as { getComputedStyle(e: unknown): { lineHeight: string } }).getComputedStyle(e).lineHeight));
    return box !== null && box.height < lineHeight * 1.6;
  };

  it('a long client id stays on one line at desktop and phone sizes, and Copy puts exactly it on the clipboard', async () => {
    const longId = `integration.partner-${'x'.repeat(60)}.eu-west-1`;
    const made = await h.admin.post('/clients', { client_id: longId, client_name: 'Long id', type: 'service', scope: '' });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const { context, page, problems } = await openConsole(h, undefined, { viewport });
      try {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.server.url });
        const row = page.getByRole('row', { name: /Long id/ });
        const id = row.locator('code.id', { hasText: longId });
        await id.waitFor();
        expect(await id.textContent()).to.equal(longId);
        expect(await oneLine(id), `one line at ${viewport.width}px`).to.equal(true);
        const copy = row.getByRole('button', { name: 'Copy client ID of Long id' });
        await copy.click();
        await copy.getByText('Copied').waitFor();
        expect(await page.evaluate<string>('navigator.clipboard.readText()')).to.equal(longId);
        expect(problems).to.deep.equal([]);
      } finally {
        await context.close();
      }
    }
  });

  it('users, APIs and signing keys show emails, identifiers and key ids whole, in monospace, with Copy', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.server.url });
      await page.goto(`${h.server.url}/console/users`);
      const email = page.getByRole('row', { name: new RegExp(ADMIN.email) }).locator('code.id', { hasText: ADMIN.email });
      await email.waitFor();
      expect(await oneLine(email)).to.equal(true);
      expect(await email.evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontFamily: string } }).getComputedStyle(e).fontFamily)).to.match(/mono/i);
      await page.getByRole('button', { name: `Copy email of ${ADMIN.name}` }).click();
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).to.equal(ADMIN.email);

      await page.goto(`${h.server.url}/console/apis`);
      const identifier = page.getByRole('row', { name: /Orders API/ }).locator('code.id').first();
      await identifier.waitFor();
      const orders = (await identifier.textContent()) ?? '';
      expect(orders).to.match(/^https?:\/\//);
      await page.getByRole('button', { name: 'Copy identifier of Orders API' }).click();
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).to.equal(orders);

      await page.goto(`${h.server.url}/console/signing-keys`);
      const kid = page.locator('td[data-label="Key ID"] code.id').first();
      await kid.waitFor();
      const kidText = (await kid.textContent()) ?? '';
      expect(await oneLine(kid)).to.equal(true);
      await page.getByRole('button', { name: `Copy key ID ${kidText}` }).click();
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).to.equal(kidText);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('row actions are in each row’s menu, side by side nowhere: users, API keys and APIs act from it', async () => {
    const person = await h.admin.post('/users', { email: 'menu.person@example.test', name: 'Menu Person', roles: [] });
    expect(person.status).to.equal(201);
    const admin = (await h.findUser(ADMIN.email))!;
    const key = await h.admin.post('/api-keys', { user_id: admin.id, name: 'menu key', scopes: ['clients:read'] });
    expect(key.status, JSON.stringify(key.body)).to.equal(201);
    const { context, page, problems } = await openConsole(h, undefined, { path: '/console/users' });
    try {
      const row = page.getByRole('row', { name: /Menu Person/ });
      await row.waitFor();
      // Closed, the menu shows none of its actions; opened, all of them, one under another.
      expect(await row.getByRole('button', { name: 'Deactivate Menu Person' }).count()).to.equal(0);
      await row.getByLabel('Actions for Menu Person').click();
      const items = row.locator('.row-menu-items').getByRole('button');
      expect(await items.allTextContents()).to.include.members(['Edit', 'Roles', 'Reset link', 'Deactivate', 'Delete']);
      // Not clipped by the table's scrolling box: the last action is what the window shows at its place.
      const box = (await row.getByRole('button', { name: 'Delete Menu Person' }).boundingBox())!;
      const shown = await page.evaluate<string | null>(`document.elementFromPoint(${box.x + box.width / 2}, ${box.y + box.height / 2})?.getAttribute('aria-label') ?? null`);
      expect(shown).to.equal('Delete Menu Person');
      await row.getByRole('button', { name: 'Deactivate Menu Person' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Deactivate user' }).click();
      await eventually('the person is deactivated', async () => (await h.findUser('menu.person@example.test'))?.active === false);
      // Escape closes an open menu.
      await row.getByLabel('Actions for Menu Person').click();
      await row.getByRole('button', { name: 'Reactivate Menu Person' }).waitFor();
      await page.keyboard.press('Escape');
      await row.getByRole('button', { name: 'Reactivate Menu Person' }).waitFor({ state: 'hidden' });

      await page.goto(`${h.server.url}/console/api-keys`);
      const keyRow = page.getByRole('row', { name: /menu key/ });
      await (await rowAction(keyRow, 'Revoke menu key')).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
      await eventually('the key is gone', async () => (await h.admin.get(`/api-keys/${key.body.id}`)).status === 404);

      await page.goto(`${h.server.url}/console/apis`);
      const apiRow = page.getByRole('row', { name: /Orders API/ });
      await apiRow.getByLabel('Actions for Orders API').click();
      expect(await apiRow.locator('.row-menu-items').getByRole('button').allTextContents()).to.deep.equal(['Edit', 'Delete']);
      await apiRow.getByRole('button', { name: 'Edit Orders API' }).click();
      await page.getByRole('dialog').waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
