import { expect } from 'chai';
import { USER, baseSeed } from '../support/fixtures.js';
import { auditOf } from '../support/accounts.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import { freshAddress, loginForm } from '../support/sign-in.js';

/**
 * The audit log keeps its signal under a flood: repeated failures from one source within a window
 * (2 s here) are one row at once plus one summary with the count; successes are never folded.
 */
describe('audit folding of repeated failures', () => {
  let server: TestServer;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed, env: { TRUST_PROXY: 'true', AUDIT_FOLD_WINDOW: '2' } });
  });
  after(() => server?.destroy());

  it('ten failed sign-ins from one address for one account leave a first row and a summary per window, counting all ten', async () => {
    const address = freshAddress();
    const form = await loginForm(server, address);
    // Start just after a window opens, so the ten usually fall in one window.
    await new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 50));
    const began = Date.now();
    for (let i = 0; i < 10; i++) expect((await form.attempt(USER.email, `wrong password ${i}`)).status).to.equal(401);
    const ended = Date.now();
    const userId = (await managementApi(server, await managementToken(server)).get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data[0].id;
    // Windows are aligned to the clock (2 s here); on a slow machine the ten may span more than one.
    // The server stamps each failure between our send and its answer, so this is an upper bound.
    const windows = Math.floor(ended / 2000) - Math.floor(began / 2000) + 1;
    await new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 1500));
    const rows = (await auditOf(server, 'login.failed', userId)).filter((r) => r.ip === address);
    const firsts = rows.filter((r) => r.data.repeated === undefined);
    const summaries = rows.filter((r) => r.data.repeated !== undefined);
    expect(firsts.length).to.be.within(1, windows);
    // At most one summary per window that had a first row, each for its own window.
    expect(summaries.length).to.be.within(1, firsts.length);
    expect(new Set(summaries.map((r) => r.data.window_start)).size).to.equal(summaries.length);
    expect(firsts.length + summaries.reduce((n, r) => n + (r.data.repeated as number), 0)).to.equal(10);
    for (const r of summaries) {
      expect(r.data).to.include({ reason: 'bad_password' });
      expect(Date.parse(r.data.window_end as string) - Date.parse(r.data.window_start as string)).to.equal(2000);
    }
  });

  it('successes are recorded one by one', async () => {
    const address = freshAddress();
    const before = (await auditOf(server, 'login.succeeded')).length;
    for (let i = 0; i < 3; i++) expect((await (await loginForm(server, address)).attempt(USER.email, USER.password)).status).to.equal(303);
    expect((await auditOf(server, 'login.succeeded')).length - before).to.equal(3);
  });

  it('a server that stops writes the summaries of open windows on its way out', async () => {
    const other = await startServer({ seed: baseSeed(), env: { TRUST_PROXY: 'true', AUDIT_FOLD_WINDOW: '3600' } });
    try {
      const address = freshAddress();
      const form = await loginForm(other, address);
      for (let i = 0; i < 4; i++) await form.attempt('nobody@example.test', `guess ${i}`);
      await other.runtime.protection.close();
      const rows = (await auditOf(other, 'login.failed')).filter((r) => r.ip === address);
      expect(rows.map((r) => r.data.repeated ?? null)).to.deep.equal([null, 3]);
    } finally {
      await other.destroy();
    }
  });
});
