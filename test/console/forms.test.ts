import { expect } from 'chai';
import { skipWithoutChromium } from '../support/browser.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * Forms check in the browser what the server would refuse, say everything wrong at once in words,
 * each message under its field; what only the server can tell lands under its field too.
 */
describe('console: forms say everything wrong at once', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('the API lists every problem of a body, each with its field', async () => {
    const res = await h.admin.post('/users', { email: 'not-an-email', name: '', password: 'short' });
    expect(res.status).to.equal(400);
    expect(res.body.field).to.equal(res.body.errors[0].field);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).to.deep.equal(['email', 'name', 'password']);
  });

  it('create credential: a missing name and a bad redirect URI together, in words, under their fields', async () => {
    const { context, page, problems } = await openConsole(h);
    try {
      await page.getByRole('button', { name: 'Create credential' }).click();
      const create = page.getByRole('dialog', { name: 'Create credential' });
      await create.getByRole('radio', { name: /Web app/ }).check();
      await create.getByLabel('Redirect URI').fill('not a uri');
      await create.getByRole('button', { name: 'Create credential' }).click();
      await create.locator('#credential-name-error').getByText('Give the credential a name.').waitFor();
      await create.locator('#credential-redirect-error').getByText('“not a uri” is not a full URL. Enter one like https://app.example.com/callback.').waitFor();
      expect(await create.textContent()).not.to.match(/redirect_uris|client_name/);
      expect((await h.admin.get('/clients?q=not%20a%20uri')).body.data).to.have.length(0);
      // Fixed, it goes through.
      await create.getByLabel('Name').fill('Form check app');
      await create.getByLabel('Redirect URI').fill('https://forms.example.test/callback');
      await create.getByRole('button', { name: 'Create credential' }).click();
      await page.getByRole('dialog', { name: 'Credential created' }).waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('add user: name, email and password problems at once; the server’s common-password refusal under the password', async () => {
    const { context, page, problems } = await openConsole(h, undefined, { path: '/console/users' });
    try {
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByLabel('Email').fill('grace at example');
      await add.getByLabel('Initial password').fill('short');
      await add.getByRole('button', { name: 'Add user' }).click();
      await add.locator('#user-name-error').getByText('Enter their name.').waitFor();
      await add.locator('#user-email-error').getByText('“grace at example” is not an email address, e.g. ada@example.com.').waitFor();
      await add.locator('#user-password-error').getByText('Use at least 12 characters; this one has 5.').waitFor();

      await add.getByLabel('Name').fill('Grace Forms');
      await add.getByLabel('Email').fill('grace-forms@example.test');
      await add.getByLabel('Initial password').fill('password1234');
      await add.getByRole('button', { name: 'Add user' }).click();
      await add.locator('#user-password-error').getByText('This password is on a list of common or breached passwords; choose another.').waitFor();
      expect(await add.locator('#user-name-error').count()).to.equal(0);
      expect(await add.textContent()).not.to.include('password:');
      expect(await h.findUser('grace-forms@example.test')).to.equal(undefined);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
