import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { basic, postForm } from '../support/fixtures.js';
import { ADMIN, openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/** The Resource servers page: Shared Signals streams with their receiver, last delivery and lag. */
describe('console: resource servers page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('lists each stream with its receiver and shows events waiting for it as lag', async () => {
    const made = await h.admin.post('/clients', { client_name: 'Orders gateway', type: 'service', scope: 'ssf:stream' });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    const { client_id, client_secret } = made.body as { client_id: string; client_secret: string };
    const token = await postForm(`${h.server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'ssf:stream', resource: `${h.server.issuer}/ssf` }, { authorization: basic(client_id, client_secret) });
    const res = await fetch(`${h.server.url}/ssf/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.json.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'orders-1', delivery: { method: 'urn:ietf:rfc:8936' } }),
    });
    expect(res.status).to.equal(201);
    const user = (await h.admin.post('/users', { email: 'leaver@example.test', name: 'Leaver' })).body as { id: string };
    expect((await h.admin.patch(`/users/${user.id}`, { active: false })).status).to.equal(200);

    const { context, page, problems } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Resource servers' }).click();
      await page.getByRole('heading', { name: 'Resource servers', level: 1 }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(client_id) });
      await row.getByText('orders-1').waitFor();
      await row.getByText('Poll', { exact: true }).waitFor();
      await row.getByText('Never').waitFor();
      await row.getByText(/1 pending/).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
