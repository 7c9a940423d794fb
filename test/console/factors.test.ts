import { expect } from 'chai';
import { Secret, TOTP } from 'otpauth';
import { skipWithoutChromium } from '../support/browser.js';
import { auditOf } from '../support/accounts.js';
import { DEVELOPER, openConsole, startConsoleHarness, type ConsoleHarness, rowAction } from '../support/console.js';
import { confirmTotp, startTotpEnrolment } from '../../server/services/totp.js';

/**
 * Second factors in the console (issue 13): the Users page shows each person's factors and resets
 * them; the Roles page makes a role require two factors, built-in roles too.
 */
describe('console: second factors on the users and roles pages', function () {
  this.timeout(120_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    this.timeout(180_000);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('shows a person’s authenticator app and resets it (audited); makes the developer role require two factors', async () => {
    const dev = (await h.findUser(DEVELOPER.email))!;
    const { db, sealer } = h.server.runtime;
    const { secret } = await startTotpEnrolment(db, sealer, h.server.issuer, { id: dev.id, email: DEVELOPER.email });
    const code = TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
    expect(await confirmTotp(db, sealer, dev.id, code, { type: 'system', id: 'test' })).to.have.length(10);

    const { context, page, problems } = await openConsole(h);
    try {
      await page.goto(`${h.server.url}/console/users`);
      const row = page.getByRole('row').filter({ hasText: DEVELOPER.email });
      await row.getByText('Authenticator app').waitFor();
      await (await rowAction(page, `Reset second factors of ${DEVELOPER.name}`)).click();
      const confirm = page.getByRole('dialog', { name: `Reset the second factors of ${DEVELOPER.name}?` });
      await confirm.getByRole('button', { name: 'Reset factors' }).click();
      await page.getByText(`The second factors of ${DEVELOPER.name} were reset.`).waitFor();
      expect(await row.getByText('Authenticator app').count()).to.equal(0);
      expect((await h.admin.get(`/users/${dev.id}/factors`)).body).to.deep.equal({ totp: null, recovery_codes_left: 0, passkeys: [] });
      expect(await auditOf(h.server, 'user.factors_reset', dev.id)).to.have.length(1);

      await page.goto(`${h.server.url}/console/roles`);
      const developer = page.getByRole('region', { name: /^developer/ });
      await developer.getByLabel('Require two factors at sign-in').check();
      await page.getByText(/Holders of developer now sign in with two factors/).waitFor();
      const roles = (await h.admin.get('/roles')).body.data as { name: string; require_two_factors: boolean }[];
      expect(roles.find((r) => r.name === 'developer')!.require_two_factors).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
