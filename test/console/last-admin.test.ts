import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, openConsole, startConsoleHarness, type ConsoleHarness, rowAction } from '../support/console.js';

/**
 * No lock-out: the Management API refuses to take the admin role from, deactivate or delete the only
 * active administrator (409, saying why), the console says so before anyone tries, and changing your
 * own roles warns, then renews the session so the page shows what the new roles allow.
 */
describe('console: the last administrator', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('the API refuses to remove, deactivate or delete the only active administrator, and allows it once there is another', async () => {
    const ada = (await h.findUser(ADMIN.email))!;
    for (const [what, res] of [
      ['remove the admin role from', await h.admin.patch(`/users/${ada.id}`, { roles: ['developer'] })],
      ['deactivate', await h.admin.patch(`/users/${ada.id}`, { active: false })],
      ['delete', await h.admin.delete(`/users/${ada.id}`)],
    ] as const) {
      expect(res.status, what).to.equal(409);
      expect(res.body.error_description).to.equal(`you cannot ${what} ${ADMIN.email}: they are the only active administrator. Give another user the admin role first.`);
    }
    expect((await h.admin.get(`/users/${ada.id}`)).body).to.deep.include({ roles: ['admin'], active: true });
    // Other changes to them still go through.
    expect((await h.admin.patch(`/users/${ada.id}`, { roles: ['admin', 'viewer'] })).status).to.equal(200);
    expect((await h.admin.patch(`/users/${ada.id}`, { roles: ['admin'] })).status).to.equal(200);
    // The filter the console asks with: who holds a role.
    const admins = await h.admin.get('/users?role=admin');
    expect(admins.body.data.map((u: { email: string }) => u.email)).to.deep.equal([ADMIN.email]);

    // A deactivated administrator does not count; an active second one does.
    const second = await h.admin.post('/users', { email: 'second-admin@example.test', name: 'Second Admin', roles: ['admin'] });
    expect((await h.admin.patch(`/users/${second.body.id}`, { active: false })).status).to.equal(200);
    expect((await h.admin.patch(`/users/${ada.id}`, { active: false })).status).to.equal(409);
    expect((await h.admin.patch(`/users/${second.body.id}`, { active: true })).status).to.equal(200);
    expect((await h.admin.patch(`/users/${second.body.id}`, { roles: ['viewer'] })).status).to.equal(200);
    expect((await h.admin.delete(`/users/${second.body.id}`)).status).to.equal(204);
  });

  it('warns before the only administrator removes their own admin role; after another admin exists, the change renews the session and the page shows what is left', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    let graceId: string | undefined;
    try {
      await (await rowAction(page, `Change roles of ${ADMIN.name}`)).click();
      let dialog = page.getByRole('dialog', { name: `Roles of ${ADMIN.name}` });
      await dialog.getByText(/These are your own roles/).waitFor();
      await dialog.getByLabel(/^admin/).uncheck();
      await dialog.getByText(`${ADMIN.name} is the only active administrator. Give someone else the admin role first`, { exact: false }).waitFor();
      const save = dialog.getByRole('button', { name: 'Save roles' });
      expect(await save.isDisabled()).to.equal(true);
      expect(await save.getAttribute('title')).to.match(/only active administrator/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // With a second administrator, Ada may step down to developer.
      const grace = await h.admin.post('/users', { email: 'grace-admin@example.test', name: 'Grace Admin', roles: ['admin'] });
      graceId = grace.body.id;
      await page.reload();
      await (await rowAction(page, `Change roles of ${ADMIN.name}`)).click();
      dialog = page.getByRole('dialog', { name: `Roles of ${ADMIN.name}` });
      await dialog.getByLabel(/^admin/).uncheck();
      await dialog.getByLabel(/^developer/).check();
      expect(await dialog.getByText(/only active administrator/).count()).to.equal(0);
      await dialog.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText(`Roles of ${ADMIN.name} saved`, { exact: false }).waitFor();
      // The renewed session: no users:write any more, and the page says so without a reload.
      const add = page.getByRole('button', { name: 'Add user', disabled: true });
      await add.waitFor();
      expect(await add.getAttribute('title')).to.include('users:write');
      expect(await page.getByRole('button', { name: 'Change roles of Grace Admin', includeHidden: true }).isDisabled()).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
      const ada = (await h.findUser(ADMIN.email))!;
      await h.admin.patch(`/users/${ada.id}`, { roles: ['admin'] });
      if (graceId) await h.admin.delete(`/users/${graceId}`);
    }
  });
});
