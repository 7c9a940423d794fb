import { expect } from 'chai';
import type { TestServer } from '../support/server.js';
import { managementApi } from '../support/management.js';
import { auditOf, newKey, newPerson, tableText } from '../support/accounts.js';
import { eventually } from '../support/eventually.js';
import { useServer, type ManagementApi } from '../support/setup.js';

const NO_SUCH_KEY = '00000000-0000-4000-8000-000000000000';

describe('management API: rolling an API key', () => {
  let server: TestServer;
  let admin: ManagementApi;

  useServer({ admin: true }, (s) => ({ server, admin } = s));

  const works = async (key: string) => (await managementApi(server, key).get('/clients')).status === 200;
  const refusal = async (key: string) => (await managementApi(server, key).get('/clients')).body.error_description;

  it('with overlap 0: a new value that works, the old one refused at once; same key otherwise', async () => {
    const person = await newPerson(admin, ['developer']);
    const old = await newKey(admin, person.id, ['clients:read'], { environment: 'test', ip_allowlist: ['127.0.0.0/8', '::1/128'] });
    expect(await works(old.key)).to.equal(true);
    const before = (await admin.get(`/api-keys/${old.id}`)).body;

    const rolled = await admin.post(`/api-keys/${old.id}/roll`, { overlap_seconds: 0 });
    expect(rolled.status, JSON.stringify(rolled.body)).to.equal(200);
    expect(rolled.body.key).to.match(/^ak_test_/);
    expect(rolled.body.key).not.to.equal(old.key);
    expect(rolled.body.key.startsWith(rolled.body.prefix)).to.equal(true);
    expect(rolled.body.prefix).not.to.equal(before.prefix);
    expect(rolled.body).to.include({ id: old.id, name: before.name, environment: 'test', previous_key_expires_at: null });
    expect(rolled.body.scopes).to.deep.equal(before.scopes);
    expect(rolled.body.ip_allowlist).to.deep.equal(before.ip_allowlist);

    expect(await refusal(old.key)).to.equal('the API key is expired');
    expect(await works(rolled.body.key)).to.equal(true);
    // Stored as a digest only, and shown once.
    expect(await tableText(server, 'api_keys')).not.to.include(rolled.body.key);
    expect(JSON.stringify((await admin.get(`/api-keys/${old.id}`)).body)).not.to.include(rolled.body.key.slice(20));
    const [audit] = await auditOf(server, 'api_key.rolled', old.id);
    expect(audit.data).to.include({ user_id: person.id, overlap_seconds: 0 });
    expect(Math.abs(Date.parse(audit.data.previous_works_until as string) - Date.now())).to.be.below(60_000);
    expect(JSON.stringify(audit)).not.to.include(rolled.body.key.slice(20));
  });

  it('with an overlap: both values work until it ends, then only the new one', async () => {
    const person = await newPerson(admin, ['developer']);
    const old = await newKey(admin, person.id, ['clients:read']);
    const rolled = await admin.post(`/api-keys/${old.id}/roll`, { overlap_seconds: 2 });
    expect(rolled.status).to.equal(200);
    const until = Date.parse(rolled.body.previous_key_expires_at);
    expect(Math.abs(until - (Date.now() + 2000))).to.be.below(1500);
    expect((await admin.get(`/api-keys/${old.id}`)).body.previous_key_expires_at).to.equal(rolled.body.previous_key_expires_at);
    expect(await works(old.key)).to.equal(true);
    expect(await works(rolled.body.key)).to.equal(true);
    await eventually('the old value is refused once the overlap ends', async () => {
      expect(await refusal(old.key)).to.equal('the API key is expired');
    }, 10_000);
    expect(Date.now()).to.be.at.least(until);
    expect(await works(rolled.body.key)).to.equal(true);
    expect((await admin.get(`/api-keys/${old.id}`)).body.previous_key_expires_at).to.equal(null);
  });

  it('ends a value still in its overlap when the key is rolled again, disabled or revoked', async () => {
    const person = await newPerson(admin, ['developer']);
    const first = await newKey(admin, person.id, ['clients:read']);
    const second = (await admin.post(`/api-keys/${first.id}/roll`, { overlap_seconds: 3600 })).body.key as string;
    expect(await works(first.key)).to.equal(true);
    const third = (await admin.post(`/api-keys/${first.id}/roll`, { overlap_seconds: 3600 })).body.key as string;
    expect(await refusal(first.key)).to.equal('the API key is not valid');
    expect(await works(second)).to.equal(true);
    expect(await works(third)).to.equal(true);

    // Disabling stops both values; enabling brings back the same ones (enable is not roll).
    await admin.patch(`/api-keys/${first.id}`, { enabled: false });
    for (const k of [second, third]) expect(await refusal(k)).to.equal('the API key is disabled');
    const enabled = await admin.patch(`/api-keys/${first.id}`, { enabled: true });
    expect(enabled.body).not.to.have.property('key');
    for (const k of [second, third]) expect(await works(k)).to.equal(true);

    expect((await admin.delete(`/api-keys/${first.id}`)).status).to.equal(204);
    for (const k of [second, third]) expect(await refusal(k)).to.equal('the API key is not valid');
  });

  it('needs what editing the key needs; the overlap is at most 30 days', async () => {
    const owner = await newPerson(admin, ['developer']);
    const target = await newKey(admin, owner.id, ['clients:read']);
    const readOnly = await newKey(admin, owner.id, ['api-keys:read', 'clients:read']);
    const other = await newPerson(admin, ['developer']);
    const othersKey = await newKey(admin, other.id, ['api-keys:read', 'api-keys:write', 'clients:read']);
    const ownersKey = await newKey(admin, owner.id, ['api-keys:read', 'api-keys:write', 'clients:read']);

    const noWrite = await managementApi(server, readOnly.key).post(`/api-keys/${target.id}/roll`, { overlap_seconds: 0 });
    expect(noWrite.status).to.equal(403);
    expect(noWrite.body.scope).to.equal('api-keys:write');
    expect((await managementApi(server, othersKey.key).post(`/api-keys/${target.id}/roll`, { overlap_seconds: 0 })).status).to.equal(404);
    expect(await works(target.key)).to.equal(true);
    // A key holder without clients:write cannot roll a key that carries it into a value they would see.
    const wide = await newKey(admin, owner.id, ['clients:read', 'clients:write']);
    const narrow = await newKey(admin, owner.id, ['api-keys:read', 'api-keys:write']);
    const tooWide = await managementApi(server, narrow.key).post(`/api-keys/${wide.id}/roll`, { overlap_seconds: 0 });
    expect(tooWide.status).to.equal(403);
    expect(tooWide.body.error).to.equal('insufficient_scope');

    for (const [body, field] of [
      [{ overlap_seconds: 30 * 86400 + 1 }, 'overlap_seconds'],
      [{ overlap_seconds: -1 }, 'overlap_seconds'],
      [{ overlap_seconds: 1.5 }, 'overlap_seconds'],
      [{ overlap_seconds: '1h' }, 'overlap_seconds'],
      [{}, 'overlap_seconds'],
      [{ overlap_seconds: 0, scopes: ['clients:write'] }, undefined],
    ] as const) {
      const res = await managementApi(server, ownersKey.key).post(`/api-keys/${target.id}/roll`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.field, JSON.stringify(body)).to.equal(field);
    }
    expect((await admin.post(`/api-keys/${NO_SUCH_KEY}/roll`, { overlap_seconds: 0 })).status).to.equal(404);
    expect(await works(target.key)).to.equal(true);
    const mine = await managementApi(server, ownersKey.key).post(`/api-keys/${target.id}/roll`, { overlap_seconds: 30 * 86400 });
    expect(mine.status).to.equal(200);
  });
});
