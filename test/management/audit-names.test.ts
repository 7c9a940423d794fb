import { expect } from 'chai';
import { recordAudit } from '../../server/services/audit.js';
import { systemPrincipal } from '../../server/services/principal.js';
import { createUser } from '../../server/services/users.js';
import { createApiKey } from '../../server/services/api-keys.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { type TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';

type Display = { name: string | null; email: string | null; deleted: boolean } | null;
interface Entry {
  type: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  actor_display: Display;
  target_display: Display;
  data: Record<string, unknown>;
}

/**
 * GET /audit-events names actors and targets (users by email and name, credentials and API keys by
 * name, deleted ones as deleted with what their deletion recorded), only to callers who may read
 * that kind of object, and its actor filter takes an email or part of one.
 */
describe('audit log: display names and the actor filter by email', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));
  const cli = systemPrincipal('cli');
  let grace: { id: string };
  let ada: { id: string };
  let graceKey: { id: string; key: string };

  before(async () => {
    const db = server.runtime.db;
    grace = await createUser(db, { email: 'Grace.Hopper@Example.test', name: 'Grace Hopper', roles: ['viewer'], password: 'a long enough password' }, cli);
    ada = await createUser(db, { email: 'ada.byron@example.test', name: 'Ada Lovelace', roles: ['viewer'], password: 'a long enough password' }, cli);
    graceKey = await createApiKey(db, { user_id: grace.id, name: 'grace-reports', scopes: ['audit:read', 'api-keys:read'], environment: 'live', ip_allowlist: [] }, cli);
    // Events by each of them, by Grace's key, and one by an id that merely contains her email.
    await recordAudit(db, { type: 'names.by_user', actor: { type: 'user', id: grace.id }, target: { type: 'client', id: ADMIN_CLIENT.id }, data: { n: 1 } });
    await recordAudit(db, { type: 'names.by_user', actor: { type: 'user', id: ada.id }, target: { type: 'user', id: grace.id }, data: { n: 2 } });
    await recordAudit(db, { type: 'names.by_key', actor: { type: 'api_key', id: graceKey.id }, target: { type: 'api_key', id: graceKey.id }, data: { n: 3 } });
    await recordAudit(db, { type: 'names.by_client', actor: { type: 'client', id: 'not-a-real-client' }, target: { type: 'user', id: 'not-a-uuid' }, data: { n: 4 } });
  });

  const page = async (query: string, client = api): Promise<Entry[]> => {
    const res = await client.get(`/audit-events?${query}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.data as Entry[];
  };

  it('names users by email and name, credentials and API keys by name; unknown ids stay bare', async () => {
    const events = await page('type=names.*&limit=10');
    const [unknown, byKey, byAda, byGrace] = events;
    expect(byGrace.actor_display).to.deep.equal({ name: 'Grace Hopper', email: 'Grace.Hopper@Example.test', deleted: false });
    expect(byGrace.target_display).to.deep.equal({ name: 'Ops automation', email: null, deleted: false });
    expect(byAda.actor_display).to.deep.equal({ name: 'Ada Lovelace', email: 'ada.byron@example.test', deleted: false });
    expect(byAda.target_display).to.deep.equal({ name: 'Grace Hopper', email: 'Grace.Hopper@Example.test', deleted: false });
    expect(byKey.actor_display).to.deep.equal({ name: 'grace-reports', email: null, deleted: false });
    // The log holds nothing about these: no name, and not called deleted either.
    expect(unknown.actor).to.deep.equal({ type: 'client', id: 'not-a-real-client', ip: null });
    expect(unknown.actor_display).to.equal(null);
    expect(unknown.target).to.deep.equal({ type: 'user', id: 'not-a-uuid' });
    expect(unknown.target_display).to.equal(null);
    // A real event: the API's caller (the automation client) and the user it made.
    const made = await api.post('/users', { email: 'made@example.test', name: 'Made Here', roles: [] });
    expect(made.status).to.equal(201);
    const [created] = await page('type=user.created&limit=1');
    expect(created.actor_display).to.deep.equal({ name: 'Ops automation', email: null, deleted: false });
    expect(created.target).to.deep.equal({ type: 'user', id: made.body.id });
    expect(created.target_display).to.deep.equal({ name: 'Made Here', email: 'made@example.test', deleted: false });
  });

  it('keeps the id of a deleted user, API key and credential and says deleted, with what the deletion recorded', async () => {
    const doomed = await api.post('/users', { email: 'doomed@example.test', name: 'Doomed', roles: [] });
    const doomedKey = await createApiKey(server.runtime.db, { user_id: grace.id, name: 'short-lived', scopes: [], environment: 'live', ip_allowlist: [] }, cli);
    const client = await api.post('/clients', { client_name: 'Soon gone', type: 'service', scope: '' });
    expect([doomed.status, client.status]).to.deep.equal([201, 201]);
    expect((await api.delete(`/users/${doomed.body.id}`)).status).to.equal(204);
    expect((await api.delete(`/api-keys/${doomedKey.id}`)).status).to.be.oneOf([200, 204]);
    expect((await api.delete(`/clients/${client.body.client_id}`)).status).to.be.oneOf([200, 204]);

    const [userCreated] = (await page('type=user.created&limit=50')).filter((e) => e.target?.id === doomed.body.id);
    expect(userCreated.target_display).to.deep.equal({ name: null, email: 'doomed@example.test', deleted: true });
    const [keyCreated] = (await page('type=api_key.created&limit=50')).filter((e) => e.target?.id === doomedKey.id);
    expect(keyCreated.target_display).to.deep.equal({ name: 'short-lived', email: null, deleted: true });
    const [clientCreated] = (await page('type=client.created&limit=50')).filter((e) => e.target?.id === client.body.client_id);
    expect(clientCreated.target).to.deep.equal({ type: 'client', id: client.body.client_id });
    expect(clientCreated.target_display).to.deep.equal({ name: null, email: null, deleted: true });
  });

  it('filters the actor by an email or part of it, any case: that person’s events and their keys’, no one else’s', async () => {
    for (const actor of ['grace.hopper@example.test', 'GRACE.HOPPER@', 'hopper']) {
      const events = await page(`type=names.*&actor=${encodeURIComponent(actor)}`);
      expect(events.map((e) => e.data.n), actor).to.deep.equal([3, 1]);
    }
    expect((await page('type=names.*&actor=ada.byron%40example.test')).map((e) => e.data.n)).to.deep.equal([2]);
    // Ids still match exactly, and LIKE's wildcards are taken literally.
    expect((await page(`type=names.*&actor=${ada.id}`)).map((e) => e.data.n)).to.deep.equal([2]);
    expect(await page('type=names.*&actor=%25')).to.deep.equal([]);
    expect(await page('type=names.*&actor=gr_ce')).to.deep.equal([]);
    expect(await page('type=names.*&actor=nobody%40example.test')).to.deep.equal([]);
  });

  it('shows a name only to a caller who may read that kind of object, and matches emails only for users:read', async () => {
    const auditOnly = managementApi(server, await managementToken(server, ['audit:read']));
    const events = await page('type=names.*&limit=10', auditOnly);
    for (const e of events) {
      expect(e.actor_display, e.type).to.equal(null);
      expect(e.target_display, e.type).to.equal(null);
    }
    // Searching by email would tell which addresses have accounts: only ids match.
    expect(await page('type=names.*&actor=hopper', auditOnly)).to.deep.equal([]);
    expect((await page(`type=names.*&actor=${grace.id}`, auditOnly)).map((e) => e.data.n)).to.deep.equal([1]);

    // Users and credentials, but not everyone's API keys (that needs users:write).
    const readers = managementApi(server, await managementToken(server, ['audit:read', 'users:read', 'clients:read', 'api-keys:read']));
    const [, byKey, , byGrace] = await page('type=names.*&limit=10', readers);
    expect(byGrace.actor_display?.email).to.equal('Grace.Hopper@Example.test');
    expect(byGrace.target_display?.name).to.equal('Ops automation');
    expect(byKey.actor_display).to.equal(null);
    // Grace's own key sees its own name (api-keys:read, her key).
    const own = managementApi(server, graceKey.key);
    const [ownKey] = await page('type=names.by_key', own);
    expect(ownKey.actor_display).to.deep.equal({ name: 'grace-reports', email: null, deleted: false });
  });
});
