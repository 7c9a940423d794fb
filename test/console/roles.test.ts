import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';

/**
 * The Roles page in a real Chromium: how permissions read, built-in roles read-only, creating and
 * editing a role that mixes Management API permissions and API scopes, deleting a role people
 * hold, the API's refusals, and a viewer's read-only view. Each change is checked through the API.
 */
describe('console: roles page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  /** A role's section on the page, found by its heading. */
  const section = (page: Page, name: string) => page.locator('section', { has: page.getByRole('heading', { name: new RegExp(`^${name}\\b`) }) });

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('lists each role with its permissions in words; built-in roles are marked read-only and offer no actions', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/roles' });
    try {
      const developer = section(page, 'developer');
      await developer.waitFor();
      await developer.getByText('Built in · read-only').waitFor();
      await developer.getByText(MANAGEMENT_SCOPES['clients:write']).waitFor();
      expect(await developer.locator('code').allTextContents()).to.include.members(['clients:read', 'clients:write', 'audit:read']);
      for (const name of ['admin', 'developer', 'viewer']) {
        expect(await section(page, name).getByRole('button').count(), `${name} has no buttons`).to.equal(0);
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('creates a role mixing a Management API permission and an API scope, then changes its permissions and description', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/roles' });
    try {
      await page.getByRole('button', { name: 'Create role' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create role' });
      // The hint states the name rule the API enforces (^[a-z][a-z0-9_-]{1,62}$).
      await dialog.getByText(/Lower-case letters, digits, _ and -, starting with a letter/).waitFor();
      await dialog.getByLabel('Name').fill('order-reader');
      await dialog.getByLabel('Description').fill('Reads orders');
      await dialog.getByRole('group', { name: 'Gatehouse Management API' }).getByLabel('apis:read').check();
      const orders = dialog.getByRole('group', { name: 'Orders API' });
      await orders.getByLabel('orders:read').check();
      await orders.getByText('1 of 2 selected').waitFor();
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await page.getByText('Role order-reader created.').waitFor();
      const made = (await h.admin.get('/roles/order-reader')).body;
      expect(made).to.deep.include({ description: 'Reads orders', builtin: false });
      expect(made.permissions.sort()).to.deep.equal(['apis:read', 'orders:read']);

      // On the page: the Management API permission with its words, the API scope among the API scopes.
      const role = section(page, 'order-reader');
      await role.getByText(MANAGEMENT_SCOPES['apis:read']).waitFor();
      await role.locator('[aria-label="API scopes"]').getByText('orders:read').waitFor();

      await role.getByRole('button', { name: 'Edit role order-reader' }).click();
      const edit = page.getByRole('dialog', { name: 'Edit role order-reader' });
      expect(await edit.getByLabel('Name').getAttribute('readonly')).to.not.equal(null);
      expect(await edit.getByRole('group', { name: 'Orders API' }).getByLabel('orders:read').isChecked()).to.equal(true);
      await edit.getByRole('group', { name: 'Orders API' }).getByLabel('orders:write').check();
      await edit.getByLabel('Description').fill('Reads and writes orders');
      await edit.getByRole('button', { name: 'Save role' }).click();
      await page.getByText(/Role order-reader saved/).waitFor();
      await role.getByText('Reads and writes orders').waitFor();
      const saved = (await h.admin.get('/roles/order-reader')).body;
      expect(saved.description).to.equal('Reads and writes orders');
      expect(saved.permissions.sort()).to.deep.equal(['apis:read', 'orders:read', 'orders:write']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('deletes a custom role after confirmation; the people who held it lose it', async () => {
    expect((await h.admin.post('/roles', { name: 'temp-role', description: 'Short-lived', permissions: ['clients:read'] })).status).to.equal(201);
    const holder = await h.admin.post('/users', { name: 'Temp Holder', email: 'temp-holder@example.test', roles: ['temp-role', 'viewer'] });
    expect(holder.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/roles' });
    try {
      await section(page, 'temp-role').getByRole('button', { name: 'Delete role temp-role' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete role temp-role?' });
      await confirm.getByText(/lose its permissions at once/).waitFor();
      await confirm.getByRole('button', { name: 'Delete role' }).click();
      await page.getByText('Role temp-role was deleted.').waitFor();
      await page.getByRole('heading', { name: /^temp-role/ }).waitFor({ state: 'detached' });
      expect((await h.admin.get('/roles/temp-role')).status).to.equal(404);
      expect((await h.admin.get(`/users/${holder.body.id}`)).body.roles).to.deep.equal(['viewer']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('shows the API’s refusals: a name already taken (409, a built-in one too), a name breaking the rule', async () => {
    expect((await h.admin.post('/roles', { name: 'taken', permissions: [] })).status).to.equal(201);
    const { context, page } = await openConsole(h, ADMIN, { path: '/console/roles' });
    try {
      await page.getByRole('button', { name: 'Create role' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create role' });
      await dialog.getByLabel('Name').fill('taken');
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await dialog.getByRole('alert').getByText(/already exists/).waitFor();

      await dialog.getByLabel('Name').fill('admin');
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await dialog.getByRole('alert').getByText('a role named admin already exists').waitFor();
      expect((await h.admin.get('/roles/admin')).body.builtin).to.equal(true);

      // One letter is too short for ^[a-z][a-z0-9_-]{1,62}$: the reason sits under the name field.
      await dialog.getByLabel('Name').fill('x');
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await dialog.locator('#role-name-error').getByText(/lower-case letters/).waitFor();
      expect((await h.admin.get('/roles/x')).status).to.equal(404);
    } finally {
      await context.close();
    }
  });

  it('a viewer reads the roles but cannot create or change one, and the button says which permission that needs', async () => {
    expect((await h.admin.post('/roles', { name: 'viewer-sees', permissions: ['clients:read'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, VIEWER, { path: '/console/roles' });
    try {
      const create = page.getByRole('button', { name: 'Create role' });
      await create.waitFor();
      expect(await create.isDisabled()).to.equal(true);
      expect(await create.getAttribute('title')).to.include('roles:write');
      const custom = section(page, 'viewer-sees');
      expect(await custom.getByRole('button', { name: 'Edit role viewer-sees' }).isDisabled()).to.equal(true);
      expect(await custom.getByRole('button', { name: 'Delete role viewer-sees' }).isDisabled()).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
