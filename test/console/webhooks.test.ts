import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness, rowAction } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import { startReceiver, verified } from '../support/webhook-receiver.js';

/**
 * The Webhooks page in a real Chromium: an endpoint added in the page gets its secret shown once and
 * receives signed deliveries, which the page lists; one that keeps failing is disabled and the page
 * says so at the top until it is enabled again.
 */
describe('console: webhooks page', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    // One retry at once: a failing endpoint runs through its schedule in two attempts.
    h = await startConsoleHarness({ env: { WEBHOOK_RETRY_DELAYS: '0' } });
  });
  after(async () => h?.close());

  it('adds an endpoint, shows its secret once, lists its deliveries, and flags one disabled after failing', async () => {
    const good = await startReceiver();
    const bad = await startReceiver(() => 503);
    const { context, page, problems } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await page.getByText('No webhook endpoints').waitFor();

      await page.getByRole('button', { name: 'Add endpoint' }).first().click();
      const add = page.getByRole('dialog', { name: 'Add webhook endpoint' });
      await add.getByLabel('URL').fill('http://hooks.example.com/x');
      await add.getByLabel('Events').fill('client.*');
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      await add.getByText('must be https (plain http only to localhost)').waitFor();
      await add.getByLabel('URL').fill(good.url);
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      const shown = page.getByRole('dialog', { name: 'Endpoint added' });
      const secret = await shown.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      expect(secret).to.match(/^whsec_/);
      await shown.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('row', { name: new RegExp(good.url) }).getByText('Active', { exact: true }).waitFor();

      expect((await h.admin.post('/clients', { client_name: 'Hooked', type: 'service', scope: 'orders:read' })).status).to.equal(201);
      await eventually('the delivery', () => good.received.length === 1);
      expect(verified(secret, good.received[0]).type).to.equal('client.created');
      await (await rowAction(page, `Deliveries to ${good.url}`)).click();
      const deliveries = page.getByRole('dialog', { name: 'Deliveries' });
      await deliveries.getByRole('row', { name: /client\.created/ }).getByText('Delivered', { exact: true }).waitFor();
      await deliveries.getByText(/: 204, \d+ ms/).waitFor();
      await deliveries.getByRole('button', { name: 'Close' }).click();

      // A receiver that keeps failing: after its schedule the endpoint is disabled, and the page says so.
      const { body: failing } = await h.admin.post('/webhooks', { url: bad.url, event_types: ['client.created'] });
      expect((await h.admin.post('/clients', { client_name: 'Unheard', type: 'service', scope: 'orders:read' })).status).to.equal(201);
      await eventually('the endpoint disabled', async () => (await h.admin.get(`/webhooks/${failing.id}`)).body.status === 'disabled');
      await page.reload();
      await page.getByRole('alert').filter({ hasText: 'An endpoint was disabled after failing for a whole retry schedule' }).getByText(bad.url, { exact: false }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(bad.url) });
      await row.getByText('Disabled', { exact: true }).waitFor();
      await (await rowAction(row, `Enable ${bad.url}`)).click();
      await row.getByText('Active', { exact: true }).waitFor();
      expect(await page.getByRole('alert').filter({ hasText: 'disabled after failing' }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
      await good.close();
      await bad.close();
    }
  });

  it('a viewer sees the endpoints but is told that changing them needs webhooks:write', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER, { path: '/console/webhooks' });
    try {
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await page.locator('table.responsive tbody tr').first().waitFor();
      await page.getByText(/adding or changing one needs the webhooks:write permission/).waitFor();
      const add = page.getByRole('button', { name: 'Add endpoint' }).first();
      expect(await add.isDisabled()).to.equal(true);
      expect(await add.getAttribute('title')).to.include('webhooks:write');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
