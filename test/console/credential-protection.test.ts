import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { openConsole, useConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';
import { eventually } from '../support/eventually.js';
import { SERVICE, SPA, WEB } from '../support/fixtures.js';

/** A credential's "Request and token protection" section (issue 12): PKCE, PAR and DPoP per client. */
describe('console: request and token protection of a credential', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  useConsoleHarness((harness) => (h = harness));

  const openCredential = async (page: Page, name: string) => {
    await page.getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Request and token protection' }).waitFor();
  };

  it('an administrator turns PKCE and DPoP on for a web app and off again; the API follows; a public app’s PKCE is fixed on', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await openCredential(page, 'Shop SPA');
      const spaPkce = page.getByLabel('Require PKCE');
      expect([await spaPkce.isChecked(), await spaPkce.isDisabled()]).to.deep.equal([true, true]);

      await page.goto(`${h.server.url}/console/`);
      await openCredential(page, 'Shop');
      const pkce = page.getByLabel('Require PKCE');
      const dpop = page.getByLabel('Require DPoP-bound tokens');
      const par = page.getByLabel('Require pushed authorization requests (PAR)');
      expect([await pkce.isChecked(), await dpop.isChecked(), await par.isChecked()]).to.deep.equal([false, false, false]);
      await pkce.check();
      await dpop.check();
      await page.getByRole('button', { name: 'Save protection' }).click();
      await page.getByText('Protection saved.').waitFor();
      expect((await h.admin.get(`/clients/${WEB.id}`)).body).to.include({ require_pkce: true, dpop_bound_access_tokens: true, require_pushed_authorization_requests: false });

      await pkce.uncheck();
      await page.getByRole('button', { name: 'Save protection' }).click();
      await eventually('the API shows PKCE off', async () => {
        expect((await h.admin.get(`/clients/${WEB.id}`)).body).to.include({ require_pkce: false, dpop_bound_access_tokens: true });
      });
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a service credential offers only DPoP, and a viewer sees the settings without changing them', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER);
    try {
      await openCredential(page, 'Orders sync');
      expect(await page.getByLabel('Require DPoP-bound tokens').isDisabled()).to.equal(true);
      expect(await page.getByLabel('Require PKCE').count()).to.equal(0);
      expect(await page.getByLabel('Require pushed authorization requests (PAR)').count()).to.equal(0);
      expect((await h.admin.get(`/clients/${SERVICE.id}`)).body.dpop_bound_access_tokens).to.equal(false);
      expect((await h.admin.get(`/clients/${SPA.id}`)).body.require_pkce).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
