import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, DEVELOPER, openConsole, startConsoleHarness, VIEWER, type ConsoleHarness, rowAction } from '../support/console.js';

/**
 * The Users page in a real Chromium: add, change roles, deactivate and reactivate, each checked
 * through the Management API; a user added without a password, the API's refusals shown where they
 * belong, search, the keyboard, someone without users:read, and "Load more" past the first 50.
 */
describe('console: users page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('adds a developer, changes their roles, deactivates them; a viewer’s buttons are off and say users:write is missing', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/users`);
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByLabel('Name').fill('Grace Hopper');
      await add.getByLabel('Email').fill('grace@example.test');
      await add.getByLabel('Initial password').fill('cobol compiler 1959');
      await add.getByLabel(/^developer/).check();
      await add.getByRole('button', { name: 'Add user' }).click();
      await page.getByText('Grace Hopper was added.').waitFor();
      const graceId = (await h.findUser('grace@example.test'))!.id;
      expect((await h.admin.get(`/users/${graceId}`)).body.roles).to.deep.equal(['developer']);

      await (await rowAction(page, 'Change roles of Grace Hopper')).click();
      const roles = page.getByRole('dialog', { name: 'Roles of Grace Hopper' });
      await roles.getByLabel(/^developer/).uncheck();
      await roles.getByLabel(/^viewer/).check();
      await roles.getByRole('button', { name: 'Save roles' }).click();
      await page.getByText(/Roles of Grace Hopper saved/).waitFor();
      expect((await h.admin.get(`/users/${graceId}`)).body.roles).to.deep.equal(['viewer']);

      await (await rowAction(page, 'Deactivate Grace Hopper')).click();
      const confirm = page.getByRole('dialog', { name: 'Deactivate Grace Hopper?' });
      await confirm.getByText(/signed out everywhere/).waitFor();
      await confirm.getByRole('button', { name: 'Deactivate user' }).click();
      await page.getByText('Grace Hopper was deactivated.').waitFor();
      expect((await h.admin.get(`/users/${graceId}`)).body.active).to.equal(false);
      // Nobody is offered deactivating themselves.
      // Not in the row's menu either (includeHidden: the menu is closed).
      expect(await page.getByRole('button', { name: `Deactivate ${ADMIN.name}`, includeHidden: true }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }

    const viewer = await openConsole(h, VIEWER);
    try {
      await viewer.page.goto(`${h.server.url}/console/users`);
      for (const name of ['Change roles of Dev Eloper', 'Edit Dev Eloper', 'Deactivate Dev Eloper']) {
        const button = viewer.page.getByRole('button', { name, includeHidden: true });
        expect(await button.isDisabled(), name).to.equal(true);
        expect(await button.getAttribute('title')).to.equal('Needs the users:write permission');
      }
      expect(await viewer.page.getByRole('button', { name: 'Add user' }).getAttribute('title')).to.include('users:write');
    } finally {
      await viewer.context.close();
    }
  });

  it('edits a user’s name, email and password: they sign in with the new ones', async () => {
    const made = await h.admin.post('/users', { name: 'Old Name', email: 'old-name@example.test', password: 'the first password', roles: ['viewer'] });
    expect(made.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      await (await rowAction(page, 'Edit Old Name')).click();
      const edit = page.getByRole('dialog', { name: 'Edit Old Name' });
      const save = edit.getByRole('button', { name: 'Save user' });
      expect(await save.isDisabled(), 'nothing changed yet').to.equal(true);
      await edit.getByLabel('Name').fill('New Name');
      await edit.getByLabel('Email').fill('new-name@example.test');
      await edit.getByLabel('New password').fill('short');
      await save.click();
      // The API's rule, under the field it is about; nothing is saved.
      await edit.locator('#edit-user-password-error').getByText(/at least 12 characters/).waitFor();
      expect((await h.admin.get(`/users/${made.body.id}`)).body.name).to.equal('Old Name');
      await edit.getByLabel('New password').fill('the second password');
      await save.click();
      await page.getByRole('status').filter({ hasText: 'New Name was saved, with a new password.' }).waitFor();
      expect((await h.admin.get(`/users/${made.body.id}`)).body).to.deep.include({ name: 'New Name', email: 'new-name@example.test' });
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
    const renamed = await openConsole(h, { email: 'new-name@example.test', password: 'the second password' });
    try {
      await renamed.page.getByText('New Name').first().waitFor();
    } finally {
      await renamed.context.close();
    }
  });

  it('deletes a user after saying what that does; nobody is offered deleting themselves, nor without users:delete', async () => {
    const made = await h.admin.post('/users', { name: 'Leaving Soon', email: 'leaving@example.test', roles: ['developer'] });
    expect(made.status).to.equal(201);
    const key = await h.admin.post('/api-keys', { name: 'Leaver key', scopes: ['clients:read'], user_id: made.body.id });
    expect(key.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      await (await rowAction(page, 'Delete Leaving Soon')).click();
      const confirm = page.getByRole('dialog', { name: 'Delete Leaving Soon?' });
      await confirm.getByText('This cannot be undone.').waitFor();
      await confirm.getByText(/deactivate it instead/).waitFor();
      await confirm.getByRole('button', { name: 'Delete user' }).click();
      await page.getByRole('status').filter({ hasText: 'Leaving Soon was deleted.' }).waitFor();
      await page.getByRole('row', { name: /leaving@example.test/ }).waitFor({ state: 'detached' });
      expect((await h.admin.get(`/users/${made.body.id}`)).status).to.equal(404);
      const me = await fetch(`${h.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key.body.key}` } });
      expect(me.status).to.equal(401);
      expect(await page.getByRole('button', { name: `Delete ${ADMIN.name}`, includeHidden: true }).count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
    // A developer may read users (users:read) but holds no users:delete.
    const developer = await openConsole(h, DEVELOPER, { path: '/console/users' });
    try {
      await developer.page.getByRole('row', { name: new RegExp(VIEWER.email) }).waitFor();
      expect(await developer.page.getByRole('button', { name: /^Delete /, includeHidden: true }).count()).to.equal(0);
    } finally {
      await developer.context.close();
    }
  });

  it('adds a user without a password (the hint says what that means), submitting with Enter; refusals appear in the dialog', async () => {
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByText(/cannot sign in until a password is set/).waitFor();

      // Too short a password: the API's reason sits under the password field.
      await add.getByLabel('Name').fill('Katherine Johnson');
      await add.getByLabel('Email').fill('katherine@example.test');
      await add.getByLabel('Initial password').fill('short');
      await add.getByText(/At least 12 characters, and not a common or breached password/).waitFor();
      await add.getByRole('button', { name: 'Add user' }).click();
      await add.locator('#user-password-error').getByText(/at least 12 characters/).waitFor();
      expect(await h.findUser('katherine@example.test')).to.equal(undefined);

      // Without a password, with the developer role, submitted from the keyboard.
      await add.getByLabel('Initial password').fill('');
      await add.getByLabel(/^developer/).check();
      await add.getByLabel('Email').press('Enter');
      await page.getByText('Katherine Johnson was added.').waitFor();
      const katherine = await h.findUser('katherine@example.test');
      expect(katherine).to.deep.include({ name: 'Katherine Johnson', roles: ['developer'], active: true });
      const row = page.getByRole('row', { name: /Katherine Johnson/ });
      await row.getByText('developer', { exact: true }).waitFor();
      await row.getByText('Active', { exact: true }).waitFor();

      // The same email again: the API's 409 is said in the dialog, which stays open.
      await page.getByRole('button', { name: 'Add user' }).click();
      const again = page.getByRole('dialog', { name: 'Add user' });
      await again.getByLabel('Name').fill('Katherine Again');
      await again.getByLabel('Email').fill('katherine@example.test');
      await again.getByRole('button', { name: 'Add user' }).click();
      await again.getByRole('alert').getByText(/already exists/).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('search narrows the list on the server, and says when nobody matches', async () => {
    await h.admin.post('/users', { name: 'Search Target', email: 'needle-person@example.test', roles: [] });
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      const rows = page.locator('tbody tr');
      await page.getByRole('row', { name: /Dev Eloper/ }).waitFor();
      await page.getByRole('searchbox', { name: 'Search' }).fill('needle');
      await page.getByRole('row', { name: /Dev Eloper/ }).waitFor({ state: 'detached' });
      expect((await rows.allTextContents()).map((t) => t.includes('needle-person@example.test'))).to.deep.equal([true]);

      await page.getByRole('searchbox', { name: 'Search' }).fill('nobody-has-this-name');
      await page.getByRole('heading', { name: 'No users match' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('reactivates a deactivated user after saying what that brings back', async () => {
    const made = await h.admin.post('/users', { name: 'Returning Person', email: 'returning@example.test', password: 'returning password 1', roles: ['viewer'] });
    expect(made.status).to.equal(201);
    expect((await h.admin.patch(`/users/${made.body.id}`, { active: false })).status).to.equal(200);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      const row = page.getByRole('row', { name: /Returning Person/ });
      await row.getByText('Deactivated', { exact: true }).waitFor();
      await (await rowAction(row, 'Reactivate Returning Person')).click();
      const confirm = page.getByRole('dialog', { name: 'Reactivate Returning Person?' });
      await confirm.getByText(/can sign in again/).waitFor();
      await confirm.getByRole('button', { name: 'Reactivate user' }).click();
      await page.getByText('Returning Person can sign in again.').waitFor();
      await row.getByText('Active', { exact: true }).waitFor();
      expect((await h.admin.get(`/users/${made.body.id}`)).body.active).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('works from the keyboard: Escape closes a dialog without a change and focus returns to its button', async () => {
    const { context, page } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      // As a person would: once the page has loaded what it shows (users, roles, what you may give).
      await page.waitForLoadState('networkidle');
      // The row's menu opens from the keyboard, and its action is the next thing Tab reaches.
      const menu = page.getByLabel('Actions for Dev Eloper');
      await menu.focus();
      await page.keyboard.press('Enter');
      const opener = page.getByRole('button', { name: 'Change roles of Dev Eloper' });
      await opener.waitFor();
      await opener.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Roles of Dev Eloper' });
      await dialog.getByLabel(/^viewer/).check();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      // As a string: this project's TypeScript has no DOM types. Focus returns within a moment.
      // The menu closed when its action was chosen: focus is back on the menu's button.
      await page.waitForFunction(`document.activeElement?.getAttribute('aria-label') === 'Actions for Dev Eloper'`, null, { timeout: 5000 }).catch(() => undefined);
      expect(await page.evaluate<string | null>(`document.activeElement?.getAttribute('aria-label') ?? null`)).to.equal('Actions for Dev Eloper');
      expect((await h.findUser('dev@example.test'))?.roles).to.deep.equal(['developer']);
    } finally {
      await context.close();
    }
  });

  it('someone without users:read is told which permission the page needs', async () => {
    const role = await h.admin.post('/roles', { name: 'key-holder', description: 'Only API keys', permissions: ['api-keys:read', 'api-keys:write'] });
    expect(role.status).to.equal(201);
    const who = { name: 'Key Holder', email: 'keys-only@example.test', password: 'key holder password 1' };
    expect((await h.admin.post('/users', { ...who, roles: ['key-holder'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, who, { path: '/console/users' });
    try {
      await page.getByRole('alert').getByText('users:read').waitFor();
      expect(await page.locator('table').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('shows 50 users at a time with Load more for the rest, every cell labelled for the phone layout', async () => {
    const existing = ((await h.admin.get('/users?limit=200')).body.data as unknown[]).length;
    for (let i = existing; i < 53; i++) {
      const made = await h.admin.post('/users', { name: `Bulk ${i}`, email: `bulk-${String(i).padStart(2, '0')}@example.test`, roles: [] });
      expect(made.status).to.equal(201);
    }
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      const rows = page.locator('table.responsive tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).to.equal(50);
      expect(await page.getByRole('row', { name: new RegExp(VIEWER.email) }).count()).to.equal(0);
      const more = page.getByRole('button', { name: 'Load more' });
      await more.click();
      // Not "wait for the button to go": while busy it is named "Loading…", which already looks gone.
      // Sorted by email, the viewer comes last: on the second page.
      await page.getByRole('row', { name: new RegExp(VIEWER.email) }).waitFor();
      expect(await rows.count()).to.equal(53);
      expect(await more.count(), 'nothing more to load').to.equal(0);
      expect(await page.locator('tbody td:not([data-label])').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
