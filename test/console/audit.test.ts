import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * The audit log page in a real Chromium: newest first, the events a change in the console itself
 * produced, each filter (exact type, prefix, actor, since) and clearing them, a shared filtered
 * URL, long event data folded away, and Load more within a filter until the end.
 */
describe('console: audit log page', function () {
  this.timeout(60_000);
  let h: ConsoleHarness;
  const idOf = async (email: string) => (await h.findUser(email))!.id;
  // Conditions are polled from here (support/eventually.ts): the console's CSP (rightly) refuses the
  // string evaluation that waitForFunction uses.
  /** A date input's value (YYYY-MM-DD) some days from now. */
  const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('shows the event a change made in the console produced, and narrows by type prefix, actor and date', async () => {
    const adminId = await idOf(ADMIN.email);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/users' });
    try {
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByLabel('Name').fill('Audited Person');
      await add.getByLabel('Email').fill('audited@example.test');
      await add.getByRole('button', { name: 'Add user' }).click();
      await page.getByText('Audited Person was added.').waitFor();
      const auditedId = await idOf('audited@example.test');

      await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit log' }).click();
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      const newest = (await rows.first().textContent()) ?? '';
      // Newest first: the user just added, by the signed-in admin, with the email in its data.
      expect(newest).to.include('user.created');
      expect(newest).to.include(adminId);
      expect(newest).to.include(auditedId);
      expect(newest).to.include('audited@example.test');
      expect(await rows.first().locator('td[data-label="Time"] .sub').textContent()).to.match(/just now|minute/);

      const total = await rows.count();
      await page.getByLabel('Event type').fill('user.*');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await eventually('only user.* events are listed', async () => (await rows.allTextContents()).every((t) => /user\.\w+/.test(t)));
      expect(await rows.count()).to.be.below(total);
      expect(new URL(page.url()).searchParams.get('type')).to.equal('user.*');

      await page.getByLabel('Event type').fill('');
      await page.getByLabel('Actor').fill(adminId);
      // The list shown so far may already pass the check below: wait for the filtered request's answer.
      await Promise.all([page.waitForResponse((r) => new URL(r.url()).searchParams.get('actor') === adminId), page.getByRole('button', { name: 'Apply filters' }).click()]);
      await eventually('only the admin’s events are listed', async () => (await rows.allTextContents()).every((t) => t.includes(adminId)));
      expect(new URL(page.url()).searchParams.get('actor')).to.equal(adminId);

      await page.getByLabel('Since').fill(daysFromNow(2));
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByRole('heading', { name: 'No events match' }).waitFor();

      await page.getByRole('button', { name: 'Clear' }).click();
      await eventually('the whole log is back', async () => (await rows.count()) >= total);
      expect(new URL(page.url()).search).to.equal('');
      expect(await page.getByLabel('Actor').inputValue()).to.equal('');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('reads Since as the start of that day where the person is, not midnight UTC', async () => {
    expect((await h.admin.post('/roles', { name: 'since-today', permissions: [] })).status).to.equal(201);
    // UTC+14 all year: for ten hours of each UTC day its date is already tomorrow's.
    const timezoneId = 'Pacific/Kiritimati';
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: timezoneId }).format(new Date());
    const startOfToday = new Date(Date.parse(`${today}T00:00:00Z`) - 14 * 3_600_000).toISOString();
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit', timezoneId });
    try {
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      await page.getByLabel('Since').fill(today);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).searchParams.has('since')),
        page.getByRole('button', { name: 'Apply filters' }).click(),
      ]);
      expect(new URL(answer.url()).searchParams.get('since')).to.equal(startOfToday);
      // The shared URL keeps the date as it was typed.
      expect(new URL(page.url()).searchParams.get('since')).to.equal(today);
      await eventually('the role made a moment ago is listed', async () => (await rows.allTextContents()).some((t) => t.includes('since-today')));
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('opens a shared, filtered URL with its filters filled in', async () => {
    expect((await h.admin.post('/roles', { name: 'shared-view', permissions: ['clients:read'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit?type=role.created' });
    try {
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      expect(await page.getByLabel('Event type').inputValue()).to.equal('role.created');
      const texts = await rows.allTextContents();
      expect(texts.every((t) => t.includes('role.created'))).to.equal(true);
      expect(texts[0]).to.include('shared-view');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('folds long event data into a disclosure that opens to the whole JSON', async () => {
    const all = Object.keys(MANAGEMENT_SCOPES);
    expect((await h.admin.post('/roles', { name: 'wide-role', permissions: all })).status).to.equal(201);
    expect((await h.admin.patch('/roles/wide-role', { permissions: all.slice(0, 2) })).status).to.equal(200);
    const { context, page } = await openConsole(h, ADMIN, { path: '/console/audit?type=role.updated' });
    try {
      const details = page.locator('tbody tr').first().locator('td[data-label="Details"] details');
      // Postgres's jsonb orders the keys itself; the summary names them whatever the order.
      await details.locator('summary').getByText(/^(before, after|after, before)$/).waitFor();
      expect(await details.locator('pre.event-data').isVisible()).to.equal(false);
      await details.locator('summary').click();
      const json = JSON.parse((await details.locator('pre.event-data').textContent()) ?? '{}');
      expect(json).to.deep.equal({ before: all, after: all.slice(0, 2) });
    } finally {
      await context.close();
    }
  });

  it('pages through a filtered view with Load more until the end', async () => {
    for (let i = 0; i < 52; i++) {
      expect((await h.admin.post('/roles', { name: `paged-${i}`, permissions: [] })).status).to.equal(201);
    }
    const expected = ((await h.admin.get('/audit-events?type=role.created&limit=200')).body.data as unknown[]).length;
    expect(expected).to.be.above(50);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit?type=role.created' });
    try {
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).to.equal(50);
      const more = page.getByRole('button', { name: 'Load more' });
      await more.click();
      // Not "wait for the button to go": while busy it is named "Loading…", which already looks gone.
      await eventually(`all ${expected} events are listed`, async () => (await rows.count()) === expected);
      expect(await more.count(), 'nothing more to load').to.equal(0);
      expect((await rows.allTextContents()).every((t) => t.includes('role.created'))).to.equal(true);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('someone without audit:read is told which permission the page needs', async () => {
    expect((await h.admin.post('/roles', { name: 'no-audit', permissions: ['clients:read'] })).status).to.equal(201);
    const who = { name: 'No Audit', email: 'no-audit@example.test', password: 'no audit password 1' };
    expect((await h.admin.post('/users', { ...who, roles: ['no-audit'] })).status).to.equal(201);
    const { context, page, problems } = await openConsole(h, who, { path: '/console/audit' });
    try {
      await page.getByRole('alert').getByText('audit:read').waitFor();
      expect(await page.locator('table').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
