import { expect } from 'chai';
import { ORDERS_API, basic, postForm } from '../support/fixtures.js';
import { skipWithoutChromium } from '../support/browser.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * A credential's secrets after a rotation, in Chromium: which one is current and which one is on its
 * way out is written on each row, only the previous one can be expired, and only after a
 * confirmation that names what stops; /oauth/token follows.
 */
describe('console: client secrets', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  const token = (clientId: string, secret: string) =>
    postForm(`${h.server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic(clientId, secret) });

  it('labels the current and previous secrets; only the previous one offers "Expire now", behind a confirmation naming the credential', async () => {
    const created = await h.admin.post('/clients', { client_name: 'Nightly export', type: 'service', scope: 'orders:read' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const clientId = created.body.client_id as string;
    const oldSecret = created.body.client_secret as string;
    const rotated = await h.admin.post(`/clients/${clientId}/secrets`, { previous_expires_in: 86400 });
    expect(rotated.status).to.equal(201);
    const newSecret = rotated.body.client_secret as string;

    const { context, page, problems } = await openConsole(h, undefined, { path: `/console/credentials/${clientId}` });
    try {
      const table = page.getByRole('region', { name: 'Client secrets' }).getByRole('table');
      const currentRow = table.getByRole('row').filter({ hasText: 'Current' });
      const previousRow = table.getByRole('row').filter({ hasText: /Previous · works until/ });
      await currentRow.waitFor();
      await previousRow.waitFor();
      expect(await currentRow.textContent()).to.include(newSecret.slice(0, 12));
      // Nothing on the current row can end it; the previous row's action says what it does.
      expect(await currentRow.getByRole('button').count()).to.equal(0);
      expect(await table.getByRole('button', { name: /Revoke/ }).count()).to.equal(0);

      await previousRow.getByRole('button', { name: /^Expire secret .+ now$/ }).click();
      const confirm = page.getByRole('dialog', { name: /^Expire secret .+ now\?$/ });
      expect(await confirm.textContent()).to.match(/Every integration that still signs in as Nightly export/).and.include(clientId);
      // Cancelling changes nothing.
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      expect((await token(clientId, oldSecret)).status).to.equal(200);

      await previousRow.getByRole('button', { name: /^Expire secret .+ now$/ }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Expire secret now' }).click();
      await page.getByText(/was expired: it stopped working at once\. Nightly export keeps working with the current secret/).waitFor();
      expect((await token(clientId, oldSecret)).status).to.equal(401);
      expect((await token(clientId, newSecret)).status).to.equal(200);
      await table.getByRole('row').filter({ hasText: /Previous/ }).waitFor({ state: 'detached' });
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
