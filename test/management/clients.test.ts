import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startServer, type TestServer } from '../support/server.js';
import { ORDERS_API, WEB, USER, baseSeed, basic, postForm } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { authorize, exchangeCode, refresh } from '../support/code-flow.js';

describe('management API: clients and their secrets', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed });
    api = managementApi(server, await managementToken(server));
  });
  after(async () => server?.destroy());

  const token = (id: string, secret: string, form: Record<string, string> = {}) =>
    postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });

  it('refuses calls without a token, with a bad token, and without the permission (RFC 6750 §3)', async () => {
    const none = await managementApi(server, undefined).get('/clients');
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer .*error="invalid_token"/);
    const bad = await managementApi(server, 'not-a-token').get('/clients');
    expect(bad.status).to.equal(401);
    expect(bad.body.error).to.equal('invalid_token');
    const reader = managementApi(server, await managementToken(server, ['clients:read']));
    expect((await reader.get('/clients')).status).to.equal(200);
    const denied = await reader.post('/clients', { client_name: 'x', type: 'service' });
    expect(denied.status).to.equal(403);
    expect(denied.body).to.include({ error: 'insufficient_scope', scope: 'clients:write' });
    expect(denied.headers.get('www-authenticate')).to.include('error="insufficient_scope", scope="clients:write"');
  });

  it('creates a service credential whose secret is shown once and works at /oauth/token', async () => {
    const created = await api.post('/clients', { client_name: 'Billing sync', type: 'service', scope: 'orders:read', environment: 'test' });
    expect(created.status).to.equal(201);
    expect(created.body.client_secret).to.match(/^sk_test_[0-9A-Za-z]{50}$/);
    expect(created.body).to.include({ type: 'service', environment: 'test', enabled: true, status: 'active', scope: 'orders:read' });
    const { client_id: id, client_secret: secret } = created.body;
    const listed = await api.get('/clients?q=Billing');
    expect(listed.body.data.map((c: { client_id: string }) => c.client_id)).to.deep.equal([id]);
    expect(JSON.stringify(listed.body)).not.to.include(secret);
    const one = (await api.get(`/clients/${id}`)).body;
    expect(one).not.to.have.property('client_secret');
    expect(JSON.stringify(one)).not.to.include(secret);

    const res = await token(id, secret);
    expect(res.status).to.equal(200);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(res.json.access_token as string, jwks, { audience: ORDERS_API });
    expect(payload.scope).to.equal('orders:read');
    expect((await api.get(`/clients/${id}`)).body.last_used_at).to.be.a('string');
  });

  it('names the field that fails validation', async () => {
    const cases: [unknown, string][] = [
      [{ type: 'service' }, 'client_name'],
      [{ client_name: 'x', type: 'service', scope: 'nothing:here' }, 'scope'],
      [{ client_name: 'x', type: 'service', ip_allowlist: ['10.0.0.0/33'] }, 'ip_allowlist.0'],
      [{ client_name: 'x', type: 'web' }, 'redirect_uris'],
      [{ client_name: 'x', type: 'service', expires_in: 'soon' }, 'expires_in'],
      [{ client_name: 'x', type: 'service', surprise: true }, ''],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/clients', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      if (field) expect(res.body.field, JSON.stringify(res.body)).to.equal(field);
    }
    expect((await api.get('/clients/nobody')).status).to.equal(404);
  });

  it('applies a scope change at the next token request, and suspends and resumes reversibly', async () => {
    const { body } = await api.post('/clients', { client_name: 'Scope change', type: 'service', scope: 'orders:read' });
    expect((await token(body.client_id, body.client_secret, { scope: 'orders:write' })).json.error).to.equal('invalid_scope');
    const patched = await api.patch(`/clients/${body.client_id}`, { scope: 'orders:read orders:write' });
    expect(patched.status).to.equal(200);
    expect((await token(body.client_id, body.client_secret, { scope: 'orders:write' })).status).to.equal(200);

    await api.patch(`/clients/${body.client_id}`, { enabled: false });
    const suspended = await token(body.client_id, body.client_secret);
    expect(suspended.status).to.equal(401);
    expect(suspended.json.error).to.equal('invalid_client');
    await api.patch(`/clients/${body.client_id}`, { enabled: true });
    expect((await token(body.client_id, body.client_secret)).status).to.equal(200);
  });

  it('rotates secrets without downtime: both work until the old one is deleted', async () => {
    const { body } = await api.post('/clients', { client_name: 'Rotating', type: 'service', scope: 'orders:read' });
    const rotated = await api.post(`/clients/${body.client_id}/secrets`, { previous_expires_in: '1d' });
    expect(rotated.status).to.equal(201);
    expect(rotated.body.client_secret).to.match(/^sk_live_/);
    expect((await token(body.client_id, body.client_secret)).status).to.equal(200);
    expect((await token(body.client_id, rotated.body.client_secret)).status).to.equal(200);
    const secrets = await api.get(`/clients/${body.client_id}/secrets`);
    expect(secrets.body.data).to.have.length(2);
    expect(JSON.stringify(secrets.body)).not.to.include(body.client_secret);
    const old = secrets.body.data.find((s: { id: string }) => s.id !== rotated.body.id);
    expect(old.expires_at).to.be.a('string');
    expect((await api.delete(`/clients/${body.client_id}/secrets/${old.id}`)).status).to.equal(204);
    expect((await token(body.client_id, body.client_secret)).status).to.equal(401);
    expect((await token(body.client_id, rotated.body.client_secret)).status).to.equal(200);
  });

  it('stops an old secret when previous_expires_in runs out', async function () {
    this.timeout(15000);
    const { body } = await api.post('/clients', { client_name: 'Short overlap', type: 'service', scope: 'orders:read' });
    const rotated = await api.post(`/clients/${body.client_id}/secrets`, { previous_expires_in: 1 });
    expect((await token(body.client_id, body.client_secret)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await token(body.client_id, body.client_secret)).status).to.equal(401);
    expect((await token(body.client_id, rotated.body.client_secret)).status).to.equal(200);
  });

  it('refuses a token request from outside the IP allowlist, and audits it', async () => {
    const { body } = await api.post('/clients', { client_name: 'Office only', type: 'service', scope: 'orders:read', ip_allowlist: ['10.0.0.0/8'] });
    const refused = await token(body.client_id, body.client_secret);
    expect(refused.status).to.equal(401);
    expect(refused.json.error).to.equal('invalid_client');
    await api.patch(`/clients/${body.client_id}`, { ip_allowlist: ['127.0.0.1/32', '::1/128'] });
    expect((await token(body.client_id, body.client_secret)).status).to.equal(200);
    const events = await api.get('/audit-events?type=client.token_refused');
    expect(events.body.data.some((e: { target: { id: string } }) => e.target.id === body.client_id)).to.equal(true);
  });

  it('DELETE revokes: invalid_client at once, and refresh tokens issued before stop working', async () => {
    const flow = await authorize(server, { client: WEB, scope: 'openid offline_access orders:read', user: USER });
    const tokens = await exchangeCode(server, WEB, flow);
    expect(tokens.json.refresh_token).to.be.a('string');
    const { body } = await api.post('/clients', { client_name: 'Doomed', type: 'service', scope: 'orders:read' });
    expect((await api.delete(`/clients/${body.client_id}`)).status).to.equal(204);
    expect((await token(body.client_id, body.client_secret)).json.error).to.equal('invalid_client');
    expect((await api.get(`/clients/${body.client_id}`)).status).to.equal(404);

    expect((await api.delete(`/clients/${WEB.id}`)).status).to.equal(204);
    const refreshed = await refresh(server, WEB, tokens.json.refresh_token as string);
    expect(refreshed.status).to.be.oneOf([400, 401]);
    const types = (await api.get('/audit-events?type=client.revoked')).body.data.map((e: { target: { id: string } }) => e.target.id);
    expect(types).to.include(WEB.id);
  });

  it('pages through a long list with next_cursor', async () => {
    for (let i = 0; i < 5; i++) await api.post('/clients', { client_name: `Paged ${i}`, type: 'service', scope: 'orders:read' });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: { body: { data: { client_id: string }[]; next_cursor: string | null } } = await api.get(`/clients?q=Paged&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      for (const c of res.body.data) seen.add(c.client_id);
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.size).to.equal(5);
    expect((await api.get('/clients?cursor=garbage')).status).to.equal(400);
  });
});

describe('management API: APIs', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed });
    api = managementApi(server, await managementToken(server));
  });
  after(async () => server?.destroy());

  it('registers an API whose scopes clients can then be granted', async () => {
    const created = await api.post('/apis', {
      identifier: 'https://inventory.example.test',
      name: 'Inventory',
      scopes: [{ name: 'inventory:read', description: 'See stock levels' }, 'inventory:write'],
      access_token_ttl: 600,
    });
    expect(created.status).to.equal(201);
    expect(created.body.scopes).to.deep.equal([{ name: 'inventory:read', description: 'See stock levels' }, { name: 'inventory:write' }]);
    expect((await api.post('/apis', { identifier: 'https://inventory.example.test', name: 'again', scopes: [] })).status).to.equal(409);
    expect((await api.post('/apis', { identifier: 'https://other.example.test', name: 'thief', scopes: ['inventory:read'] })).status).to.equal(409);

    const client = await api.post('/clients', { client_name: 'Stock sync', type: 'service', scope: 'inventory:read' });
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(client.body.client_id, client.body.client_secret) });
    expect(res.status).to.equal(200);
    expect(res.json.expires_in).to.equal(600);

    const removing = await api.patch(`/apis/${created.body.id}`, { scopes: ['inventory:write'] });
    expect(removing.status).to.equal(409);
    expect(removing.body.error_description).to.include(client.body.client_id);
    expect((await api.delete(`/apis/${created.body.id}`)).status).to.equal(409);
    await api.delete(`/clients/${client.body.client_id}`);
    expect((await api.delete(`/apis/${created.body.id}`)).status).to.equal(204);
  });

  it('lists the built-in Management API and refuses to change it', async () => {
    const list = await api.get('/apis');
    const builtin = list.body.data.find((a: { builtin: boolean }) => a.builtin);
    expect(builtin.identifier).to.equal(`${server.runtime.config.issuer}/api/v1`);
    expect((await api.patch(`/apis/${builtin.id}`, { name: 'mine' })).status).to.equal(403);
    expect((await api.delete(`/apis/${builtin.id}`)).status).to.equal(403);
  });
});
