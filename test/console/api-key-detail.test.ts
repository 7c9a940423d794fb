import { expect } from 'chai';
import { DEVELOPER, openConsole, useConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';

/**
 * An API key's own page in a real Chromium: what the key is and how much it is used (the counts come
 * from real requests with the key), and rolling it, checked by using the old and new values.
 */
describe('console: an API key’s page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  useConsoleHarness((harness) => (h = harness));

  const userId = async (email: string) => (await h.findUser(email))!.id;
  const status = async (key: string) => (await fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } })).status;
  const refusal = async (key: string) =>
    ((await (await fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } })).json()) as { error_description?: string }).error_description;

  async function developersKey(name: string, extra: Record<string, unknown> = {}) {
    const made = await h.admin.post('/api-keys', { name, scopes: ['clients:read', 'orders:read'], user_id: await userId(DEVELOPER.email), ...extra });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    return made.body as { id: string; key: string; prefix: string };
  }

  it('opens from the list and shows scopes by API, owner, dates, allowlist and 30 days of use', async () => {
    const made = await developersKey('Usage bot', { expires_in: '30d', ip_allowlist: ['127.0.0.0/8', '::1/128'] });
    for (let i = 0; i < 3; i++) expect(await status(made.key)).to.equal(200);
    const { context, page, problems } = await openConsole(h, DEVELOPER, { path: '/console/api-keys' });
    try {
      await page.getByRole('row', { name: /Usage bot/ }).getByRole('link', { name: 'Usage bot' }).click();
      await page.getByRole('heading', { name: 'Usage bot', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).to.equal(`/console/api-keys/${made.id}`);
      expect(await page.title()).to.equal('Usage bot · Gatehouse console');
      await page.getByText(`${made.prefix}…`).first().waitFor();
      await page.getByText(`${DEVELOPER.email} (you)`).waitFor();
      await page.getByText('127.0.0.0/8').waitFor();
      await page.getByText(/\((in \d+ (days|weeks)|next month)\)$/).waitFor();
      // Scopes under their API, as the scope pickers group them.
      await page.getByRole('group', { name: 'Gatehouse Management API' }).getByText('clients:read').waitFor();
      await page.getByRole('group', { name: 'Orders API' }).getByText('orders:read').waitFor();
      // One bar per day; today's counts the three requests made above.
      const bars = page.getByRole('list', { name: 'Requests per day' }).getByRole('listitem');
      expect(await bars.count()).to.equal(30);
      expect(await bars.last().getAttribute('aria-label')).to.match(/: 3 requests$/);
      expect(await bars.first().getAttribute('aria-label')).to.match(/: 0 requests$/);
      await page.getByText('3 requests in total.').waitFor();
      await page.getByRole('table', { name: 'Last used from' }).getByRole('cell', { name: '127.0.0.1' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }

    // On a phone: the chart and tables fit the width (no sideways scrolling), every cell labelled.
    const phone = await openConsole(h, DEVELOPER, { path: `/console/api-keys/${made.id}`, viewport: { width: 390, height: 844 } });
    try {
      await phone.page.getByRole('list', { name: 'Requests per day' }).waitFor();
      expect(await phone.page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).to.equal(true);
      expect(await phone.page.locator('table.responsive tbody td:not([data-label])').count()).to.equal(0);
    } finally {
      await phone.context.close();
    }
  });

  it('rolls a key: the new value is shown once; the old one stops now, or works for the overlap chosen', async () => {
    const made = await developersKey('Deploy bot');
    const { context, page, problems } = await openConsole(h, DEVELOPER, { path: `/console/api-keys/${made.id}` });
    try {
      await page.getByRole('heading', { name: 'Deploy bot', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Roll key' }).click();
      let dialog = page.getByRole('dialog', { name: 'Roll Deploy bot?' });
      await dialog.getByLabel('Current value keeps working for').selectOption({ label: 'Now (stops at once)' });
      await dialog.getByRole('button', { name: 'Roll key' }).click();
      let shown = page.getByRole('dialog', { name: 'API key rolled' });
      const second = await shown.getByLabel('API key', { exact: true }).inputValue();
      expect(second).to.match(/^ak_live_/).and.not.equal(made.key);
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('status').filter({ hasText: 'Deploy bot was rolled. The previous value stopped working.' }).waitFor();
      expect(await refusal(made.key)).to.equal('the API key is expired');
      expect(await status(second)).to.equal(200);
      // The header shows the new value's prefix.
      await page.getByText(`${second.slice(0, 20)}…`).waitFor();

      await page.getByRole('button', { name: 'Roll key' }).click();
      dialog = page.getByRole('dialog', { name: 'Roll Deploy bot?' });
      await dialog.getByLabel('Current value keeps working for').selectOption({ label: '1 hour' });
      await dialog.getByRole('button', { name: 'Roll key' }).click();
      shown = page.getByRole('dialog', { name: 'API key rolled' });
      const third = await shown.getByLabel('API key', { exact: true }).inputValue();
      await shown.getByLabel('I have saved my key securely').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('status').filter({ hasText: /Deploy bot was rolled\. The previous value works until/ }).waitFor();
      await page.getByText(/The previous value of this key still works until .* \(in 1 hour|in 59 minutes|in 60 minutes\)/).waitFor();
      expect(await status(second)).to.equal(200);
      expect(await status(third)).to.equal(200);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('is not found for someone else’s key, and read-only for a viewer', async () => {
    const made = await developersKey('Not yours');
    const viewerKey = await h.admin.post('/api-keys', { name: 'Viewer key', scopes: ['clients:read'], user_id: await userId(VIEWER.email) });
    const { context, page } = await openConsole(h, VIEWER, { path: `/console/api-keys/${made.id}` });
    try {
      await page.getByText(/not found/i).first().waitFor();
      expect(await page.getByRole('heading', { name: 'Not yours' }).count()).to.equal(0);
      await page.goto(`${h.server.url}/console/api-keys/${viewerKey.body.id}`);
      await page.getByRole('heading', { name: 'Viewer key', level: 1 }).waitFor();
      const roll = page.getByRole('button', { name: 'Roll key' });
      expect(await roll.isDisabled()).to.equal(true);
      await page.getByText('Changing a key needs api-keys:write.').waitFor();
    } finally {
      await context.close();
    }
  });
});
