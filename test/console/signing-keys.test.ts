import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { jwksOf } from '../support/fixtures.js';
import { ADMIN, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness } from '../support/console.js';

/**
 * The Signing keys page in a real Chromium: the keys as the API lists them, and a rotation made in
 * the page, checked through GET /keys and the public JWKS that resource servers read.
 */
describe('console: signing keys page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  type Key = { kid: string; status: string; activates_at: string };
  const keys = async () => (await h.admin.get('/keys?limit=200')).body.data as Key[];
  const publishedKids = async () => (await jwksOf(h.server)).keys.map((k) => k.kid);

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('lists the keys, and rotates with a delay: new keys are published at once and sign when it ends', async () => {
    const before = await keys();
    expect(before.length).to.be.above(0);
    const { context, page, problems } = await openConsole(h, ADMIN);
    try {
      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Signing keys' }).click();
      await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
      const rows = page.locator('table.responsive tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).to.equal(before.length);
      for (const k of before) {
        const row = page.getByRole('row', { name: new RegExp(k.kid) });
        await row.getByText('Signing', { exact: true }).waitFor();
      }
      expect(await page.locator('tbody td:not([data-label])').count()).to.equal(0);

      await page.getByRole('button', { name: 'Rotate keys' }).click();
      const dialog = page.getByRole('dialog', { name: 'Rotate signing keys' });
      await dialog.getByLabel('New keys sign').selectOption({ label: 'Now' });
      await dialog.getByText(/will refuse new tokens until they fetch it again/).waitFor();
      await dialog.getByLabel('New keys sign').selectOption({ label: 'In 1 hour' });
      expect(await dialog.getByText(/will refuse new tokens/).count()).to.equal(0);
      await dialog.getByRole('button', { name: 'Rotate keys' }).click();
      await page.getByRole('status').filter({ hasText: /new keys? (was|were) created\. They are published now and sign from/ }).waitFor();
      await dialog.waitFor({ state: 'detached' });

      const after = await keys();
      const added = after.filter((k) => !before.some((b) => b.kid === k.kid));
      expect(added.length).to.equal(before.length, 'one new key per key type');
      for (const k of added) {
        expect(k.status).to.equal('pending');
        const inSeconds = (new Date(k.activates_at).getTime() - Date.now()) / 1000;
        expect(inSeconds).to.be.within(3500, 3600);
        await page.getByRole('row', { name: new RegExp(k.kid) }).getByText('Pending', { exact: true }).waitFor();
      }
      // The keys signing now keep signing until then.
      expect(after.filter((k) => k.status === 'active').map((k) => k.kid).sort()).to.deep.equal(before.map((k) => k.kid).sort());
      // Published ahead of signing, so verifiers that cache the JWKS have them in time.
      expect(await publishedKids()).to.include.members(added.map((k) => k.kid));
      expect(await rows.count()).to.equal(after.length);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a viewer sees the keys but is told that rotating needs keys:write', async () => {
    const { context, page, problems } = await openConsole(h, VIEWER, { path: '/console/signing-keys' });
    try {
      await page.getByRole('heading', { name: 'Signing keys', level: 1 }).waitFor();
      await page.locator('table.responsive tbody tr').first().waitFor();
      const rotate = page.getByRole('button', { name: 'Rotate keys' });
      expect(await rotate.isDisabled()).to.equal(true);
      expect(await rotate.getAttribute('title')).to.include('keys:write');
      await page.getByText(/rotating them needs the keys:write permission/).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
