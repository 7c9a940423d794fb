import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { ORDERS_API, basic, postForm } from '../support/fixtures.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN_CLIENT } from '../support/management.js';
import { ADMIN, DEVELOPER, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';
import { type TestServer } from '../support/server.js';

/**
 * The API Access pages in a real Chromium, signed in through the login page: the whole life of a
 * credential as an administrator lives it, checked against /oauth/token at each step.
 */

async function clientCredentials(server: TestServer, clientId: string, secret: string) {
  return postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic(clientId, secret) });
}

async function tokenScopes(server: TestServer, clientId: string, secret: string): Promise<string[]> {
  const res = await clientCredentials(server, clientId, secret);
  expect(res.status, JSON.stringify(res.json)).to.equal(200);
  return String(decodeJwt(res.json.access_token as string).scope).split(' ').sort();
}

/** Reads the one-time dialog's client id and secret, ticks "I have saved…", and answers both. */
async function readIssued(page: Page): Promise<{ clientId: string; secret: string }> {
  const dialog = page.getByRole('dialog');
  const clientId = await dialog.getByLabel('Client ID', { exact: true }).inputValue();
  const secret = await dialog.getByLabel('Client secret', { exact: true }).inputValue();
  return { clientId, secret };
}

describe('console: API Access (credentials)', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('creates a credential, shows its secret once, edits its scopes, rotates it and revokes it; /oauth/token follows each step', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.getByRole('heading', { name: 'API Access' }).waitFor();
      // The seeded credentials are listed; the console's own built-in client is not.
      const table = page.getByRole('table');
      await table.getByRole('link', { name: 'Orders sync' }).waitFor();
      expect(await table.getByRole('link', { name: 'Orders sync' }).count()).to.equal(1);
      expect(await table.getByText('gatehouse-console').count()).to.equal(0);

      // Create: name and type.
      await page.getByRole('button', { name: 'Create credential' }).click();
      const create = page.getByRole('dialog', { name: 'Create credential' });
      await create.getByLabel('Name').fill('Reports exporter');
      await create.getByRole('radio', { name: /Service/ }).check();
      await create.getByRole('button', { name: 'Create credential' }).click();

      // The one-time result: Done and "Close and edit scopes" wait for the confirmation.
      const result = page.getByRole('dialog', { name: 'Credential created' });
      await result.waitFor();
      const { clientId, secret } = await readIssued(page);
      expect(clientId).to.match(/^cl_[0-9a-f]{24}$/);
      expect(secret).to.match(/^sk_live_/);
      expect(await result.getByRole('button', { name: 'Done' }).isDisabled()).to.equal(true);
      expect(await result.getByRole('button', { name: 'Close and edit scopes' }).isDisabled()).to.equal(true);
      await page.keyboard.press('Escape');
      expect(await result.isVisible(), 'Escape does not close the one-time secret').to.equal(true);

      const [download] = await Promise.all([page.waitForEvent('download'), result.getByRole('button', { name: 'Download credentials' }).click()]);
      expect(download.suggestedFilename()).to.equal('reports-exporter.json');
      const file = JSON.parse(readFileSync(await download.path(), 'utf8'));
      expect(file).to.include({ client_id: clientId, client_secret: secret, token_endpoint: `${h.server.url}/oauth/token` });

      await result.getByLabel('I have saved my credentials securely').check();
      await result.getByRole('button', { name: 'Close and edit scopes' }).click();

      // A new credential has no scopes: its token request is refused until it gets some.
      const refused = await clientCredentials(h.server, clientId, secret);
      expect(refused.status).to.equal(400);
      expect(refused.json.error).to.equal('invalid_scope');

      // Edit scopes: grouped by API, with select-all and a count.
      await page.getByRole('heading', { name: 'Scopes of Reports exporter' }).waitFor();
      const orders = page.getByRole('region', { name: 'Orders API' });
      await orders.getByText('0 of 2 selected').waitFor();
      await orders.getByLabel('Select all Orders API scopes').check();
      await orders.getByText('2 of 2 selected').waitFor();
      await page.getByRole('button', { name: 'Save scopes' }).click();
      await page.getByText(/^Saved\./).waitFor();
      expect(await tokenScopes(h.server, clientId, secret)).to.deep.equal(['orders:read', 'orders:write']);

      // Set all to read-only: the next token changes at once.
      await page.getByRole('button', { name: 'Set all to read-only' }).click();
      await orders.getByText('1 of 2 selected').waitFor();
      await page.getByRole('button', { name: 'Save scopes' }).click();
      await page.getByText(/^Saved\./).waitFor();
      expect(await tokenScopes(h.server, clientId, secret)).to.deep.equal(['orders:read']);

      // Rotate: a new secret, shown once; the old one keeps working for the chosen time.
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Reports exporter' }).click();
      await page.getByRole('heading', { name: 'Reports exporter', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const rotate = page.getByRole('dialog', { name: 'Rotate secret' });
      await rotate.getByLabel('Current secret keeps working for').selectOption({ label: '1 day' });
      await rotate.getByRole('button', { name: 'Rotate secret' }).click();
      const rotated = page.getByRole('dialog', { name: 'New secret' });
      await rotated.waitFor();
      await rotated.getByText(/The previous secret keeps working until .+ \((in 2[34] hours|tomorrow)\)/).waitFor();
      const next = await readIssued(page);
      expect(next.clientId).to.equal(clientId);
      expect(next.secret).to.match(/^sk_live_/).and.not.equal(secret);
      expect(await rotated.getByRole('button', { name: 'Done' }).isDisabled()).to.equal(true);
      await rotated.getByLabel('I have saved my credentials securely').check();
      await rotated.getByRole('button', { name: 'Done' }).click();
      expect((await clientCredentials(h.server, clientId, next.secret)).status).to.equal(200);
      expect((await clientCredentials(h.server, clientId, secret)).status, 'the old secret still works').to.equal(200);
      const secretsTable = page.getByRole('region', { name: 'Client secrets' }).getByRole('table');
      await secretsTable.getByText(/Valid until .+\((in 2[34] hours|tomorrow)\)/).waitFor();
      expect(await secretsTable.getByRole('row').count()).to.equal(3); // header + two secrets

      // Revoke: a confirmation that says what happens, then /oauth/token refuses it.
      await page.getByRole('button', { name: 'Revoke', exact: true }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke Reports exporter?' });
      await confirm.getByText('This cannot be undone.').waitFor();
      expect(await confirm.textContent()).to.match(/stops working immediately/);
      await confirm.getByRole('button', { name: 'Revoke credential' }).click();
      await page.getByText('Reports exporter was revoked.').waitFor();
      for (const s of [next.secret, secret]) {
        const res = await clientCredentials(h.server, clientId, s);
        expect(res.status).to.equal(401);
        expect(res.json.error).to.equal('invalid_client');
      }
      expect(await page.getByRole('table').getByRole('link', { name: 'Reports exporter' }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('creates a single-page app credential with a redirect URI and no secret', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.getByRole('button', { name: 'Create credential' }).click();
      const create = page.getByRole('dialog', { name: 'Create credential' });
      await create.getByLabel('Name').fill('Storefront');
      await create.getByRole('radio', { name: /Single-page app/ }).check();
      // A bad redirect URI is refused with the reason, next to the field.
      await create.getByLabel('Redirect URI').fill('not a uri');
      await create.getByRole('button', { name: 'Create credential' }).click();
      await create.locator('.field-error').waitFor();
      await create.getByLabel('Redirect URI').fill('https://shop.example.test/callback');
      await create.getByRole('button', { name: 'Create credential' }).click();
      const result = page.getByRole('dialog', { name: 'Credential created' });
      await result.getByText(/it has none: it signs people in with PKCE/).waitFor();
      expect(await result.getByLabel('Client secret').count()).to.equal(0);
      await result.getByRole('button', { name: 'Done' }).click();
      const row = page.getByRole('row', { name: /Storefront/ });
      await row.waitFor();
      expect(await row.textContent()).to.include('Single-page app');
      const listed = await h.admin.get('/clients?q=Storefront');
      expect(listed.body.data[0]).to.include({ type: 'spa', token_endpoint_auth_method: 'none' });
      expect(listed.body.data[0].redirect_uris).to.deep.equal(['https://shop.example.test/callback']);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('searches credentials by name or client id', async () => {
    const { context, page } = await openConsole(h);
    try {
      await page.getByRole('link', { name: 'Shop SPA' }).waitFor();
      await page.getByLabel('Search').fill('orders');
      await page.getByRole('link', { name: 'Orders sync' }).waitFor();
      await page.getByRole('link', { name: 'Shop SPA' }).waitFor({ state: 'detached' });
      await page.getByLabel('Search').fill('nothing-is-called-this');
      await page.getByRole('heading', { name: 'No credentials match' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('a viewer sees credentials but cannot change them; the pages say which permission is missing', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER);
    try {
      await page.getByRole('link', { name: 'Orders sync' }).waitFor();
      const createButton = page.getByRole('button', { name: 'Create credential' });
      expect(await createButton.isDisabled()).to.equal(true);
      expect(await createButton.getAttribute('title')).to.include('clients:write');
      await page.getByRole('link', { name: 'Orders sync' }).click();
      await page.getByRole('heading', { name: 'Orders sync', level: 1 }).waitFor();
      expect(await page.getByRole('button', { name: 'Revoke', exact: true }).isDisabled()).to.equal(true);
      // The scopes are there to read: the link says so, and the page names the missing permission.
      await page.getByRole('link', { name: 'View scopes' }).click();
      await page.getByText(/You need the clients:write permission to change scopes/).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a permission taken away while signed in: the next action fails with a message naming it', async () => {
    const users = await h.admin.get('/users?limit=200');
    const dev = users.body.data.find((u: { email: string }) => u.email === DEVELOPER.email);
    const { context, page } = await openConsole(h, DEVELOPER);
    try {
      await page.getByRole('button', { name: 'Create credential' }).click();
      const create = page.getByRole('dialog', { name: 'Create credential' });
      await create.getByLabel('Name').fill('Too late');
      expect((await h.admin.patch(`/users/${dev.id}`, { roles: ['viewer'] })).status).to.equal(200);
      await create.getByRole('button', { name: 'Create credential' }).click();
      await create.getByRole('alert').getByText('You need the clients:write permission to do this.').waitFor();
      expect((await h.admin.get('/clients?q=Too%20late')).body.data).to.have.length(0);
    } finally {
      await h.admin.patch(`/users/${dev.id}`, { roles: DEVELOPER.roles });
      await context.close();
    }
  });

  it('keeps the page across a reload (signs in again silently) and signs out through the server', async () => {
    const { context, page } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('link', { name: 'Orders sync' }).click();
      await page.getByRole('heading', { name: 'Orders sync', level: 1 }).waitFor();
      const here = new URL(page.url()).pathname;
      await page.reload();
      await page.getByRole('heading', { name: 'Orders sync', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).to.equal(here);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: /^Sign out/ }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
      // The Gatehouse session is gone: the console asks for the password again.
      await page.getByRole('button', { name: 'Sign in again' }).click();
      await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('console: first run', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness({ clients: false });
    // The automation client arranged the seed; a first run has no credentials at all.
    expect((await h.admin.delete(`/clients/${ADMIN_CLIENT.id}`)).status).to.equal(204);
  });
  after(async () => h?.close());

  it('explains what to do first when there are no credentials', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.getByRole('heading', { name: 'No API credentials yet' }).waitFor();
      expect(await page.locator('.empty').textContent()).to.match(/Register the API/);
      await page.locator('.empty').getByRole('button', { name: 'Create credential' }).click();
      await page.getByRole('dialog', { name: 'Create credential' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
