import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { baseSeed, SERVICE } from '../support/fixtures.js';
import { launchBrowser, newPage, skipWithoutChromium } from '../support/browser.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';

interface ApiRow {
  id: string;
  identifier: string;
  builtin: boolean;
  resource_servers: string[];
}

/**
 * ISSUER: a restart under another ISSUER keeps one built-in Management API, the old one's settings
 * moved to the new identifier; the console opened at another address than ISSUER links to the right one.
 */
describe('console: ISSUER changes and other addresses', function () {
  this.timeout(120_000);
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let browser: Browser | undefined;

  before(async function () {
    skipWithoutChromium(this);
    const seed = baseSeed();
    a = await startServer({ seed: { ...seed, clients: [...seed.clients, adminClientSeed()] } });
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await b?.stop();
    await a?.destroy();
  });

  const builtins = async (server: TestServer) => {
    const admin = managementApi(server, await managementToken(server));
    // The Management API; the other built-in API (Shared Signals, /ssf) moves the same way.
    const all = ((await admin.get('/apis?limit=200')).body.data as ApiRow[]).filter((x) => x.builtin);
    return { admin, apis: all.filter((x) => x.identifier.endsWith('/api/v1')), ssf: all.filter((x) => x.identifier.endsWith('/ssf')) };
  };

  it('retires the old built-in Management API when ISSUER changes: one remains, under the new identifier, with its resource servers', async () => {
    const before = await builtins(a!);
    expect(before.apis.map((x) => x.identifier)).to.deep.equal([`${a!.issuer}/api/v1`]);
    expect((await before.admin.patch(`/apis/${before.apis[0]!.id}`, { resource_servers: [SERVICE.id] })).status).to.equal(200);
    await a!.stop();

    // The same database, another address: the test server's ISSUER names its new port.
    b = await startServer({ databaseUrl: a!.databaseUrl, dataDir: a!.dataDir });
    expect(b.issuer).not.to.equal(a!.issuer);
    const after = await builtins(b);
    expect(after.apis).to.have.length(1);
    expect(after.apis[0]).to.include({ id: before.apis[0]!.id, identifier: `${b.issuer}/api/v1` });
    expect(after.apis[0]!.resource_servers).to.deep.equal([SERVICE.id]);
    expect(after.ssf.map((x) => x.identifier)).to.deep.equal([`${b.issuer}/ssf`]);
    expect(after.ssf[0]!.id).to.equal(before.ssf[0]!.id);
    const audit = await after.admin.get('/audit-events?type=api.moved');
    expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
    const moved = audit.body.data;
    expect(moved.map((e: { data: unknown }) => e.data)).to.deep.include.members([
      { from: `${a!.issuer}/api/v1`, to: `${b.issuer}/api/v1`, reason: 'issuer_changed' },
      { from: `${a!.issuer}/ssf`, to: `${b.issuer}/ssf`, reason: 'issuer_changed' },
    ]);
  });

  it('opened at another address than ISSUER, the console links to the right one instead of failing at sign-in', async () => {
    const server = b ?? a!;
    browser = await launchBrowser();
    const { context, page } = await newPage(browser);
    try {
      const elsewhere = server.url.replace('127.0.0.1', 'localhost');
      await page.goto(`${elsewhere}/console/users`);
      await page.getByRole('heading', { name: 'Open the console at its own address' }).waitFor();
      const link = page.getByRole('link', { name: `Go to ${server.issuer}/console` });
      expect(await link.getAttribute('href')).to.equal(`${server.issuer}/console/users`);
      await link.click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
