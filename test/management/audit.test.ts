import { expect } from 'chai';
import { recordAudit } from '../../server/services/audit.js';
import { parseIsoInstant } from '../../server/services/instant.js';
import { createApiKey } from '../../server/services/api-keys.js';
import { systemPrincipal } from '../../server/services/principal.js';
import { createUser } from '../../server/services/users.js';
import { SERVICE, basic, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { type TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';

interface Event {
  id: string;
  type: string;
  occurred_at: string;
  actor: { type: string; id: string | null; ip: string | null };
  target: { type: string; id: string | null } | null;
  actor_display: unknown;
  target_display: unknown;
  data: Record<string, unknown>;
}

describe('audit log: GET /audit-events', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));
  before(async () => {
    // A known history, oldest first: 5 user events by two actors, then 3 of another type.
    for (let i = 0; i < 5; i++) {
      await recordAudit(server.runtime.db, {
        type: 'test.user_changed',
        actor: { type: 'user', id: i % 2 ? 'actor-odd' : 'actor-even', ip: '192.0.2.7' },
        target: { type: 'user', id: `user-${i}` },
        data: { n: i },
      });
    }
    for (let i = 0; i < 3; i++) await recordAudit(server.runtime.db, { type: 'test.other', actor: { type: 'system' }, data: { n: i } });
  });

  const all = async (query: string): Promise<Event[]> => {
    const out: Event[] = [];
    let cursor: string | null = '';
    for (let page = 0; page < 50 && cursor !== null; page++) {
      const res = await api.get(`/audit-events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      out.push(...res.body.data);
      cursor = res.body.next_cursor;
    }
    return out;
  };

  it('answers newest first in the documented shape', async () => {
    const res = await api.get('/audit-events?type=test.user_changed');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.body.next_cursor).to.equal(null);
    const events = res.body.data as Event[];
    expect(events.map((e) => e.data.n)).to.deep.equal([4, 3, 2, 1, 0]);
    expect(events[0]).to.have.keys('id', 'type', 'occurred_at', 'actor', 'target', 'data', 'actor_display', 'target_display');
    expect(events[0]).to.deep.include({
      type: 'test.user_changed',
      // Ids the log knows nothing about are shown as they are, without a name (audit-names.test.ts).
      actor: { type: 'user', id: 'actor-even', ip: '192.0.2.7' },
      target: { type: 'user', id: 'user-4' },
      actor_display: null,
      target_display: null,
    });
    expect(events[0].id).to.be.a('string');
    expect(new Date(events[0].occurred_at).toISOString()).to.equal(events[0].occurred_at);
    const system = (await api.get('/audit-events?type=test.other&limit=1')).body.data[0] as Event;
    expect(system.actor).to.deep.equal({ type: 'system', id: null, ip: null });
    expect(system.actor_display).to.equal(null);
    expect(system.target).to.equal(null);
    expect(system.target_display).to.equal(null);
  });

  it('orders by the numeric event id, also where ids grow a digit (9 before 10 is older, not newer)', async () => {
    // Enough events that ids of one and of two or three digits are all in the log.
    for (let i = 0; i < 12; i++) await recordAudit(server.runtime.db, { type: 'ordering.digits', actor: { type: 'system' }, data: { n: i } });
    const events = (await api.get('/audit-events?limit=200')).body.data as Event[];
    const ids = events.map((e) => Number(e.id));
    expect(ids.some((id) => id < 10) && ids.some((id) => id >= 10), 'ids of different lengths').to.equal(true);
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    expect((await api.get('/audit-events?type=ordering.digits')).body.data.map((e: Event) => e.data.n)).to.deep.equal([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('pages with a cursor, without gaps or repeats, while new events arrive', async () => {
    const first = await api.get('/audit-events?type=test.user_changed&limit=2');
    expect(first.body.data.map((e: Event) => e.data.n)).to.deep.equal([4, 3]);
    expect(first.body.next_cursor).to.be.a('string');
    // An event added between pages lands before the first page, not in the next one.
    await recordAudit(server.runtime.db, { type: 'test.user_changed', actor: { type: 'system' }, data: { n: 99 } });
    const second = await api.get(`/audit-events?type=test.user_changed&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((e: Event) => e.data.n)).to.deep.equal([2, 1]);
    const third = await api.get(`/audit-events?type=test.user_changed&limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body.data.map((e: Event) => e.data.n)).to.deep.equal([0]);
    expect(third.body.next_cursor).to.equal(null);
    const walked = await all('type=test.user_changed&limit=1');
    expect(walked.map((e) => e.data.n)).to.deep.equal([99, 4, 3, 2, 1, 0]);
  });

  it('filters by actor, by type prefix and by since', async () => {
    const odd = await all('actor=actor-odd');
    expect(odd.map((e) => e.data.n)).to.deep.equal([3, 1]);
    const prefixed = await all('type=test.*');
    expect(prefixed.length).to.equal(9);
    expect(new Set(prefixed.map((e) => e.type))).to.deep.equal(new Set(['test.user_changed', 'test.other']));
    // LIKE wildcards in the prefix are literal.
    expect(await all('type=tes_.*')).to.deep.equal([]);

    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await api.get(`/audit-events?since=${encodeURIComponent(future)}`)).body.data).to.deep.equal([]);
    const newest = (await api.get('/audit-events?limit=1')).body.data[0] as Event;
    const since = await all(`since=${encodeURIComponent(newest.occurred_at)}`);
    expect(since.map((e) => e.id)).to.include(newest.id);
    for (const e of since) expect(Date.parse(e.occurred_at)).to.be.at.least(Date.parse(newest.occurred_at));
    const yesterday = new Date(Date.now() - 86400_000).toISOString().slice(0, 10);
    expect((await all(`since=${yesterday}&type=test.other`)).length).to.equal(3);
  });

  for (const [query, field] of [
    ['since=yesterday', 'since'],
    ['since=2025-02-30', 'since'],
    ['since=2025-13-01T00:00:00Z', 'since'],
    ['since=1700000000', 'since'],
    ['since=2025-01-01T25:00:00Z', 'since'],
    ['cursor=bm9wZQ', 'cursor'],
    ['cursor=' + Buffer.from(JSON.stringify({ id: '1 OR 1=1' })).toString('base64url'), 'cursor'],
    ['limit=0', 'limit'],
    ['limit=500', 'limit'],
    ['type=a&type=b', 'type'],
  ]) {
    it(`refuses ${query} with 400 naming ${field}`, async () => {
      const res = await api.get(`/audit-events?${query}`);
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      expect(res.body.field).to.equal(field);
      expect(res.body.error_description).to.include(field);
    });
  }

  it('parses ISO 8601 dates and date-times, with and without offsets', () => {
    expect(parseIsoInstant('2025-01-31')?.toISOString()).to.equal('2025-01-31T00:00:00.000Z');
    expect(parseIsoInstant('2025-01-31T12:30:00Z')?.toISOString()).to.equal('2025-01-31T12:30:00.000Z');
    expect(parseIsoInstant('2025-01-31T12:30:00.123456+02:00')?.toISOString()).to.equal('2025-01-31T10:30:00.123Z');
    expect(parseIsoInstant('2025-01-31T12:30-0130')?.toISOString()).to.equal('2025-01-31T14:00:00.000Z');
    expect(parseIsoInstant('2024-02-29')?.toISOString()).to.equal('2024-02-29T00:00:00.000Z');
    expect(parseIsoInstant('2023-02-29')).to.equal(undefined);
    expect(parseIsoInstant('31/01/2025')).to.equal(undefined);
  });

  it('needs a token (401) and audit:read (403 naming it)', async () => {
    const anonymous = await managementApi(server, undefined).get('/audit-events');
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Bearer .*error="invalid_token"/);
    const other = await managementApi(server, await managementToken(server, ['clients:read'])).get('/audit-events');
    expect(other.status).to.equal(403);
    expect(other.body).to.include({ error: 'insufficient_scope', scope: 'audit:read' });
    expect(other.headers.get('www-authenticate')).to.include('scope="audit:read"');
  });

  it('shows what the rest of the server records: a refused token request from outside an IP allowlist', async () => {
    await server.writeBehindTheApi(`UPDATE clients SET ip_allowlist = '["198.51.100.0/24"]' WHERE client_id = $1`, [SERVICE.id]);
    try {
      const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
      expect(res.json.error).to.equal('invalid_client');
    } finally {
      await server.writeBehindTheApi(`UPDATE clients SET ip_allowlist = '[]' WHERE client_id = $1`, [SERVICE.id]);
    }
    const [event] = (await api.get(`/audit-events?type=client.token_refused&actor=${SERVICE.id}`)).body.data as Event[];
    expect(event.actor).to.deep.include({ type: 'client', id: SERVICE.id, ip: '127.0.0.1' });
    expect(event.target).to.deep.include({ type: 'client', id: SERVICE.id });
    expect(event.data).to.deep.equal({ reason: 'ip_not_allowed' });
  });

  it('shows what the rest of the server records: an API key used from a new address', async () => {
    const cli = systemPrincipal('cli');
    const owner = await createUser(server.runtime.db, { email: 'auditor@example.test', name: 'Auditor', roles: ['viewer'], password: 'a long enough password' }, cli);
    const key = await createApiKey(server.runtime.db, { user_id: owner.id, name: 'reporting', scopes: ['audit:read'], environment: 'live', ip_allowlist: [] }, cli);
    const res = await managementApi(server, key.key).get(`/audit-events?type=api_key.used_from_new_ip&actor=${key.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.data).to.have.length(1);
    expect(res.body.data[0].actor).to.deep.include({ type: 'api_key', id: key.id, ip: '127.0.0.1' });
    expect(res.body.data[0].target).to.deep.include({ type: 'api_key', id: key.id });
    expect(JSON.stringify(res.body)).not.to.include(key.key);
    const created = (await api.get(`/audit-events?type=api_key.created`)).body.data[0] as Event;
    expect(created.target).to.deep.include({ type: 'api_key', id: key.id });
  });

  it('shows management changes made through the API, with the caller as actor', async () => {
    const rotated = await api.post('/keys/rotate', {});
    expect(rotated.status).to.equal(201);
    const [event] = (await api.get(`/audit-events?actor=${ADMIN_CLIENT.id}&limit=1`)).body.data as Event[];
    expect(event.type).to.equal('signing_key.rotated');
    expect(event.actor).to.deep.include({ type: 'client', id: ADMIN_CLIENT.id, ip: '127.0.0.1' });
  });

  it('is append-only: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    const db = server.runtime.db;
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;
    for (const sql of [
      `UPDATE audit_events SET type = 'forged'`,
      `UPDATE audit_events SET data = '{}'::jsonb WHERE id = (SELECT max(id) FROM audit_events)`,
      'DELETE FROM audit_events',
      'DELETE FROM audit_events WHERE id = (SELECT min(id) FROM audit_events)',
      'TRUNCATE audit_events',
    ]) {
      let error: Error | undefined;
      try {
        await db.query(sql);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message, sql).to.include('append-only');
    }
    const after = await db.query<{ n: number; forged: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE type = 'forged')::int AS forged FROM audit_events`);
    expect(after.rows[0]).to.deep.equal({ n: before, forged: 0 });
  });
});
