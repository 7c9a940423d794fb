import { expect } from 'chai';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ORDERS_API } from '../support/fixtures.js';
import { ADMIN, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness, rowAction } from '../support/console.js';

/**
 * The APIs page in a real Chromium, driven as a person would. Every change made in the page is
 * checked through the Management API, and every refusal of the server is expected where the
 * person is looking (next to the field, or in the dialog).
 */
describe('console: APIs page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  type ApiRecord = { id: string; identifier: string; name: string; scopes: { name: string; description?: string }[]; access_token_ttl: number; enforce_roles: boolean };
  const apis = async () => (await h.admin.get('/apis?limit=200')).body.data as ApiRecord[];
  const byIdentifier = async (identifier: string) => (await apis()).find((a) => a.identifier === identifier);

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('registers an API with two scopes, edits a scope’s description, then deletes it', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'APIs' }).click();
      await page.getByRole('heading', { name: 'APIs', level: 1 }).waitFor();
      await page.getByRole('row', { name: /Orders API/ }).waitFor();

      await page.getByRole('button', { name: 'Register API' }).click();
      const dialog = page.getByRole('dialog', { name: 'Register API' });
      expect(await dialog.getByLabel('Access token lifetime (seconds)').inputValue(), 'the default lifetime').to.equal('900');
      await dialog.getByLabel('Name').fill('Inventory API');
      await dialog.getByLabel('Identifier').fill('https://inventory.example.test');
      await dialog.getByLabel('Scope 1', { exact: true }).fill('inventory:read');
      await dialog.getByLabel('Description of scope 1').fill('See stock levels');
      // "Add scope" puts the cursor in the new row: the rest is typed.
      await dialog.getByRole('button', { name: 'Add scope' }).click();
      await dialog.locator('input:focus').and(dialog.getByLabel('Scope 2', { exact: true })).waitFor();
      await page.keyboard.type('inventory:write');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Change stock');
      await dialog.getByRole('button', { name: 'Add scope' }).click();
      await dialog.getByLabel('Scope 3', { exact: true }).fill('inventory:delete');
      await dialog.getByRole('button', { name: 'Remove scope 3' }).click();
      await dialog.getByLabel('Access token lifetime (seconds)').fill('600');
      await dialog.getByLabel('Enforce user roles').check();
      await dialog.getByRole('button', { name: 'Register API' }).click();
      await page.getByRole('status').filter({ hasText: 'Inventory API is registered.' }).waitFor();

      const registered = (await byIdentifier('https://inventory.example.test'))!;
      expect(registered).to.deep.include({ name: 'Inventory API', access_token_ttl: 600, enforce_roles: true });
      expect(registered.scopes).to.deep.equal([
        { name: 'inventory:read', description: 'See stock levels' },
        { name: 'inventory:write', description: 'Change stock' },
      ]);
      const row = page.getByRole('row', { name: /Inventory API/ });
      await row.getByText('2 scopes').waitFor();
      await row.getByText('10 min').waitFor();
      expect(await page.locator('table.responsive tbody td:not([data-label])').count(), 'every cell labelled for phones').to.equal(0);

      await (await rowAction(row, 'Edit Inventory API')).click();
      const edit = page.getByRole('dialog', { name: 'Edit Inventory API' });
      expect(await edit.getByLabel('Identifier').getAttribute('readonly'), 'the identifier cannot change').to.not.equal(null);
      await edit.getByLabel('Description of scope 2').fill('Change stock levels');
      await edit.getByRole('button', { name: 'Save API' }).click();
      await page.getByRole('status').filter({ hasText: 'Inventory API was saved.' }).waitFor();
      expect((await h.admin.get(`/apis/${registered.id}`)).body.scopes[1]).to.deep.equal({ name: 'inventory:write', description: 'Change stock levels' });

      await (await rowAction(row, 'Delete Inventory API')).click();
      const confirm = page.getByRole('dialog', { name: 'Delete Inventory API?' });
      await confirm.getByText('This cannot be undone.').waitFor();
      await confirm.getByRole('button', { name: 'Delete API' }).click();
      await page.getByRole('status').filter({ hasText: 'Inventory API was deleted.' }).waitFor();
      await row.waitFor({ state: 'detached' });
      expect((await h.admin.get(`/apis/${registered.id}`)).status).to.equal(404);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('the built-in Management API shows its scopes; only its resource servers can be edited, and it cannot be deleted', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/apis' });
    try {
      const row = page.getByRole('row', { name: /Gatehouse Management API/ });
      await row.waitFor();
      await row.getByText('Built in').waitFor();
      expect(await row.locator('.row-menu-items').getByRole('button', { includeHidden: true }).allTextContents()).to.deep.equal(['Resource servers']);
      await row.getByText(`${Object.keys(MANAGEMENT_SCOPES).length} scopes`).click();
      await row.getByText('apis:write').waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('says what is wrong before sending, and shows the server’s refusals (taken identifier, scopes still held)', async () => {
    const before = (await apis()).length;
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/apis' });
    try {
      await page.getByRole('button', { name: 'Register API' }).click();
      const dialog = page.getByRole('dialog', { name: 'Register API' });
      await dialog.getByLabel('Name').fill('Orders again');
      await dialog.getByLabel('Identifier').fill(ORDERS_API);
      await dialog.getByLabel('Scope 1', { exact: true }).fill('orders');
      await dialog.getByLabel('Access token lifetime (seconds)').fill('30');
      await dialog.getByRole('button', { name: 'Register API' }).click();
      await dialog.getByText('Scopes are named resource:action, e.g. orders:read.').waitFor();
      await dialog.getByText('Between 60 and 3600 seconds.').waitFor();

      // Fixed locally; the server then refuses the identifier that is taken, in the dialog.
      await dialog.getByLabel('Scope 1', { exact: true }).fill('orders2:read');
      await dialog.getByLabel('Access token lifetime (seconds)').fill('3600');
      await dialog.getByRole('button', { name: 'Register API' }).click();
      const refusal = dialog.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.textContent()).to.include('already exists');
      expect((await apis()).length).to.equal(before);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Removing a scope a credential still holds (svc-orders has orders:read): refused, nothing changes.
      await (await rowAction(page, 'Edit Orders API')).click();
      const edit = page.getByRole('dialog', { name: 'Edit Orders API' });
      await edit.getByRole('button', { name: 'Remove scope 1' }).click();
      await edit.getByRole('button', { name: 'Save API' }).click();
      await edit.getByRole('alert').getByText(/still in use/).waitFor();
      await edit.getByRole('button', { name: 'Cancel' }).click();

      // Deleting it is refused for the same reason; the dialog says so and the API stays.
      await (await rowAction(page, 'Delete Orders API')).click();
      const confirm = page.getByRole('dialog', { name: 'Delete Orders API?' });
      await confirm.getByRole('button', { name: 'Delete API' }).click();
      const held = confirm.getByRole('alert');
      await held.waitFor();
      expect(await held.textContent()).to.match(/still in use.*orders:read/);
      expect((await byIdentifier(ORDERS_API))?.scopes.map((s) => s.name)).to.deep.equal(['orders:read', 'orders:write']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a viewer can look but not change: buttons are disabled and the page names apis:write', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER, { path: '/console/apis' });
    try {
      await page.getByRole('row', { name: /Orders API/ }).waitFor();
      const register = page.getByRole('button', { name: 'Register API' }).first();
      expect(await register.isDisabled()).to.equal(true);
      expect(await register.getAttribute('title')).to.include('apis:write');
      expect(await page.getByRole('button', { name: 'Edit Orders API', includeHidden: true }).isDisabled()).to.equal(true);
      await page.getByText(/registering and changing APIs needs the apis:write permission/).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('shows the server’s 403, naming the permission, when apis:write is taken away while the page is open', async () => {
    expect((await h.admin.post('/roles', { name: 'api-editor', permissions: ['apis:read', 'apis:write'] })).status).to.equal(201);
    const who = { email: 'editor@example.test', name: 'Api Editor', password: 'api editor password 12' };
    expect((await h.admin.post('/users', { ...who, roles: ['api-editor'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, who, { path: '/console/apis' });
    try {
      await page.getByRole('button', { name: 'Register API' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register API' });
      await dialog.getByLabel('Name').fill('Late API');
      await dialog.getByLabel('Identifier').fill('https://late.example.test');
      expect((await h.admin.patch('/roles/api-editor', { permissions: ['apis:read'] })).status).to.equal(200);
      await dialog.getByRole('button', { name: 'Register API' }).click();
      const refusal = dialog.getByRole('alert');
      await refusal.waitFor();
      expect(await refusal.textContent()).to.include('You need the apis:write permission');
      expect(await byIdentifier('https://late.example.test')).to.equal(undefined);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
