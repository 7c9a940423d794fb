import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { recordAudit } from '../../server/services/audit.js';
import { skipWithoutChromium } from '../support/browser.js';
import { ADMIN, DEVELOPER, VIEWER, openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * The audit log page in a real Chromium: newest first, the events a change in the console itself
 * produced, each filter (exact type, prefix, actor by id or email, since) and clearing them, a
 * shared filtered URL, names instead of ids linking to the person or credential, details as a list
 * with what changed, and Load more within a filter until the end.
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
      // Newest first: the user just added, by the signed-in admin, both by name and email, not by id.
      expect(newest).to.include('user.created');
      expect(newest).to.include(ADMIN.name);
      expect(newest).to.include('Audited Person');
      expect(newest).to.include('audited@example.test');
      expect(newest).not.to.include(adminId);
      expect(newest).not.to.include(auditedId);
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
      await eventually('only the admin’s events are listed', async () =>
        (await rows.locator('td[data-label="Actor"]').allTextContents()).every((t) => t.includes(ADMIN.email)));
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

  it('shows details as a list, and what a change removed and added, instead of raw JSON', async () => {
    const all = Object.keys(MANAGEMENT_SCOPES);
    expect((await h.admin.post('/roles', { name: 'wide-role', permissions: all })).status).to.equal(201);
    expect((await h.admin.patch('/roles/wide-role', { permissions: [...all.slice(0, 2), 'audit:read'] })).status).to.equal(200);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit?type=role.*' });
    try {
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      const updated = rows.filter({ hasText: 'role.updated' }).first().locator('td[data-label="Details"] dl.event-data');
      const removed = all.slice(2).filter((p) => p !== 'audit:read');
      await updated.locator('dd .change-removed').waitFor();
      expect(await updated.locator('.change-removed').textContent()).to.equal(`removed ${removed.join(', ')}`);
      expect(await updated.locator('.change-added').count(), 'nothing was added').to.equal(0);
      // A plain event: each key beside its value, no JSON anywhere.
      const created = rows.filter({ hasText: 'role.created' }).filter({ hasText: 'wide-role' }).first().locator('td[data-label="Details"] dl.event-data');
      expect(await created.locator('dt').allTextContents()).to.deep.equal(['permissions']);
      expect(await created.locator('dd').textContent()).to.equal(all.join(', '));
      const details = await rows.locator('td[data-label="Details"]').allTextContents();
      expect(details.join('\n')).not.to.match(/[{}[\]"]/);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('names the actor and target, linking to the person (the users list, searched) and to the credential', async () => {
    const made = await h.admin.post('/clients', { client_name: 'Linked credential', type: 'service', scope: '' });
    expect(made.status).to.equal(201);
    const person = await h.admin.post('/users', { email: 'linked.person@example.test', name: 'Linked Person', roles: [] });
    expect(person.status).to.equal(201);
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit?type=client.created' });
    try {
      const row = page.locator('tbody tr').filter({ hasText: 'Linked credential' }).first();
      await row.waitFor();
      expect(await row.textContent()).not.to.include(made.body.client_id);
      await row.locator('td[data-label="Target"]').getByRole('link', { name: 'Linked credential' }).click();
      await page.getByRole('heading', { name: 'Linked credential', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).to.equal(`/console/credentials/${made.body.client_id}`);

      await page.goto(`${h.server.url}/console/audit?type=user.created`);
      const userRow = page.locator('tbody tr').filter({ hasText: 'Linked Person' }).first();
      await userRow.waitFor();
      expect(await userRow.textContent()).not.to.include(person.body.id);
      await userRow.locator('td[data-label="Target"]').getByRole('link', { name: 'Linked Person' }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      expect(await page.getByLabel('Search').inputValue()).to.equal('linked.person@example.test');
      await eventually('the list shows that one person', async () => {
        const texts = await page.locator('tbody tr').allTextContents();
        return texts.length === 1 && texts[0].includes('Linked Person');
      });
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('filters the actor by part of an email: that person’s events, and nobody else’s', async () => {
    const developer = (await h.findUser(DEVELOPER.email))!;
    const viewer = (await h.findUser(VIEWER.email))!;
    for (const [who, n] of [[developer, 3], [viewer, 2]] as const) {
      for (let i = 0; i < n; i++) await recordAudit(h.server.runtime.db, { type: 'console.email_filter', actor: { type: 'user', id: who.id }, data: { n: i } });
    }
    const { context, page, problems } = await openConsole(h, ADMIN, { path: '/console/audit?type=console.email_filter' });
    try {
      const rows = page.locator('tbody tr');
      await eventually('both people’s events are listed', async () => (await rows.count()) === 5);
      await page.getByLabel('Actor').fill(DEVELOPER.email.slice(0, 4).toUpperCase());
      await Promise.all([page.waitForResponse((r) => new URL(r.url()).searchParams.get('actor') === 'DEV@'), page.getByRole('button', { name: 'Apply filters' }).click()]);
      await eventually('only the developer’s three events are listed', async () => (await rows.count()) === 3);
      const actors = await rows.locator('td[data-label="Actor"]').allTextContents();
      expect(actors.every((t) => t.includes(DEVELOPER.name) && t.includes(DEVELOPER.email))).to.equal(true);
      expect(new URL(page.url()).searchParams.get('actor')).to.equal('DEV@');
      expect(problems).to.deep.equal([]);
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
