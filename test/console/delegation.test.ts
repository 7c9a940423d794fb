import { expect } from 'chai';
import type { Locator } from 'playwright-core';
import { SERVICE } from '../support/fixtures.js';
import { newKey, newPerson, newRole } from '../support/accounts.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, DEVELOPER, openConsole, startConsoleHarness, type ConsoleHarness, rowAction } from '../support/console.js';
import { managementApi } from '../support/management.js';

/**
 * Issue 8 in the console, in a real Chromium: it shows who owns each credential and offers only
 * what the delegation rule allows (GET /me may_confer), saying why for the rest: another team's
 * credential, a role editor's permissions, a users-writer facing an administrator, and the APIs'
 * resource servers. What the page shows is checked against what the API then does.
 */
describe('console: the delegation rule (issue 8)', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;
  const PAYROLL = 'https://payroll.example.test';

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
    // An API that enforces roles: its scope is held only through a role (or by apis:write holders).
    const payroll = await h.admin.post('/apis', { identifier: PAYROLL, name: 'Payroll API', scopes: [{ name: 'payroll:admin', description: 'Run payroll' }], enforce_roles: true });
    expect(payroll.status, JSON.stringify(payroll.body)).to.equal(201);
  });
  after(async () => h?.close());

  /** A credential made by `person` through their own API key, so that they own it. */
  async function clientOwnedBy(person: { id: string }, name: string): Promise<string> {
    const key = await newKey(h.admin, person.id, ['clients:read', 'clients:write']);
    const made = await managementApi(h.server, key.key).post('/clients', { client_name: name, type: 'service', scope: 'orders:read' });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    expect(made.body.owner).to.deep.include({ id: person.id });
    return made.body.client_id as string;
  }

  const signIn = (who: { email: string; password: string }, path: string) => openConsole(h, who, { path });
  const isDisabled = (l: Locator) => l.isDisabled();

  it('a developer sees another team’s credential read-only, with its owner and the reason; their own stays editable', async () => {
    const otherTeam = await newPerson(h.admin, ['developer'], 'Other Team');
    await clientOwnedBy(otherTeam, 'Team B billing sync');
    const dev = (await h.findUser(DEVELOPER.email))!;
    const mine = await clientOwnedBy(dev, 'My reports job');

    const { context, page, problems } = await signIn(DEVELOPER, '/console/');
    try {
      // The list names each owner, and the seed's credentials as made by an operator tool.
      const theirRow = page.getByRole('row', { name: /Team B billing sync/ });
      await theirRow.getByText(otherTeam.email).waitFor();
      await page.getByRole('row', { name: /Orders sync/ }).getByText('No owner — made by an operator tool').waitFor();
      await page.getByRole('row', { name: /My reports job/ }).getByText(DEVELOPER.email).waitFor();

      await theirRow.getByRole('link', { name: 'Team B billing sync' }).click();
      await page.getByRole('heading', { name: 'Team B billing sync', level: 1 }).waitFor();
      const reason = `Created by ${otherTeam.email}: changing it needs clients:admin`;
      await page.getByText(reason).waitFor();
      expect(await page.locator('.credential-owner').textContent()).to.equal(otherTeam.email);
      for (const name of ['Edit scopes', 'Suspend', 'Revoke', 'Rotate secret', 'Save settings']) {
        const button = page.getByRole('button', { name, exact: true });
        expect(await isDisabled(button), `${name} is disabled`).to.equal(true);
        expect(await button.getAttribute('title')).to.equal(reason);
      }
      expect(await isDisabled(page.getByLabel('Name'))).to.equal(true);
      expect(await isDisabled(page.getByLabel('IP allowlist'))).to.equal(true);

      // Its scopes page is a read-only view with the same reason.
      await page.getByRole('link', { name: 'View scopes' }).click();
      await page.getByRole('heading', { name: 'Scopes of Team B billing sync' }).waitFor();
      await page.getByText(reason).waitFor();
      expect(await isDisabled(page.getByRole('region', { name: 'Orders API' }).getByLabel('orders:write'))).to.equal(true);
      expect(await isDisabled(page.getByRole('button', { name: 'Save scopes' }))).to.equal(true);

      // Their own credential: editable, the owner is them, and only the scopes they hold are offered.
      await page.goto(`${h.server.url}/console/credentials/${mine}/scopes`);
      await page.getByRole('heading', { name: 'Scopes of My reports job' }).waitFor();
      const payroll = page.getByRole('region', { name: 'Payroll API' });
      expect(await isDisabled(payroll.getByLabel('payroll:admin'))).to.equal(true);
      await payroll.getByText('You do not hold payroll:admin').waitFor();
      const management = page.getByRole('region', { name: 'Gatehouse Management API' });
      expect(await isDisabled(management.getByLabel('users:write'))).to.equal(true);
      expect(await isDisabled(management.getByLabel('clients:read'))).to.equal(false);
      await page.getByRole('region', { name: 'Orders API' }).getByLabel('orders:write').check();
      await page.getByRole('button', { name: 'Save scopes' }).click();
      await page.getByText(/^Saved\./).waitFor();
      expect((await h.admin.get(`/clients/${mine}`)).body.scope.split(' ').sort()).to.deep.equal(['orders:read', 'orders:write']);
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'My reports job' }).click();
      await page.getByRole('heading', { name: 'My reports job', level: 1 }).waitFor();
      expect(await page.locator('.credential-owner').textContent()).to.equal(DEVELOPER.email);
      expect(await isDisabled(page.getByRole('button', { name: 'Suspend', exact: true }))).to.equal(false);
      expect(await page.getByText('Read-only for you.').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a role editor cannot tick permissions they lack, and cannot edit or delete a role that gives more than they hold', async () => {
    const editorRole = await newRole(h.admin, ['roles:read', 'roles:write', 'apis:read']);
    const editor = await newPerson(h.admin, [editorRole], 'Role Editor');
    const payrollRole = await newRole(h.admin, ['payroll:admin', 'users:read']);
    const { context, page, problems } = await signIn(editor, '/console/roles');
    try {
      const section = page.locator('section', { has: page.getByRole('heading', { name: new RegExp(`^${payrollRole}\\b`) }) });
      await section.getByText('You do not hold payroll:admin, users:read, which this role gives').waitFor();
      expect(await isDisabled(section.getByRole('button', { name: `Edit role ${payrollRole}` }))).to.equal(true);
      expect(await isDisabled(section.getByRole('button', { name: `Delete role ${payrollRole}` }))).to.equal(true);
      // Their own role gives nothing they lack: it stays editable.
      const own = page.locator('section', { has: page.getByRole('heading', { name: new RegExp(`^${editorRole}\\b`) }) });
      expect(await isDisabled(own.getByRole('button', { name: `Edit role ${editorRole}` }))).to.equal(false);

      await page.getByRole('button', { name: 'Create role' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create role' });
      const management = dialog.getByRole('group', { name: 'Gatehouse Management API' });
      for (const lacked of ['users:write', 'clients:admin', 'keys:write']) {
        expect(await isDisabled(management.getByRole('checkbox', { name: new RegExp(`^${lacked} `) })), lacked).to.equal(true);
      }
      await management.getByText('You do not hold users:write').waitFor();
      const payroll = dialog.getByRole('group', { name: 'Payroll API' });
      expect(await isDisabled(payroll.getByLabel('payroll:admin'))).to.equal(true);
      await payroll.getByText('You do not hold payroll:admin').waitFor();
      // Held permissions, and scopes of APIs that do not enforce roles, are offered.
      await dialog.getByLabel('Name').fill('report-readers');
      await management.getByLabel('apis:read').check();
      await dialog.getByRole('group', { name: 'Orders API' }).getByLabel('orders:read').check();
      // A disabled box cannot be ticked, even by force of a click.
      await management.getByLabel('users:write').click({ force: true });
      expect(await management.getByLabel('users:write').isChecked()).to.equal(false);
      await dialog.getByRole('button', { name: 'Create role' }).click();
      await page.getByText('Role report-readers created.').waitFor();
      expect((await h.admin.get('/roles/report-readers')).body.permissions.sort()).to.deep.equal(['apis:read', 'orders:read']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a users-writer sees an administrator’s row actions and API keys disabled with the reason, and cannot give roles beyond them', async () => {
    const peopleRole = await newRole(h.admin, ['users:read', 'users:write', 'roles:read', 'api-keys:read', 'api-keys:write']);
    const writer = await newPerson(h.admin, [peopleRole], 'People Writer');
    const newcomer = await newPerson(h.admin, [], 'New Comer');
    const adminUser = (await h.findUser(ADMIN.email))!;
    await newKey(h.admin, adminUser.id, ['clients:read'], { name: 'admin deploy key' });
    const { context, page, problems } = await signIn(writer, '/console/users');
    try {
      const adminRow = page.getByRole('row', { name: new RegExp(ADMIN.email) });
      await adminRow.getByText(/^You do not hold .*keys:write.*, which their roles give$/).waitFor();
      for (const name of [`Edit ${ADMIN.name}`, `Change roles of ${ADMIN.name}`, `Deactivate ${ADMIN.name}`]) {
        expect(await isDisabled(adminRow.getByRole('button', { name, includeHidden: true })), name).to.equal(true);
      }

      // Someone holding nothing: their actions are offered; in the roles dialog, admin is not.
      const row = page.getByRole('row', { name: new RegExp(newcomer.email) });
      await (await rowAction(row, 'Change roles of New Comer')).click();
      const dialog = page.getByRole('dialog', { name: 'Roles of New Comer' });
      expect(await isDisabled(dialog.getByLabel(/^admin/))).to.equal(true);
      await dialog.getByText(/You do not hold .*clients:admin.*, which this role gives/).first().waitFor();
      expect(await isDisabled(dialog.getByLabel(new RegExp(`^${peopleRole}`)))).to.equal(false);
      await dialog.getByLabel(new RegExp(`^${peopleRole}`)).check();
      await dialog.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText(/Roles of New Comer saved/).waitFor();
      expect((await h.admin.get(`/users/${newcomer.id}`)).body.roles).to.deep.equal([peopleRole]);

      // Everyone's keys: the administrator's key cannot be edited, disabled or revoked, and it says why.
      await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
      await page.getByLabel('Show').selectOption('all');
      const keyRow = page.getByRole('row', { name: /admin deploy key/ });
      await keyRow.getByText(new RegExp(`You do not hold .*, which ${ADMIN.email}’s roles give`)).waitFor();
      for (const name of ['Edit admin deploy key', 'Disable admin deploy key', 'Revoke admin deploy key']) {
        expect(await isDisabled(keyRow.getByRole('button', { name, includeHidden: true })), name).to.equal(true);
      }
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('an API’s resource servers are chosen among confidential credentials, saved and shown; on the Management API only they can change', async () => {
    const { context, page, problems } = await signIn(ADMIN, '/console/apis');
    try {
      await page.getByRole('button', { name: 'Register API' }).click();
      const dialog = page.getByRole('dialog', { name: 'Register API' });
      await dialog.getByLabel('Name', { exact: true }).fill('Ledger API');
      await dialog.getByLabel('Identifier').fill('https://ledger.example.test');
      await dialog.getByLabel('Scope 1', { exact: true }).fill('ledger:read');
      const servers = dialog.getByRole('group', { name: 'Resource servers' });
      // Public clients cannot authenticate, so they are not offered (RFC 7662 §2.1).
      await servers.getByLabel(/Orders sync/).waitFor();
      expect(await servers.getByLabel(/Shop SPA/).count()).to.equal(0);
      await servers.getByLabel(/Orders sync/).check();
      await dialog.getByRole('button', { name: 'Register API' }).click();
      await page.getByText('Ledger API is registered.').waitFor();
      const ledger = ((await h.admin.get('/apis?limit=200')).body.data as { identifier: string; resource_servers: string[] }[]).find((a) => a.identifier === 'https://ledger.example.test');
      expect(ledger?.resource_servers).to.deep.equal([SERVICE.id]);
      await page.getByRole('row', { name: /Ledger API/ }).getByText(SERVICE.id).waitFor();

      // The Management API: its definition is fixed, its resource servers are not.
      const row = page.getByRole('row', { name: /Gatehouse Management API/ });
      await (await rowAction(row, 'Edit Gatehouse Management API')).click();
      const edit = page.getByRole('dialog', { name: 'Edit Gatehouse Management API' });
      await edit.getByText(/Gatehouse defines this API/).waitFor();
      expect(await edit.getByLabel('Name', { exact: true }).count()).to.equal(0);
      await edit.getByRole('group', { name: 'Resource servers' }).getByLabel(/Orders sync/).check();
      await edit.getByRole('button', { name: 'Save API' }).click();
      await page.getByText('Gatehouse Management API was saved.').waitFor();
      await row.getByText(SERVICE.id).waitFor();
      const management = ((await h.admin.get('/apis?limit=200')).body.data as { builtin: boolean; resource_servers: string[] }[]).find((a) => a.builtin);
      expect(management?.resource_servers).to.deep.equal([SERVICE.id]);

      // Unticking saves an empty list.
      await (await rowAction(row, 'Edit Gatehouse Management API')).click();
      await edit.getByRole('group', { name: 'Resource servers' }).getByLabel(/Orders sync/).uncheck();
      await edit.getByRole('button', { name: 'Save API' }).click();
      await page.getByText('Gatehouse Management API was saved.').waitFor();
      await row.getByText('None').waitFor();
      expect(((await h.admin.get('/apis?limit=200')).body.data as { builtin: boolean; resource_servers: string[] }[]).find((a) => a.builtin)?.resource_servers).to.deep.equal([]);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
