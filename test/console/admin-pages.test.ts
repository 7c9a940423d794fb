import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, DEVELOPER, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';

/**
 * API keys, APIs, users, roles and the audit log in a real Chromium: each change made on a page is
 * checked through the Management API (or by using the key it made), as a person would rely on it.
 */
describe('console: API keys, APIs, users, roles, audit log', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  const userId = async (email: string) => ((await h.admin.get('/users?limit=200')).body.data as { id: string; email: string }[]).find((u) => u.email === email)!.id;
  /** Polls a condition from here: the console's CSP (rightly) refuses the string evaluation waitForFunction uses. */
  async function eventually(check: () => Promise<boolean>, what: string) {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting until ${what}`);
  }
  const meWith = (key: string) => fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('API keys: creates one (shown once, Done waits for the confirmation), the key works, revoking stops it', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { name: 'You have no API keys' }).waitFor();
      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      await create.getByLabel('Name').fill('Nightly report');
      await create.getByRole('group', { name: 'Gatehouse Management API' }).getByLabel('clients:read').check();
      await create.getByRole('group', { name: 'Gatehouse Management API' }).getByText('1 of 13 selected').waitFor();
      await create.getByRole('button', { name: 'Create API key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      const key = await shown.getByLabel('API key', { exact: true }).inputValue();
      expect(key).to.match(/^ak_live_/);
      expect(await shown.getByRole('button', { name: 'Done' }).isDisabled()).to.equal(true);
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();

      const me = await meWith(key);
      expect(me.status).to.equal(200);
      expect(((await me.json()) as { permissions: string[] }).permissions).to.deep.equal(['clients:read']);

      const row = page.getByRole('row', { name: /Nightly report/ });
      await row.getByRole('button', { name: 'Revoke Nightly report' }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke Nightly report?' });
      await confirm.getByText('This cannot be undone.').waitFor();
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByText('Nightly report was revoked.').waitFor();
      expect((await meWith(key)).status).to.equal(401);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('API keys: an administrator sees everyone’s keys and can revoke a developer’s', async () => {
    const devId = await userId(DEVELOPER.email);
    const made = await h.admin.post('/api-keys', { name: 'Dev laptop', scopes: ['clients:read'], user_id: devId });
    expect(made.status).to.equal(201);
    const { context, page } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/api-keys`);
      await page.getByLabel('Show').selectOption({ label: 'Everyone’s keys' });
      const row = page.getByRole('row', { name: /Dev laptop/ });
      await row.waitFor();
      expect(await row.textContent()).to.include(DEVELOPER.email);
      await row.getByRole('button', { name: 'Revoke Dev laptop' }).click();
      await page.getByRole('dialog', { name: 'Revoke Dev laptop?' }).getByRole('button', { name: 'Revoke key' }).click();
      await page.getByText('Dev laptop was revoked.').waitFor();
      expect((await meWith(made.body.key)).status).to.equal(401);
    } finally {
      await context.close();
    }
  });

  it('API keys: a viewer cannot create one, and the page says which permission that needs', async () => {
    const { context, page } = await openConsole(h, VIEWER);
    try {
      await page.goto(`${h.server.url}/console/api-keys`);
      const button = page.getByRole('button', { name: 'Create API key' }).first();
      await button.waitFor();
      expect(await button.isDisabled()).to.equal(true);
      expect(await button.getAttribute('title')).to.include('api-keys:write');
    } finally {
      await context.close();
    }
  });

  it('APIs: registers one with two scopes, edits a description, deletes it; the built-in API has no edit button', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/apis`);
      await page.getByRole('heading', { name: 'APIs', level: 1 }).waitFor();
      expect(await page.getByRole('row', { name: /Gatehouse Management API/ }).getByRole('button').count()).to.equal(0);

      await page.getByRole('button', { name: 'Register API' }).click();
      const dialog = page.getByRole('dialog', { name: 'Register API' });
      await dialog.getByLabel('Name').fill('Inventory API');
      await dialog.getByLabel('Identifier').fill('https://inventory.example.test');
      await dialog.getByLabel('Scope 1', { exact: true }).fill('inventory:read');
      await dialog.getByLabel('Description of scope 1').fill('See stock levels');
      await dialog.getByRole('button', { name: 'Add scope' }).click();
      await dialog.getByLabel('Scope 2', { exact: true }).fill('inventory:write');
      await dialog.getByRole('button', { name: 'Register API' }).click();
      await page.getByText('Inventory API is registered.').waitFor();
      const registered = ((await h.admin.get('/apis?limit=200')).body.data as { identifier: string; id: string; scopes: { name: string; description?: string }[] }[]).find(
        (a) => a.identifier === 'https://inventory.example.test',
      )!;
      expect(registered.scopes.map((s) => s.name)).to.deep.equal(['inventory:read', 'inventory:write']);

      await page.getByRole('button', { name: 'Edit Inventory API' }).click();
      const edit = page.getByRole('dialog', { name: 'Edit Inventory API' });
      await edit.getByLabel('Description of scope 2').fill('Change stock levels');
      await edit.getByRole('button', { name: 'Save API' }).click();
      await page.getByText('Inventory API was saved.').waitFor();
      expect((await h.admin.get(`/apis/${registered.id}`)).body.scopes[1]).to.deep.include({ name: 'inventory:write', description: 'Change stock levels' });

      await page.getByRole('button', { name: 'Delete Inventory API' }).click();
      await page.getByRole('dialog', { name: 'Delete Inventory API?' }).getByRole('button', { name: 'Delete API' }).click();
      await page.getByText('Inventory API was deleted.').waitFor();
      expect((await h.admin.get(`/apis/${registered.id}`)).status).to.equal(404);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('APIs: a delete the server refuses (scopes still held) shows its reason', async () => {
    const { context, page } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/apis`);
      await page.getByRole('button', { name: 'Delete Orders API' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete Orders API?' });
      await confirm.getByRole('button', { name: 'Delete API' }).click();
      await confirm.getByRole('alert').waitFor();
      expect(await confirm.getByRole('alert').textContent()).to.match(/orders:read|still|hold/i);
      expect((await h.admin.get('/apis?limit=200')).body.data.some((a: { name: string }) => a.name === 'Orders API')).to.equal(true);
    } finally {
      await context.close();
    }
  });

  it('Users: adds a developer, changes their roles, deactivates them; a viewer is told users:write is missing', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/users`);
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByLabel('Name').fill('Grace Hopper');
      await add.getByLabel('Email').fill('grace@example.test');
      await add.getByLabel('Initial password').fill('cobol compiler 1959');
      await add.getByLabel(/^developer/).check();
      await add.getByRole('button', { name: 'Add user' }).click();
      await page.getByText('Grace Hopper was added.').waitFor();
      const graceId = await userId('grace@example.test');
      expect((await h.admin.get(`/users/${graceId}`)).body.roles).to.deep.equal(['developer']);

      await page.getByRole('button', { name: 'Change roles of Grace Hopper' }).click();
      const roles = page.getByRole('dialog', { name: 'Roles of Grace Hopper' });
      await roles.getByLabel(/^developer/).uncheck();
      await roles.getByLabel(/^viewer/).check();
      await roles.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText(/Roles of Grace Hopper saved/).waitFor();
      expect((await h.admin.get(`/users/${graceId}`)).body.roles).to.deep.equal(['viewer']);

      await page.getByRole('button', { name: 'Deactivate Grace Hopper' }).click();
      const confirm = page.getByRole('dialog', { name: 'Deactivate Grace Hopper?' });
      await confirm.getByText(/signed out everywhere/).waitFor();
      await confirm.getByRole('button', { name: 'Deactivate user' }).click();
      await page.getByText('Grace Hopper was deactivated.').waitFor();
      expect((await h.admin.get(`/users/${graceId}`)).body.active).to.equal(false);
      // Nobody is offered deactivating themselves.
      expect(await page.getByRole('button', { name: `Deactivate ${ADMIN.name}` }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }

    const viewer = await openConsole(h, VIEWER);
    try {
      await viewer.page.goto(`${h.server.url}/console/users`);
      await viewer.page.getByRole('button', { name: 'Change roles of Dev Eloper' }).click();
      const dialog = viewer.page.getByRole('dialog', { name: 'Roles of Dev Eloper' });
      await dialog.getByRole('button', { name: 'Save roles' }).click();
      await dialog.getByRole('alert').getByText('You need the users:write permission to do this.').waitFor();
    } finally {
      await viewer.context.close();
    }
  });

  it('Roles: creates a custom role with two permissions, edits it; built-in roles cannot be edited', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/roles`);
      await page.getByRole('heading', { name: /^admin/ }).waitFor();
      expect(await page.getByRole('button', { name: 'Edit role admin' }).count()).to.equal(0);
      await page.getByRole('button', { name: 'Create role' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create role' });
      await dialog.getByLabel('Name').fill('auditor');
      await dialog.getByLabel('Description').fill('Reads the audit log and credentials');
      await dialog.getByLabel('audit:read').check();
      await dialog.getByLabel('clients:read').check();
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await page.getByText('Role auditor created.').waitFor();
      expect((await h.admin.get('/roles/auditor')).body.permissions.sort()).to.deep.equal(['audit:read', 'clients:read']);

      await page.getByRole('button', { name: 'Edit role auditor' }).click();
      const edit = page.getByRole('dialog', { name: 'Edit role auditor' });
      await edit.getByLabel('orders:read').check();
      await edit.getByRole('button', { name: 'Save role' }).click();
      await page.getByText(/Role auditor saved/).waitFor();
      expect((await h.admin.get('/roles/auditor')).body.permissions.sort()).to.deep.equal(['audit:read', 'clients:read', 'orders:read']);

      // A name the API refuses: its reason appears next to the field.
      await page.getByRole('button', { name: 'Create role' }).click();
      const bad = page.getByRole('dialog', { name: 'Create role' });
      await bad.getByLabel('Name').fill('Not Valid');
      await bad.getByRole('button', { name: 'Create role' }).click();
      await bad.locator('.field-error').waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('Audit log: newest first, filtered by type (the filter lands in the URL), paginated with Load more', async () => {
    // Enough events for more than one page of 50.
    for (let i = 0; i < 26; i++) {
      const made = await h.admin.post('/roles', { name: `bulk-${i}`, permissions: ['clients:read'] });
      expect(made.status).to.equal(201);
      await h.admin.delete(`/roles/bulk-${i}`);
    }
    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/audit`);
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).to.equal(50);
      await page.getByRole('button', { name: 'Load more' }).click();
      await eventually(async () => (await rows.count()) > 50, 'a second page is shown');

      await page.getByLabel('Event type').fill('role.created');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await eventually(async () => (await rows.allTextContents()).every((t) => t.includes('role.created')), 'only role.created is listed');
      expect(new URL(page.url()).searchParams.get('type')).to.equal('role.created');
      const first = await rows.first().textContent();
      expect(first?.replace(/\s+/g, ' '), 'newest first').to.include('bulk-25');

      await page.getByLabel('Event type').fill('nothing.matches');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByRole('heading', { name: 'No events match' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
