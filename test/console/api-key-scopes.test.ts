import { expect } from 'chai';
import { WEB } from '../support/fixtures.js';
import { DEVELOPER, openConsole, useConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * The scope picker of API keys in a real Chromium: the credentials' order of APIs, select-all and
 * the read-only preset per API, and what the person may not give shown disabled with the reason.
 * The key it makes is read back from the Management API.
 */
describe('console: choosing an API key’s scopes', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  useConsoleHarness((harness) => (h = harness));

  it('lists APIs as the credential scope editor does, with select-all, a read-only preset and held-back scopes disabled', async () => {
    const { context, page, problems } = await openConsole(h, DEVELOPER, { path: `/console/credentials/${WEB.id}/scopes` });
    try {
      // The credential editor's order of APIs.
      await page.getByRole('heading', { name: /^Scopes of / }).waitFor();
      const editorOrder = await page.locator('section.scope-group').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));

      await page.goto(`${h.server.url}/console/api-keys`);
      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      await create.getByRole('group', { name: 'Orders API' }).waitFor();
      const pickerOrder = await create.locator('.scope-group[role="group"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      expect(pickerOrder).to.include.members(['Orders API', 'Billing API', 'Gatehouse Management API']);
      expect(pickerOrder).to.deep.equal(editorOrder.filter((n) => pickerOrder.includes(n)));
      expect(pickerOrder.at(-1)).to.equal('Gatehouse Management API');

      // Select all, then the read-only preset, for one API.
      const orders = create.getByRole('group', { name: 'Orders API' });
      await orders.getByLabel('Select all Orders API scopes').check();
      expect(await orders.getByLabel('orders:write').isChecked()).to.equal(true);
      await orders.getByText('2 of 2 selected').waitFor();
      await orders.getByRole('button', { name: 'Read-only access to Orders API' }).click();
      expect(await orders.getByLabel('orders:read').isChecked()).to.equal(true);
      expect(await orders.getByLabel('orders:write').isChecked()).to.equal(false);
      expect(await orders.getByRole('button', { name: 'Read-only access to Orders API' }).isDisabled()).to.equal(true);

      // The Management API: what a developer does not hold is shown, disabled, with the reason, and
      // neither select-all nor the preset picks it.
      const management = create.getByRole('group', { name: 'Gatehouse Management API' });
      const usersWrite = management.getByLabel('users:write');
      expect(await usersWrite.isDisabled()).to.equal(true);
      await management.getByText('You do not hold users:write').waitFor();
      await management.getByLabel('Select all Gatehouse Management API scopes').check();
      expect(await management.getByLabel('clients:write').isChecked()).to.equal(true);
      expect(await usersWrite.isChecked()).to.equal(false);
      await management.getByRole('button', { name: 'Read-only access to Gatehouse Management API' }).click();
      expect(await management.getByLabel('clients:write').isChecked()).to.equal(false);
      expect(await management.getByLabel('audit:read').isChecked()).to.equal(true);
      // The preset of one API leaves the others as they are.
      expect(await orders.getByLabel('orders:read').isChecked()).to.equal(true);

      await create.getByLabel('Name').fill('Read-only reporter');
      await create.getByRole('button', { name: 'Create API key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      await shown.waitFor();
      const developer = (await h.findUser(DEVELOPER.email))!;
      const [made] = (await h.admin.get(`/api-keys?user=${developer.id}`)).body.data as { name: string; scopes: string[] }[];
      expect(made.name).to.equal('Read-only reporter');
      expect(made.scopes.every((s) => s.endsWith(':read')), made.scopes.join(' ')).to.equal(true);
      expect(made.scopes).to.include.members(['orders:read', 'audit:read', 'clients:read']);
      expect(made.scopes).not.to.include('billing:read');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
