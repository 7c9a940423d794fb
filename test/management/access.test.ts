import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startServer, type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, USER, WEB, baseSeed, basic, postForm } from '../support/fixtures.js';
import { managementApi } from '../support/management.js';
import { authorize, exchangeCode, expectLoginRefused, refresh } from '../support/code-flow.js';
import { useServer } from '../support/setup.js';

const EXCHANGER = { id: 'key-exchanger', secret: 'key-exchanger-secret-0123456789abcdef' };
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

describe('management API: users, roles, API keys', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  useServer(
    {
      admin: true,
      seed: (seed) =>
        seed.clients.push({
          client_id: EXCHANGER.id,
          client_secret: EXCHANGER.secret,
          client_name: 'Gateway',
          grant_types: [TOKEN_EXCHANGE],
          redirect_uris: [],
          scope: '',
          token_endpoint_auth_method: 'client_secret_basic',
        } as never),
    },
    (s) => ({ server, admin } = s),
  );

  async function userWithKey(roles: string[], scopes: string[], extra: Record<string, unknown> = {}) {
    const email = `u${Math.random().toString(36).slice(2, 10)}@example.test`;
    const user = await admin.post('/users', { email, name: 'Test user', password: 'a long enough password', roles });
    expect(user.status, JSON.stringify(user.body)).to.equal(201);
    const key = await admin.post('/api-keys', { name: 'script', scopes, user_id: user.body.id, ...extra });
    expect(key.status, JSON.stringify(key.body)).to.equal(201);
    return { user: user.body, key: key.body.key as string, keyId: key.body.id as string, email };
  }

  it('creates, lists, changes and deletes users; passwords never come back', async () => {
    const created = await admin.post('/users', { email: 'grace@example.test', name: 'Grace Hopper', password: 'compiler pioneer', roles: ['viewer'] });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ email: 'grace@example.test', active: true });
    expect(created.body.roles).to.deep.equal(['viewer']);
    expect(JSON.stringify(created.body)).not.to.include('compiler pioneer');
    expect((await admin.post('/users', { email: 'GRACE@example.test', name: 'dup' })).status).to.equal(409);
    const bad = await admin.post('/users', { email: 'x@example.test', name: 'x', roles: ['wizard'] });
    expect(bad.status).to.equal(400);
    expect(bad.body.field).to.equal('roles');
    const listed = await admin.get('/users?q=grace');
    expect(listed.body.data.map((u: { email: string }) => u.email)).to.deep.equal(['grace@example.test']);
    const patched = await admin.patch(`/users/${created.body.id}`, { roles: ['developer'], name: 'Rear Admiral Hopper' });
    expect(patched.body.roles).to.deep.equal(['developer']);
    expect((await admin.delete(`/users/${created.body.id}`)).status).to.equal(204);
    expect((await admin.get(`/users/${created.body.id}`)).status).to.equal(404);
    const rows = await server.runtime.db.query<{ t: string }>('SELECT row_to_json(u)::text AS t FROM users u');
    expect(rows.rows.map((r) => r.t).join()).not.to.include('compiler pioneer');
  });

  it('keeps built-in roles read-only and applies a custom role change to existing keys at once', async () => {
    expect((await admin.patch('/roles/admin', { permissions: [] })).status).to.equal(403);
    expect((await admin.delete('/roles/viewer')).status).to.equal(403);
    const listed = await admin.get('/user-roles');
    expect(listed.body.data.map((r: { name: string }) => r.name)).to.include.members(['admin', 'developer', 'viewer']);
    expect((await admin.post('/roles', { name: 'auditor', permissions: ['nothing:here'] })).body.field).to.equal('permissions');
    const role = await admin.post('/roles', { name: 'auditor', description: 'Reads the log', permissions: ['audit:read', 'clients:read'] });
    expect(role.status).to.equal(201);

    const { key } = await userWithKey(['auditor'], ['audit:read', 'clients:read']);
    const asKey = managementApi(server, key);
    expect((await asKey.get('/audit-events')).status).to.equal(200);
    expect((await asKey.get('/clients')).status).to.equal(200);
    await admin.patch('/roles/auditor', { permissions: ['clients:read'] });
    const denied = await asKey.get('/audit-events');
    expect(denied.status).to.equal(403);
    expect(denied.body.scope).to.equal('audit:read');
    expect((await asKey.get('/clients')).status).to.equal(200);
  });

  it('refuses a key with scopes beyond its owner roles, and lets developers manage only their own keys', async () => {
    const viewer = await admin.post('/users', { email: 'viewer@example.test', name: 'V', roles: ['viewer'] });
    const tooMuch = await admin.post('/api-keys', { name: 'k', scopes: ['clients:write'], user_id: viewer.body.id });
    expect(tooMuch.status).to.equal(403);

    const dev = await userWithKey(['developer'], ['api-keys:read', 'api-keys:write', 'clients:read']);
    const other = await userWithKey(['developer'], ['api-keys:read']);
    const asDev = managementApi(server, dev.key);
    const mine = await asDev.post('/api-keys', { name: 'ci', scopes: ['clients:read'], expires_in: '30d', environment: 'test' });
    expect(mine.status).to.equal(201);
    expect(mine.body.key).to.match(/^ak_test_/);
    expect(mine.body.expires_at).to.be.a('string');
    const list = await asDev.get('/api-keys');
    expect(list.body.data.every((k: { user_id: string }) => k.user_id === dev.user.id)).to.equal(true);
    expect(JSON.stringify(list.body)).not.to.include(mine.body.key);
    expect((await asDev.get(`/api-keys?user=${other.user.id}`)).status).to.equal(403);
    expect((await asDev.delete(`/api-keys/${other.keyId}`)).status).to.equal(404);
    expect((await asDev.delete(`/api-keys/${mine.body.id}`)).status).to.equal(204);
    expect((await managementApi(server, mine.body.key).get('/clients')).status).to.equal(401);
  });

  it('deactivating a user stops their API key and refresh token at once', async () => {
    const { user, key, email } = await userWithKey(['viewer'], ['clients:read']);
    expect((await managementApi(server, key).get('/clients')).status).to.equal(200);
    const flow = await authorize(server, { client: WEB, scope: 'openid offline_access orders:read', user: { email, password: 'a long enough password' } });
    const tokens = await exchangeCode(server, WEB, flow);
    expect(tokens.status).to.equal(200);

    expect((await admin.patch(`/users/${user.id}`, { active: false })).status).to.equal(200);
    expect((await managementApi(server, key).get('/clients')).status).to.equal(401);
    const refreshed = await refresh(server, WEB, tokens.json.refresh_token as string);
    expect(refreshed.status).to.equal(400);
    expect(refreshed.json.error).to.equal('invalid_grant');
    const events = (await admin.get('/audit-events?type=user.deactivated')).body.data;
    expect(events.some((e: { target: { id: string } }) => e.target.id === user.id)).to.equal(true);
  });

  it('audits logins, successful and failed, without the password', async () => {
    // Counted for this user and from before the sign-in, so that events of other tests cannot pass it.
    const userId = ((await admin.get(`/users?q=${encodeURIComponent(USER.email)}`)).body.data as { id: string; email: string }[]).find((u) => u.email === USER.email)!.id;
    const eventsOf = async (type: string) => (await admin.get(`/audit-events?type=${type}&actor=${userId}`)).body.data as { actor: { id: string }; target: { id: string } | null; data: Record<string, unknown> }[];
    const succeededBefore = (await eventsOf('login.succeeded')).length;
    const failedBefore = (await eventsOf('login.failed')).length;

    await authorize(server, { client: WEB, scope: 'openid', user: USER });
    const ok = await admin.get('/audit-events?type=login.succeeded');
    expect(ok.body.data.length).to.be.greaterThan(0);
    const succeeded = await eventsOf('login.succeeded');
    expect(succeeded).to.have.length(succeededBefore + 1);
    expect(succeeded[0]).to.deep.include({ target: { type: 'user', id: userId } });

    const wrong = 'not-the-password-and-never-logged';
    await expectLoginRefused(authorize(server, { client: WEB, scope: 'openid', user: { email: USER.email, password: wrong } }));
    const failed = await eventsOf('login.failed');
    expect(failed).to.have.length(failedBefore + 1);
    expect(failed[0].data).to.include({ reason: 'bad_password', client_id: WEB.id });
    const everything = JSON.stringify((await admin.get('/audit-events')).body);
    expect(everything).not.to.include(wrong);
    expect(everything).not.to.include(USER.password);
  });

  it('introspects an API key for a resource server (RFC 7662)', async () => {
    const { user, key } = await userWithKey([], ['orders:read']);
    const res = await postForm(`${server.url}/oauth/introspect`, { token: key }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ active: true, scope: 'orders:read', sub: user.id, token_type: 'api_key' });
    const bogus = await postForm(`${server.url}/oauth/introspect`, { token: `${key.slice(0, -1)}x` }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(bogus.json).to.deep.equal({ active: false });
  });

  it('introspects our JWT access tokens, and reports them inactive once their client is revoked', async () => {
    const created = await admin.post('/clients', { client_name: 'Short-lived', type: 'service', scope: 'orders:read' });
    const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(created.body.client_id, created.body.client_secret) });
    const introspect = () => postForm(`${server.url}/oauth/introspect`, { token: issued.json.access_token as string }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect((await introspect()).json).to.include({ active: true, client_id: created.body.client_id, aud: ORDERS_API });
    await admin.delete(`/clients/${created.body.client_id}`);
    expect((await introspect()).json).to.deep.equal({ active: false });
  });

  it('exchanges an API key for a short-lived JWT (RFC 8693)', async () => {
    const { user, key } = await userWithKey([], ['orders:read', 'orders:write']);
    const exchange = (form: Record<string, string>) =>
      postForm(`${server.url}/oauth/token`, { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE, ...form }, { authorization: basic(EXCHANGER.id, EXCHANGER.secret) });
    const res = await exchange({ subject_token: key, resource: ORDERS_API, scope: 'orders:read' });
    expect(res.status, res.text).to.equal(200);
    expect(res.json).to.include({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'orders:read' });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(res.json.access_token as string, jwks, { issuer: server.url, audience: ORDERS_API, typ: 'at+jwt' });
    expect(payload).to.include({ sub: user.id, client_id: EXCHANGER.id, scope: 'orders:read' });

    expect((await exchange({ subject_token: key, resource: ORDERS_API, scope: 'billing:read' })).json.error).to.equal('invalid_scope');
    expect((await exchange({ subject_token: 'ak_live_nothing', resource: ORDERS_API })).json.error).to.equal('invalid_grant');
    expect((await exchange({ subject_token: key, resource: 'https://nowhere.example' })).json.error).to.equal('invalid_target');
    expect((await exchange({ subject_token: key, subject_token_type: 'urn:x' })).json.error).to.equal('invalid_request');
    const notAllowed = await postForm(`${server.url}/oauth/token`, { grant_type: TOKEN_EXCHANGE, subject_token: key, subject_token_type: ACCESS_TOKEN_TYPE }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    // oidc-provider answers a grant type the client is not registered for with invalid_request.
    expect(notAllowed.status).to.equal(400);
    expect(notAllowed.json.error_description).to.match(/grant type is not allowed/);
  });
});

describe('consent offers only what the user may grant on APIs that enforce roles', () => {
  let server: TestServer;
  before(async () => {
    const seed = baseSeed();
    const web = seed.clients.find((c) => c.client_id === WEB.id)!;
    web.scope += ' clients:read clients:write audit:read';
    (seed.users[0] as Record<string, unknown>).roles = ['viewer'];
    server = await startServer({ seed });
  });
  after(async () => server?.destroy());

  it('drops scopes outside the user roles from consent and from the token', async () => {
    const resource = `${server.runtime.config.issuer}/api/v1`;
    let consentPage = '';
    const flow = await authorize(server, {
      client: WEB,
      scope: 'clients:read clients:write',
      resource,
      onPage: async (page, uid) => {
        if (page === 'consent') consentPage = uid;
      },
    });
    expect(consentPage).to.not.equal('');
    const tokens = await exchangeCode(server, WEB, flow);
    expect(tokens.status, tokens.text).to.equal(200);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(tokens.json.access_token as string, jwks, { audience: resource });
    expect(payload.scope).to.equal('clients:read');
    const api = managementApi(server, tokens.json.access_token as string);
    expect((await api.get('/clients')).status).to.equal(200);
    expect((await api.post('/clients', { client_name: 'x', type: 'service' })).status).to.equal(403);
  });
});
