import { expect } from 'chai';
import { ADMIN, DEVELOPER, openConsole, useConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * "Agree before reveal" in a real Chromium: an administrator sets the statement on the API keys page;
 * a developer's new key is not in the page until they tick that they agree, and then it works.
 */
describe('console: agreeing before a key is revealed', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;
  useConsoleHarness((harness) => (h = harness));

  const STATEMENT = 'I will keep this key in the team vault and never paste it into chat.';

  it('an administrator sets the statement; a new key is shown only after agreeing to it', async () => {
    const asAdmin = await openConsole(h, ADMIN, { path: '/console/api-keys' });
    try {
      const { page } = asAdmin;
      await page.getByText('Statement to agree to before a key is revealed').click();
      await page.getByLabel('Statement', { exact: true }).fill(STATEMENT);
      await page.getByRole('button', { name: 'Save statement' }).click();
      await page.getByRole('status').filter({ hasText: 'The statement was saved.' }).waitFor();
      expect((await h.admin.get('/settings/key-reveal-statement')).body).to.deep.equal({ statement: STATEMENT });
      expect(asAdmin.problems).to.deep.equal([]);
    } finally {
      await asAdmin.context.close();
    }

    const { context, page, problems } = await openConsole(h, DEVELOPER, { path: '/console/api-keys' });
    try {
      // A developer is not offered the setting.
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      expect(await page.getByText('Statement to agree to before a key is revealed').count()).to.equal(0);

      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      await create.getByLabel('Name').fill('Vaulted key');
      await create.getByRole('group', { name: 'Gatehouse Management API' }).getByLabel('clients:read').check();
      await create.getByRole('button', { name: 'Create API key' }).click();

      const shown = page.getByRole('dialog', { name: 'API key created' });
      await shown.getByText(STATEMENT).waitFor();
      // Not revealed yet: neither the field nor the value is in the page, and Done waits.
      expect(await shown.getByLabel('API key', { exact: true }).count()).to.equal(0);
      expect(await page.content()).not.to.match(/ak_live_[0-9A-Za-z]{50}/);
      expect(await shown.getByRole('button', { name: 'Done' }).isDisabled()).to.equal(true);

      await shown.getByLabel('I agree to this statement').check();
      const key = await shown.getByLabel('API key', { exact: true }).inputValue();
      expect(key).to.match(/^ak_live_/);
      const me = await fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(me.status).to.equal(200);
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('status').filter({ hasText: 'Vaulted key was created.' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
      await h.admin.patch('/settings/key-reveal-statement', { statement: null });
    }
  });

  it('without a statement, the key is shown at once', async () => {
    const { context, page } = await openConsole(h, DEVELOPER, { path: '/console/api-keys' });
    try {
      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      await create.getByLabel('Name').fill('Plain key');
      await create.getByRole('group', { name: 'Gatehouse Management API' }).getByLabel('clients:read').check();
      await create.getByRole('button', { name: 'Create API key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      expect(await shown.getByLabel('API key', { exact: true }).inputValue()).to.match(/^ak_live_/);
      expect(await shown.getByText('I agree to this statement').count()).to.equal(0);
    } finally {
      await context.close();
    }
  });
});
