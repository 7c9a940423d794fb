import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, USER, basic, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { authorize, exchangeCode } from '../support/code-flow.js';
import { useServer } from '../support/setup.js';

interface AuditEvent {
  type: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  data: Record<string, unknown>;
}

describe('management API: APIs (resource servers)', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));

  let n = 0;
  async function register(body: Record<string, unknown> = {}) {
    n++;
    const res = await api.post('/apis', { identifier: `https://api${n}.example.test`, name: `API ${n}`, scopes: [`api${n}:read`, `api${n}:write`], ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; identifier: string; scopes: { name: string }[] } & Record<string, unknown>;
  }

  async function serviceFor(scope: string) {
    const res = await api.post('/clients', { client_name: 'API test client', type: 'service', scope });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { client_id: string; client_secret: string };
  }
  const token = (c: { client_id: string; client_secret: string }, form: Record<string, string> = {}) =>
    postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', ...form }, { authorization: basic(c.client_id, c.client_secret) });

  async function events(type: string, target: string): Promise<AuditEvent[]> {
    const res = await api.get(`/audit-events?type=${type}&limit=200`);
    return (res.body.data as AuditEvent[]).filter((e) => e.target?.id === target);
  }

  it('answers 401 without a valid token and 403 naming the missing permission, on every route (RFC 6750 §3)', async () => {
    const orders = (await api.get('/apis')).body.data.find((a: { identifier: string }) => a.identifier === ORDERS_API);
    const routes: [string, string, string][] = [
      ['GET', '/apis', 'apis:read'],
      ['POST', '/apis', 'apis:write'],
      ['GET', `/apis/${orders.id}`, 'apis:read'],
      ['PATCH', `/apis/${orders.id}`, 'apis:write'],
      ['DELETE', `/apis/${orders.id}`, 'apis:write'],
    ];
    const readOnly = managementApi(server, await managementToken(server, ['apis:read']));
    const clientsOnly = managementApi(server, await managementToken(server, ['clients:read', 'clients:write']));
    const call = (client: ReturnType<typeof managementApi>, method: string, path: string) =>
      method === 'GET' ? client.get(path) : method === 'DELETE' ? client.delete(path) : method === 'POST' ? client.post(path, {}) : client.patch(path, { name: 'changed' });
    for (const [method, path, scope] of routes) {
      for (const bearer of [undefined, 'garbage', `${await managementToken(server)}x`]) {
        const res = await call(managementApi(server, bearer), method, path);
        expect(res.status, `${method} ${path}`).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer .*error="invalid_token"/);
      }
      const denied = await call(scope === 'apis:read' ? clientsOnly : readOnly, method, path);
      expect(denied.status, `${method} ${path}`).to.equal(403);
      expect(denied.body).to.include({ error: 'insufficient_scope', scope });
      expect(denied.headers.get('www-authenticate')).to.equal(`Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"`);
    }
    expect((await api.get(`/apis/${orders.id}`)).body.name).to.equal('Orders API');
  });

  it('registers an API with defaults, shows it, and lists it with the built-in one', async () => {
    const created = await api.post('/apis', {
      identifier: 'https://inventory.example.test',
      name: 'Inventory',
      scopes: [{ name: 'inventory:read', description: 'See stock levels' }, 'inventory:write'],
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ identifier: 'https://inventory.example.test', name: 'Inventory', access_token_ttl: 900, signing_alg: 'RS256', enforce_roles: false, builtin: false });
    expect(created.body.scopes).to.deep.equal([{ name: 'inventory:read', description: 'See stock levels' }, { name: 'inventory:write' }]);
    expect(created.body.id).to.match(/^[0-9a-f-]{36}$/);
    expect(new Date(created.body.created_at).toISOString()).to.equal(created.body.created_at);

    const one = await api.get(`/apis/${created.body.id}`);
    expect(one.body).to.deep.equal(created.body);
    expect((await api.get('/apis/00000000-0000-4000-8000-000000000000')).status).to.equal(404);
    expect((await api.get('/apis/inventory')).status).to.equal(404);

    const listed = (await api.get('/apis?limit=200')).body.data as { identifier: string; builtin: boolean }[];
    expect(listed.map((a) => a.identifier)).to.include.members([ORDERS_API, 'https://inventory.example.test', `${server.issuer}/api/v1`]);
    // The built-in ones: the Management API and the Shared Signals API receivers authenticate to.
    expect(listed.filter((a) => a.builtin).map((a) => a.identifier)).to.have.members([`${server.issuer}/api/v1`, `${server.issuer}/ssf`]);
    expect((await events('api.created', created.body.id))[0]).to.deep.include({ actor: { type: 'client', id: ADMIN_CLIENT.id, ip: '127.0.0.1' } });
  });

  it('names the field that fails validation', async () => {
    const ok = { identifier: 'https://valid.example.test', name: 'Valid', scopes: ['valid:read'] };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ok, identifier: undefined }, 'identifier'],
      [{ ...ok, identifier: 'not a uri' }, 'identifier'],
      [{ ...ok, identifier: '/relative/path' }, 'identifier'],
      [{ ...ok, identifier: 'https://valid.example.test/#frag' }, 'identifier'],
      [{ ...ok, name: '' }, 'name'],
      [{ ...ok, scopes: 'valid:read' }, 'scopes'],
      [{ ...ok, scopes: ['read'] }, 'scopes.0'],
      [{ ...ok, scopes: ['valid:read', 'openid'] }, 'scopes.1'],
      [{ ...ok, scopes: [{ name: 'valid:read', description: 'x'.repeat(301) }] }, 'scopes.0.description'],
      [{ ...ok, scopes: ['valid:read', { name: 'valid:read' }] }, 'scopes'],
      [{ ...ok, access_token_ttl: 3601 }, 'access_token_ttl'],
      [{ ...ok, access_token_ttl: 59 }, 'access_token_ttl'],
      [{ ...ok, access_token_ttl: 90.5 }, 'access_token_ttl'],
      [{ ...ok, signing_alg: 'HS256' }, 'signing_alg'],
      [{ ...ok, signing_alg: 'none' }, 'signing_alg'],
      [{ ...ok, enforce_roles: 'yes' }, 'enforce_roles'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/apis', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.field, JSON.stringify(res.body)).to.equal(field);
    }
    expect((await api.post('/apis', { ...ok, audience: 'x' })).status).to.equal(400);
    for (const path of ['/apis?limit=0', '/apis?cursor=nope', `/apis?cursor=${Buffer.from(JSON.stringify({ i: { $gt: '' } })).toString('base64url')}`]) {
      expect((await api.get(path)).status, path).to.equal(400);
    }
    expect((await api.get('/apis?limit=200')).body.data.some((a: { identifier: string }) => a.identifier === ok.identifier)).to.equal(false);
  });

  it('refuses a second API with the same identifier, and a scope another API defines (409)', async () => {
    const first = await register();
    const dup = await api.post('/apis', { identifier: first.identifier, name: 'again', scopes: [] });
    expect(dup.status).to.equal(409);
    expect(dup.body.error_description).to.include(first.identifier);
    const thief = await api.post('/apis', { identifier: 'https://thief.example.test', name: 'thief', scopes: ['orders:read'] });
    expect(thief.status).to.equal(409);
    expect(thief.body.error_description).to.include(ORDERS_API);
    expect((await api.post('/apis', { identifier: 'https://thief.example.test', name: 'thief', scopes: ['clients:write'] })).status).to.equal(409);
    expect((await api.patch(`/apis/${first.id}`, { scopes: ['api1:read', 'billing:read'] })).status).to.equal(409);
  });

  it('issues tokens for the API as registered: audience, scopes, lifetime and signing algorithm (RFC 9068)', async () => {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    for (const alg of ['RS256', 'PS256', 'ES256'] as const) {
      const registered = await register({ access_token_ttl: 600, signing_alg: alg });
      const client = await serviceFor(`${registered.scopes[0].name} ${registered.scopes[1].name}`);
      const res = await token(client);
      expect(res.status, res.text).to.equal(200);
      expect(res.json.expires_in).to.equal(600);
      const jwt = res.json.access_token as string;
      expect(decodeProtectedHeader(jwt)).to.include({ alg, typ: 'at+jwt' });
      const { payload } = await jwtVerify(jwt, jwks, { audience: registered.identifier, issuer: server.issuer, typ: 'at+jwt' });
      expect(payload.scope).to.equal(`${registered.scopes[0].name} ${registered.scopes[1].name}`);
      expect(payload.exp! - payload.iat!).to.equal(600);
    }
  });

  it('applies a PATCH at the next token request, and audits what changed', async () => {
    const registered = await register();
    const client = await serviceFor('api' + n + ':read');
    expect((await token(client)).json.expires_in).to.equal(900);

    const patched = await api.patch(`/apis/${registered.id}`, {
      name: 'Renamed',
      access_token_ttl: 120,
      signing_alg: 'ES256',
      scopes: [`api${n}:read`, `api${n}:write`, { name: `api${n}:admin`, description: 'Everything' }],
    });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ name: 'Renamed', access_token_ttl: 120, signing_alg: 'ES256', identifier: registered.identifier });
    const res = await token(client);
    expect(res.json.expires_in).to.equal(120);
    expect(decodeProtectedHeader(res.json.access_token as string).alg).to.equal('ES256');
    // The new scope can now be given to clients.
    expect((await api.patch(`/clients/${client.client_id}`, { scope: `api${n}:read api${n}:admin` })).status).to.equal(200);
    expect((await token(client, { scope: `api${n}:admin` })).json.scope).to.equal(`api${n}:admin`);

    const fixed = await api.patch(`/apis/${registered.id}`, { identifier: 'https://elsewhere.example.test' });
    expect(fixed.status).to.equal(400);
    expect(fixed.body.field).to.equal('identifier');
    expect((await api.patch(`/apis/${registered.id}`, { access_token_ttl: 7200 })).body.field).to.equal('access_token_ttl');
    expect((await api.patch('/apis/00000000-0000-4000-8000-000000000000', { name: 'x' })).status).to.equal(404);
    // Sending what is already there changes nothing and records nothing.
    await api.patch(`/apis/${registered.id}`, { name: 'Renamed' });

    const updates = await events('api.updated', registered.id);
    expect(updates).to.have.length(1);
    expect(updates[0].data.fields).to.have.members(['name', 'access_token_ttl', 'signing_alg', 'scopes']);
    expect(updates[0].data.before).to.include({ name: registered.name, access_token_ttl: 900, signing_alg: 'RS256' });
    expect(updates[0].data.after).to.include({ name: 'Renamed', access_token_ttl: 120, signing_alg: 'ES256' });
  });

  it('refuses to delete an API, or remove its scopes, while clients, roles or API keys hold them (409 listing them)', async () => {
    const registered = await register();
    const [read, write] = registered.scopes.map((s) => s.name);
    const client = await serviceFor(read);
    const role = await api.post('/roles', { name: `api${n}-writer`, permissions: [write] });
    expect(role.status, JSON.stringify(role.body)).to.equal(201);

    const removing = await api.patch(`/apis/${registered.id}`, { scopes: [write] });
    expect(removing.status).to.equal(409);
    expect(removing.body.holders).to.deep.equal({ clients: [client.client_id], roles: [], api_keys: [] });
    expect(removing.body.error_description).to.include(client.client_id);
    const deleting = await api.delete(`/apis/${registered.id}`);
    expect(deleting.status).to.equal(409);
    expect(deleting.body.holders).to.deep.equal({ clients: [client.client_id], roles: [`api${n}-writer`], api_keys: [] });
    // Nothing changed: the client still gets its token.
    expect((await token(client)).status).to.equal(200);

    await api.delete(`/clients/${client.client_id}`);
    expect((await api.patch(`/apis/${registered.id}`, { scopes: [write] })).status).to.equal(200);
    expect((await api.delete(`/apis/${registered.id}`)).body.holders.roles).to.deep.equal([`api${n}-writer`]);
    expect((await api.delete(`/roles/api${n}-writer`)).status).to.equal(204);

    // An API key holding a scope of the API (a user's key).
    const keyed = await register();
    const users = (await api.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data;
    const key = await api.post('/api-keys', { name: 'reader', scopes: [keyed.scopes[0].name], user_id: users[0].id });
    expect(key.status, JSON.stringify(key.body)).to.equal(201);
    const held = await api.delete(`/apis/${keyed.id}`);
    expect(held.status).to.equal(409);
    expect(held.body.holders).to.deep.equal({ clients: [], roles: [], api_keys: [key.body.id] });
    expect((await api.delete(`/api-keys/${key.body.id}`)).status).to.equal(204);

    expect((await api.delete(`/apis/${keyed.id}`)).status).to.equal(204);
    expect((await api.delete(`/apis/${registered.id}`)).status).to.equal(204);
    expect((await api.get(`/apis/${registered.id}`)).status).to.equal(404);
    expect((await api.delete(`/apis/${registered.id}`)).status).to.equal(404);
    const [deleted] = await events('api.deleted', registered.id);
    expect(deleted.data).to.include({ identifier: registered.identifier });

    // Gone for the token endpoint too: its scopes name nothing, its identifier is no resource.
    const other = await serviceFor('orders:read');
    expect((await token(other, { resource: registered.identifier })).json.error).to.equal('invalid_target');
    expect((await api.post('/clients', { client_name: 'x', type: 'service', scope: read })).body.field).to.equal('scope');
  });

  it('lists the built-in Management API and refuses to change or delete it', async () => {
    const list = await api.get('/apis?limit=200');
    const builtin = list.body.data.find((a: { builtin: boolean }) => a.builtin);
    expect(builtin.identifier).to.equal(`${server.issuer}/api/v1`);
    expect(builtin.enforce_roles).to.equal(true);
    expect(builtin.scopes.map((s: { name: string }) => s.name)).to.include.members(['clients:read', 'clients:write', 'apis:read', 'apis:write']);
    for (const res of [await api.patch(`/apis/${builtin.id}`, { name: 'mine' }), await api.patch(`/apis/${builtin.id}`, { scopes: [] }), await api.delete(`/apis/${builtin.id}`)]) {
      expect(res.status).to.equal(403);
      expect(res.body.error_description).to.match(/built in/);
    }
    expect((await api.get(`/apis/${builtin.id}`)).body).to.deep.equal(builtin);
  });

  it('gives a user only the scopes their roles allow on an API with enforce_roles', async () => {
    const ledger = await register({ enforce_roles: true });
    const [read, write] = ledger.scopes.map((s) => s.name);
    expect(ledger.enforce_roles).to.equal(true);
    expect((await api.post('/roles', { name: `api${n}-reader`, permissions: [read] })).status).to.equal(201);
    const users = (await api.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data;
    expect((await api.patch(`/users/${users[0].id}`, { roles: [`api${n}-reader`] })).status).to.equal(200);
    const web = await api.post('/clients', { client_name: 'Ledger app', type: 'web', redirect_uris: ['http://127.0.0.1:8080/ledger'], scope: `openid ${read} ${write}` });
    const client = { id: web.body.client_id, secret: web.body.client_secret, redirect: 'http://127.0.0.1:8080/ledger' };
    const flow = await authorize(server, { client, scope: `openid ${read} ${write}`, resource: ledger.identifier });
    const tokens = await exchangeCode(server, client, flow);
    expect(tokens.status, tokens.text).to.equal(200);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(tokens.json.access_token as string, jwks, { audience: ledger.identifier });
    expect(payload.scope).to.equal(read);
    // A client acting for itself is bounded by its own scopes, not by a user's roles.
    expect((await token(await serviceFor(write))).json.scope).to.equal(write);
    await api.patch(`/users/${users[0].id}`, { roles: [] });
  });

  it('pages through the list with next_cursor', async () => {
    for (let i = 0; i < 3; i++) await register();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: { identifier: string }[]; next_cursor: string | null } } = await api.get(`/apis?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.data.map((a) => a.identifier));
      cursor = res.body.next_cursor;
    } while (cursor);
    const all = (await api.get('/apis?limit=200')).body.data.map((a: { identifier: string }) => a.identifier);
    expect(seen).to.deep.equal(all);
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen).to.deep.equal([...seen].sort());
  });
});
