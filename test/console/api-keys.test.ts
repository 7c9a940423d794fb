import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, DEVELOPER, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness, rowAction } from '../support/console.js';

/**
 * The API keys page in a real Chromium, driven as a person would (roles, labels, clicks, keys).
 * What the page claims is checked where it matters: the key it showed is used against the
 * Management API, and revoking it in the page makes that key fail.
 */
describe('console: API keys page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  type Key = { id: string; name: string; user_id: string; scopes: string[]; environment: string; expires_at: string | null; ip_allowlist: string[] };

  const userId = async (email: string) => (await h.findUser(email))!.id;
  const keysOf = async (email: string) => ((await h.admin.get(`/api-keys?user=${await userId(email)}&limit=200`)).body.data as Key[]);
  const meWith = (key: string) => fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
  /** Every cell names its column, for the phone layout where the header row is hidden. */
  const cellsWithoutLabel = (page: Page) => page.locator('table.responsive tbody td:not([data-label])').count();

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('creates a key: shown once, Done waits for “saved”, the key works; revoking it stops it at once', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      // The empty page says what a key is for before offering one.
      await page.getByRole('heading', { name: 'You have no API keys' }).waitFor();
      await page.getByText('/oauth/token').waitFor();
      await page.getByText(/call the Management API/).waitFor();

      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      const submitButton = create.getByRole('button', { name: 'Create API key' });
      expect(await submitButton.isDisabled(), 'nothing chosen yet').to.equal(true);
      await create.getByLabel('Name').fill('Nightly report');
      const management = create.getByRole('group', { name: 'Gatehouse Management API' });
      await management.getByLabel('clients:read').check();
      await management.getByText(`1 of ${Object.keys(MANAGEMENT_SCOPES).length} selected`).waitFor();
      await create.getByLabel('Expires').selectOption({ label: 'In 30 days' });
      await create.getByRole('radio', { name: /^Test/ }).check();
      // Submitted from the keyboard, with Enter in the name field.
      await create.getByLabel('Name').press('Enter');

      const shown = page.getByRole('dialog', { name: 'API key created' });
      await shown.waitFor();
      const key = await shown.getByLabel('API key', { exact: true }).inputValue();
      expect(key).to.match(/^ak_test_/);
      await shown.getByText('It will not be shown again.').waitFor();
      const done = shown.getByRole('button', { name: 'Done' });
      expect(await done.isDisabled()).to.equal(true);
      // Escape does not throw the key away either.
      await page.keyboard.press('Escape');
      expect(await shown.isVisible()).to.equal(true);
      await shown.getByLabel('I have saved my key securely').check();
      expect(await done.isDisabled()).to.equal(false);
      await done.click();
      await page.getByRole('status').filter({ hasText: 'Nightly report was created.' }).waitFor();
      expect(await shown.count()).to.equal(0);

      // The key the dialog showed is a working credential with exactly the scope chosen.
      const me = await meWith(key);
      expect(me.status).to.equal(200);
      expect(((await me.json()) as { permissions: string[] }).permissions).to.deep.equal(['clients:read']);
      const [made] = await keysOf(ADMIN.email);
      expect(made).to.deep.include({ name: 'Nightly report', scopes: ['clients:read'], environment: 'test' });
      const days = (new Date(made.expires_at!).getTime() - Date.now()) / 86_400_000;
      expect(days).to.be.within(29.9, 30.1);

      const row = page.getByRole('row', { name: /Nightly report/ });
      expect(await row.textContent()).to.include(key.slice(0, 12));
      await row.getByText('Test', { exact: true }).waitFor();
      await row.getByText('Active', { exact: true }).waitFor();
      expect(await cellsWithoutLabel(page)).to.equal(0);

      // Cancelling the confirmation changes nothing; confirming revokes.
      await (await rowAction(row, 'Revoke Nightly report')).click();
      let confirm = page.getByRole('dialog', { name: 'Revoke Nightly report?' });
      await confirm.getByText('This cannot be undone.').waitFor();
      await confirm.getByText(/stops working immediately/).waitFor();
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      expect((await meWith(key)).status).to.equal(200);

      await (await rowAction(row, 'Revoke Nightly report')).click();
      confirm = page.getByRole('dialog', { name: 'Revoke Nightly report?' });
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByRole('status').filter({ hasText: 'Nightly report was revoked.' }).waitFor();
      await row.waitFor({ state: 'detached' });
      expect((await meWith(key)).status).to.equal(401);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('an administrator switches to everyone’s keys, sees each owner, and revokes a developer’s key', async () => {
    const made = await h.admin.post('/api-keys', { name: 'Dev laptop', scopes: ['clients:read'], user_id: await userId(DEVELOPER.email) });
    expect(made.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/api-keys' });
    try {
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      // "My keys" first: the developer's key is not the administrator's.
      await page.getByRole('heading', { name: 'You have no API keys' }).waitFor();
      await page.getByLabel('Show').selectOption({ label: 'Everyone’s keys' });
      const row = page.getByRole('row', { name: /Dev laptop/ });
      await row.waitFor();
      await page.getByRole('columnheader', { name: 'Owner' }).waitFor();
      // GET /users turns the owner's id into their email.
      await row.getByRole('cell', { name: DEVELOPER.email }).waitFor();
      expect(await cellsWithoutLabel(page)).to.equal(0);

      await (await rowAction(row, 'Revoke Dev laptop')).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke Dev laptop?' });
      await confirm.getByText(`belongs to ${DEVELOPER.email}`).waitFor();
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByRole('status').filter({ hasText: 'Dev laptop was revoked.' }).waitFor();
      expect((await meWith(made.body.key)).status).to.equal(401);
      expect(await keysOf(DEVELOPER.email)).to.deep.equal([]);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('edits a key’s name and scopes, disables and enables it; the key follows each step at once', async () => {
    const made = await h.admin.post('/api-keys', { name: 'Report bot', scopes: ['clients:read'], user_id: await userId(ADMIN.email) });
    expect(made.status).to.equal(201);
    const key = made.body.key as string;
    const permissionsOf = async () => ((await (await meWith(key)).json()) as { permissions: string[] }).permissions.sort();
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/api-keys' });
    try {
      const row = page.getByRole('row', { name: /Report bot/ });
      await (await rowAction(row, 'Edit Report bot')).click();
      const edit = page.getByRole('dialog', { name: 'Edit Report bot' });
      const management = edit.getByRole('group', { name: 'Gatehouse Management API' });
      expect(await management.getByLabel('clients:read').isChecked()).to.equal(true);
      await edit.getByLabel('Name').fill('Audit bot');
      await management.getByLabel('clients:read').uncheck();
      await management.getByLabel('audit:read').check();
      await edit.getByRole('button', { name: 'Save key' }).click();
      await page.getByRole('status').filter({ hasText: 'Audit bot was saved.' }).waitFor();
      expect(await permissionsOf()).to.deep.equal(['audit:read']);
      const renamed = page.getByRole('row', { name: /Audit bot/ });
      await renamed.getByText('audit:read').waitFor();

      await (await rowAction(renamed, 'Disable Audit bot')).click();
      const disable = page.getByRole('dialog', { name: 'Disable Audit bot?' });
      await disable.getByText(/stops working immediately/).waitFor();
      await disable.getByRole('button', { name: 'Disable key' }).click();
      await page.getByRole('status').filter({ hasText: 'Audit bot was disabled.' }).waitFor();
      await renamed.getByText('Disabled', { exact: true }).waitFor();
      expect((await meWith(key)).status).to.equal(401);

      await (await rowAction(renamed, 'Enable Audit bot')).click();
      await page.getByRole('dialog', { name: 'Enable Audit bot?' }).getByRole('button', { name: 'Enable key' }).click();
      await page.getByRole('status').filter({ hasText: 'Audit bot works again.' }).waitFor();
      await renamed.getByText('Active', { exact: true }).waitFor();
      expect(await permissionsOf()).to.deep.equal(['audit:read']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('limits a key to an IP allowlist: a bad entry is refused under the field, and the key is refused from elsewhere', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/api-keys' });
    try {
      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      await create.getByLabel('Name').fill('Office only');
      await create.getByRole('group', { name: 'Gatehouse Management API' }).getByLabel('audit:read').check();
      await create.getByLabel('IP allowlist').fill('203.0.113.0/24\nnot-an-address');
      await create.getByRole('button', { name: 'Create API key' }).click();
      await create.locator('#key-allowlist-error').waitFor();
      expect((await keysOf(ADMIN.email)).map((k) => k.name)).to.not.include('Office only');

      await create.getByLabel('IP allowlist').fill('203.0.113.0/24');
      await create.getByRole('button', { name: 'Create API key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      const key = await shown.getByLabel('API key', { exact: true }).inputValue();
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('row', { name: /Office only/ }).getByText('Only from 203.0.113.0/24').waitFor();
      expect((await keysOf(ADMIN.email)).find((k) => k.name === 'Office only')).to.deep.include({ ip_allowlist: ['203.0.113.0/24'] });
      // These tests call from 127.0.0.1, outside the allowlist.
      expect((await meWith(key)).status).to.equal(401);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a developer is not offered scopes they do not hold, with the reason, and can create a key with those they hold', async () => {
    // An API that enforces roles, with a scope no role gives: the developer does not hold it (GET /me may_confer).
    const ledger = await h.admin.post('/apis', { identifier: 'https://ledger.example.test', name: 'Ledger API', scopes: [{ name: 'ledger:read', description: 'Read the ledger' }], enforce_roles: true });
    expect(ledger.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, DEVELOPER, { path: '/console/api-keys' });
    try {
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'You have no API keys' }).waitFor();
      // Only administrators may list everyone's keys.
      expect(await page.getByLabel('Show').count()).to.equal(0);

      await page.getByRole('button', { name: 'Create API key' }).first().click();
      const create = page.getByRole('dialog', { name: 'Create API key' });
      const management = create.getByRole('group', { name: 'Gatehouse Management API' });
      expect(await management.getByLabel('users:write').isDisabled()).to.equal(true);
      await management.getByText('You do not hold users:write').waitFor();
      const ledgerGroup = create.getByRole('group', { name: 'Ledger API' });
      expect(await ledgerGroup.getByLabel('ledger:read').isDisabled()).to.equal(true);
      await ledgerGroup.getByText('You do not hold ledger:read').waitFor();

      // Choosing what they hold succeeds.
      await create.getByLabel('Name').fill('Ledger export');
      await management.getByLabel('clients:write').check();
      await create.getByRole('button', { name: 'Create API key' }).click();
      const shown = page.getByRole('dialog', { name: 'API key created' });
      expect(await shown.getByLabel('API key', { exact: true }).inputValue()).to.match(/^ak_live_/);
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('row', { name: /Ledger export/ }).waitFor();
      expect((await keysOf(DEVELOPER.email)).map((k) => k.scopes)).to.deep.equal([['clients:write']]);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a viewer sees their keys but is told that creating one needs api-keys:write', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER, { path: '/console/api-keys' });
    try {
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      const button = page.getByRole('button', { name: 'Create API key' }).first();
      await button.waitFor();
      expect(await button.isDisabled()).to.equal(true);
      expect(await button.getAttribute('title')).to.include('api-keys:write');
      // Said in the page too, where a disabled button's title is out of reach (touch, keyboard).
      const why = page.getByText(/creating or revoking one needs the api-keys:write permission/);
      await why.waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('someone without api-keys:read is told which permission the page needs', async () => {
    expect((await h.admin.post('/roles', { name: 'client-reader', permissions: ['clients:read'] })).status).to.equal(201);
    const who = { email: 'reader@example.test', name: 'Client Reader', password: 'client reader password 1' };
    expect((await h.admin.post('/users', { ...who, roles: ['client-reader'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, who, { path: '/console/api-keys' });
    try {
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).to.include('api-keys:read');
      expect(await page.getByRole('button', { name: 'Create API key' }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
