import { expect } from 'chai';
import { newPage, signIn, skipWithoutChromium } from '../support/browser.js';
import { auditOf } from '../support/accounts.js';
import { DEVELOPER, openConsole, startConsoleHarness, type ConsoleHarness, rowAction } from '../support/console.js';

/**
 * Sign-in lockouts in a real Chromium: a person who types wrong passwords is told to wait and until
 * when; the administrator sees them locked on the Users page, unlocks them, and they sign in.
 * Small limits: the second failure reaches the longest wait (10 minutes), a lockout.
 */
describe('console: sign-in lockouts on the users page', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness({ env: { LOGIN_MAX_FAILURES: '2', LOGIN_WAIT_INCREMENT: '600', LOGIN_MAX_WAIT: '600' } });
  });
  after(async () => h?.close());

  it('a locked-out person is told when to try again; the administrator sees the lockout, lifts it, and the person signs in', async () => {
    const person = await newPage(h.browser);
    try {
      await person.page.goto(`${h.server.url}/console/`);
      await person.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
      await signIn(person.page, { email: DEVELOPER.email, password: 'not my password' });
      await person.page.getByRole('alert').getByText('The email or password is incorrect.').waitFor();
      await signIn(person.page, { email: DEVELOPER.email, password: 'still not my password' });
      await person.page.getByRole('alert').getByText(/Too many failed sign-ins\. .*try again in 10 minutes \(at \d\d:\d\d UTC\)/).waitFor();
      // The right password changes nothing while the lockout lasts.
      await signIn(person.page, DEVELOPER);
      await person.page.getByRole('alert').getByText(/Too many failed sign-ins/).waitFor();

      const devId = (await h.findUser(DEVELOPER.email))!.id;
      const { context, page, problems } = await openConsole(h);
      try {
        await page.goto(`${h.server.url}/console/users`);
        const row = page.getByRole('row').filter({ hasText: DEVELOPER.email });
        await row.getByText('Locked').waitFor();
        await row.getByText(/until/).waitFor();
        await (await rowAction(page, `Unlock ${DEVELOPER.name}`)).click();
        const confirm = page.getByRole('dialog', { name: `Unlock ${DEVELOPER.name}?` });
        await confirm.getByText(/too many wrong passwords/).waitFor();
        await confirm.getByRole('button', { name: 'Unlock' }).click();
        await page.getByText(`${DEVELOPER.name} can sign in again.`).waitFor();
        expect(await row.getByText('Locked').count()).to.equal(0);
        expect((await h.admin.get(`/users/${devId}/lockout`)).body.locked_until).to.equal(null);
        expect((await auditOf(h.server, 'user.unlocked', devId)).length).to.equal(1);
        expect((await auditOf(h.server, 'user.locked', devId)).length).to.equal(1);
        expect(problems).to.deep.equal([]);
      } finally {
        await context.close();
      }

      await signIn(person.page, DEVELOPER);
      await person.page.locator('#main-nav').waitFor({ state: 'attached' });
    } finally {
      await person.context.close();
    }
  });
});
