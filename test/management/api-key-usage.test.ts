import { expect } from 'chai';
import { type TestServer, startServer } from '../support/server.js';
import { managementApi, managementToken } from '../support/management.js';
import { newKey, newPerson } from '../support/accounts.js';
import { setUp, useServer, type ManagementApi } from '../support/setup.js';
import { ApiKeyUsage, utcDay } from '../../server/services/api-key-usage.js';

const DAY = 86400_000;
const NO_SUCH_KEY = '00000000-0000-4000-8000-000000000000';

describe('management API: API key usage', () => {
  let server: TestServer;
  let admin: ManagementApi;

  useServer({ admin: true }, (s) => ({ server, admin } = s));

  const usageRows = async (keyId: string) =>
    (await server.runtime.db.query<{ count: string }>('SELECT count::text FROM api_key_usage WHERE key_id = $1', [keyId])).rows;

  it('counts requests per UTC day and the address they came from, over the last 30 days', async () => {
    const person = await newPerson(admin, ['developer']);
    const { id, key } = await newKey(admin, person.id, ['clients:read']);
    const asKey = managementApi(server, key);
    for (let i = 0; i < 3; i++) expect((await asKey.get('/clients')).status).to.equal(200);

    const usage = await admin.get(`/api-keys/${id}/usage`);
    expect(usage.status, JSON.stringify(usage.body)).to.equal(200);
    expect(usage.body.key_id).to.equal(id);
    expect(usage.body.days).to.have.length(30);
    expect(usage.body.days.at(-1)).to.deep.equal({ day: utcDay(new Date()), count: 3 });
    expect(usage.body.days[0].day).to.equal(utcDay(new Date(Date.now() - 29 * DAY)));
    expect(usage.body.total).to.equal(3);
    expect(usage.body.addresses).to.have.length(1);
    expect(usage.body.addresses[0].ip).to.equal('127.0.0.1');
    expect(Math.abs(Date.parse(usage.body.addresses[0].last_seen_at) - Date.now())).to.be.below(60_000);
    // A refused request is not use: a disabled key's attempts are not counted.
    await admin.patch(`/api-keys/${id}`, { enabled: false });
    expect((await asKey.get('/clients')).status).to.equal(401);
    expect((await admin.get(`/api-keys/${id}/usage`)).body.total).to.equal(3);
  });

  it('counts in memory and writes a batch per flush, adding to what is there', async () => {
    const person = await newPerson(admin, ['developer']);
    const { id } = await newKey(admin, person.id, ['clients:read']);
    // A counter of its own that never flushes by itself: nothing is written per request.
    const counter = new ApiKeyUsage(server.runtime.db, undefined, 3600_000);
    for (let i = 0; i < 500; i++) counter.count(id, '192.0.2.1');
    counter.count(id, '192.0.2.9', new Date(Date.now() - 10 * DAY));
    counter.count(id, '192.0.2.9', new Date(Date.now() - 40 * DAY));
    expect(await usageRows(id)).to.deep.equal([]);
    await counter.flush();
    for (let i = 0; i < 12; i++) counter.count(id, `198.51.100.${i}`);
    await counter.flush();
    await counter.close();

    const usage = (await admin.get(`/api-keys/${id}/usage`)).body;
    expect(usage.days.at(-1).count).to.equal(512);
    expect(usage.days[19]).to.deep.equal({ day: utcDay(new Date(Date.now() - 10 * DAY)), count: 1 });
    // Older than 30 days: kept in the table, not in the answer.
    expect(usage.total).to.equal(513);
    expect(await usageRows(id)).to.have.length(3);
    // The newest few distinct addresses, newest first: the 12 of the second flush, less what pruning took.
    expect(usage.addresses.length).to.be.within(10, 12);
    expect(usage.addresses.map((a: { ip: string }) => a.ip)).not.to.include('192.0.2.9');
    const seen = usage.addresses.map((a: { last_seen_at: string }) => Date.parse(a.last_seen_at));
    expect(seen).to.deep.equal([...seen].sort((a, b) => b - a));
    // A key revoked before its counts were written: the flush skips it rather than failing.
    const gone = await newKey(admin, person.id, ['clients:read']);
    counter.count(gone.id, '192.0.2.1');
    counter.count(id, '192.0.2.1');
    await admin.delete(`/api-keys/${gone.id}`);
    await counter.flush();
    expect((await admin.get(`/api-keys/${id}/usage`)).body.total).to.equal(514);
  });

  it("shows a key's usage to its owner and to those who manage others' keys, and to nobody else", async () => {
    const owner = await newPerson(admin, ['developer']);
    const other = await newPerson(admin, ['developer']);
    const { id } = await newKey(admin, owner.id, ['api-keys:read', 'clients:read']);
    const ownersKey = await newKey(admin, owner.id, ['api-keys:read']);
    const othersKey = await newKey(admin, other.id, ['api-keys:read', 'api-keys:write', 'clients:read']);
    const noRead = await newKey(admin, owner.id, ['clients:read']);

    expect((await managementApi(server, ownersKey.key).get(`/api-keys/${id}/usage`)).status).to.equal(200);
    // Another developer cannot even learn that the key exists.
    const refused = await managementApi(server, othersKey.key).get(`/api-keys/${id}/usage`);
    expect(refused.status).to.equal(404);
    expect(refused.body.error).to.equal('not_found');
    const noScope = await managementApi(server, noRead.key).get(`/api-keys/${id}/usage`);
    expect(noScope.status).to.equal(403);
    expect(noScope.body.scope).to.equal('api-keys:read');
    expect((await managementApi(server, undefined).get(`/api-keys/${id}/usage`)).status).to.equal(401);
    for (const bad of [NO_SUCH_KEY, 'not-a-uuid']) expect((await admin.get(`/api-keys/${bad}/usage`)).status).to.equal(404);
  });

  it('writes what it counted when the server stops, so a restart loses nothing', async () => {
    const first = await setUp({ admin: true });
    let second: TestServer | undefined;
    try {
      const person = await newPerson(first.admin, ['developer']);
      const { id, key } = await newKey(first.admin, person.id, ['clients:read']);
      for (let i = 0; i < 2; i++) expect((await managementApi(first.server, key).get('/clients')).status).to.equal(200);
      await first.server.stop();
      second = await startServer({ databaseUrl: first.server.databaseUrl, dataDir: first.server.dataDir });
      const api = managementApi(second, await managementToken(second));
      expect((await api.get(`/api-keys/${id}/usage`)).body.total).to.equal(2);
    } finally {
      await second?.destroy();
      await first.server.destroy();
    }
  });
});
