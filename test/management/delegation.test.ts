import { expect } from 'chai';
import { ORDERS_API, SERVICE, WEB, baseSeed, basic, consoleClient, postForm } from '../support/fixtures.js';
import { ALL_MANAGEMENT_SCOPES, adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { AuthorizationError, CookieJar, authorize, exchangeCode, refresh } from '../support/code-flow.js';
import { newKey, newPerson, newRole, signInTokens, type Person } from '../support/accounts.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Issue 8: no credential confers more than its holder has. Each of the seven paths an attacker
 * holding one narrow credential took on the server before the delegation rule, tried again; and
 * the rule's other consequences (client ownership, consent after a redirect change, introspection
 * only for a token's audience, a password change ending what the old password started).
 */
describe('the delegation rule: no credential confers more than its holder has', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  before(async () => {
    server = await startServer({ seed: { ...baseSeed(), clients: [...baseSeed().clients, adminClientSeed()] } });
    admin = managementApi(server, await managementToken(server));
    managementResource = `${server.issuer}/api/v1`;
  });
  after(async () => server?.destroy());

  /** A person signed in to the console: a user token holding the Management API permissions asked for. */
  async function consoleApi(person: Person, scopes = ALL_MANAGEMENT_SCOPES) {
    const tokens = await signInTokens(server, consoleClient(server), person, `openid ${scopes.join(' ')}`, { resource: managementResource });
    return { api: managementApi(server, tokens.access_token), tokens };
  }

  const permissionsOf = async (token: string) => ((await managementApi(server, token).get('/me')).body.permissions as string[]).sort();

  it('1. an API key limited to api-keys:* can neither mint a wider key nor widen itself', async () => {
    const owner = await newPerson(admin, ['admin']);
    const narrow = await newKey(admin, owner.id, ['api-keys:read', 'api-keys:write']);
    const asKey = managementApi(server, narrow.key);

    const wider = await asKey.post('/api-keys', { name: 'all of it', scopes: ALL_MANAGEMENT_SCOPES });
    expect(wider.status, JSON.stringify(wider.body)).to.equal(403);
    expect(wider.body.error).to.equal('insufficient_scope');
    expect(wider.body.missing).to.include.members(['users:write', 'keys:write', 'roles:write']);
    expect(wider.body.missing).not.to.include('api-keys:write');

    const widened = await asKey.patch(`/api-keys/${narrow.id}`, { scopes: ALL_MANAGEMENT_SCOPES });
    expect(widened.status).to.equal(403);
    expect((await admin.get(`/api-keys/${narrow.id}`)).body.scopes).to.deep.equal(['api-keys:read', 'api-keys:write']);
    expect(await permissionsOf(narrow.key)).to.deep.equal(['api-keys:read', 'api-keys:write']);

    // Within what it holds, it still works: a key with a subset, and re-enabling needs holding it too.
    expect((await asKey.post('/api-keys', { name: 'reader', scopes: ['api-keys:read'] })).status).to.equal(201);
    const other = await newKey(admin, owner.id, ['users:write']);
    expect((await asKey.patch(`/api-keys/${other.id}`, { enabled: false })).status).to.equal(200);
    const reenable = await asKey.patch(`/api-keys/${other.id}`, { enabled: true });
    expect(reenable.status).to.equal(403);
    expect(reenable.body.missing).to.deep.equal(['users:write']);
  });

  it('2. a user holding users:read users:write cannot make themselves admin, nor take over an admin', async () => {
    const role = await newRole(admin, ['users:read', 'users:write']);
    const mallory = await newPerson(admin, [role]);
    const boss = await newPerson(admin, ['admin']);
    const { api } = await consoleApi(mallory, ['users:read', 'users:write']);

    const promote = await api.patch(`/users/${mallory.id}`, { roles: ['admin'] });
    expect(promote.status, JSON.stringify(promote.body)).to.equal(403);
    expect(promote.body).to.include({ error: 'insufficient_scope', field: 'roles' });
    expect(promote.body.missing).to.include('keys:write');
    expect((await admin.get(`/users/${mallory.id}`)).body.roles).to.deep.equal([role]);

    for (const patch of [{ password: 'mallory-owns-this-account-now' }, { email: 'mallory@example.test' }, { active: false }, { roles: [] }]) {
      const res = await api.patch(`/users/${boss.id}`, patch);
      expect(res.status, JSON.stringify(patch)).to.equal(403);
      expect(res.body.error).to.equal('insufficient_scope');
    }
    // The admin's password is unchanged: it still signs in, and Mallory's guess does not.
    await authorize(server, { client: WEB, scope: 'openid', user: boss });
    let refused: unknown;
    await authorize(server, { client: WEB, scope: 'openid', user: { email: boss.email, password: 'mallory-owns-this-account-now' } }).catch((e) => (refused = e));
    expect(String(refused)).to.match(/refused/);

    // A peer holding no more than Mallory: she may act on them.
    const peer = await newPerson(admin, [role]);
    expect((await api.patch(`/users/${peer.id}`, { name: 'Renamed peer' })).status).to.equal(200);
    // Giving a role she holds everything of is fine; the refusal names what she lacks.
    const small = await newRole(admin, ['users:read']);
    expect((await api.patch(`/users/${peer.id}`, { roles: [role, small] })).status).to.equal(200);
  });

  it('3. a user holding roles:read roles:write cannot widen their own role (or any role) beyond what they hold', async () => {
    const role = await newRole(admin, ['roles:read', 'roles:write']);
    const editor = await newPerson(admin, [role]);
    const { api } = await consoleApi(editor, ['roles:read', 'roles:write']);

    const widen = await api.patch(`/roles/${role}`, { permissions: ALL_MANAGEMENT_SCOPES });
    expect(widen.status).to.equal(403);
    expect(widen.body).to.include({ error: 'insufficient_scope', field: 'permissions' });
    const created = await api.post('/roles', { name: 'sneaky-admin', permissions: ['users:write'] });
    expect(created.status).to.equal(403);
    // Nor change or delete a role that gives more than they hold.
    const bigger = await newRole(admin, ['roles:read', 'keys:write']);
    expect((await api.patch(`/roles/${bigger}`, { description: 'mine now' })).status).to.equal(403);
    expect((await api.delete(`/roles/${bigger}`)).status).to.equal(403);

    // Signing in again gives the same two permissions, not thirteen.
    const again = await consoleApi(editor);
    expect(await permissionsOf(again.tokens.access_token)).to.deep.equal(['roles:read', 'roles:write']);
    // Within what they hold, roles can be made.
    expect((await api.post('/roles', { name: 'role-reader', permissions: ['roles:read'] })).status).to.equal(201);
  });

  it("4. a developer cannot change another team's client; a changed redirect URI asks for consent again, naming the host", async () => {
    const alice = await newPerson(admin, ['developer']);
    const dev = await newPerson(admin, ['developer']);
    const { api: asAlice } = await consoleApi(alice);
    const { api: asDev } = await consoleApi(dev);
    const made = await asAlice.post('/clients', { client_name: 'Team A app', type: 'web', redirect_uris: ['http://127.0.0.1:8080/team-a'], scope: 'openid orders:read' });
    expect(made.status).to.equal(201);
    expect(made.body.owner).to.deep.equal({ id: alice.id, email: alice.email });
    const teamA = { id: made.body.client_id as string, secret: made.body.client_secret as string, redirect: 'http://127.0.0.1:8080/team-a' };

    // A person consents to Team A's app once; later sign-ins skip the page.
    const jar = new CookieJar();
    await authorize(server, { client: teamA, scope: 'openid orders:read', jar });
    const pages: string[] = [];
    await authorize(server, { client: teamA, scope: 'openid orders:read', jar, onPage: async (page) => void pages.push(page) });
    expect(pages).to.deep.equal([]);

    // The developer of another team: refused on every change, with the permission that would be needed.
    for (const res of [
      await asDev.patch(`/clients/${teamA.id}`, { redirect_uris: ['http://127.0.0.1:8080/team-a', 'https://evil.example/cb'] }),
      await asDev.post(`/clients/${teamA.id}/secrets`, {}),
      await asDev.patch(`/clients/${teamA.id}`, { enabled: false }),
      await asDev.delete(`/clients/${teamA.id}`),
    ]) {
      expect(res.status).to.equal(403);
      expect(res.body).to.include({ error: 'insufficient_scope', scope: 'clients:admin' });
    }
    // Ownerless clients (the seed's) likewise.
    expect((await asDev.patch(`/clients/${WEB.id}`, { client_name: 'Taken' })).status).to.equal(403);

    // The owner moves the app: everyone who consented is asked again, on a page naming the new host.
    const moved = await asAlice.patch(`/clients/${teamA.id}`, { redirect_uris: ['http://localhost:9090/team-a'] });
    expect(moved.status).to.equal(200);
    const movedClient = { ...teamA, redirect: 'http://localhost:9090/team-a' };
    const seen: string[] = [];
    await authorize(server, {
      client: movedClient,
      scope: 'openid orders:read',
      jar,
      onPage: async (page, uid) => {
        seen.push(page);
        if (page !== 'consent') return;
        const html = await (await jar.fetch(new URL(`/interaction/${uid}`, server.url))).text();
        expect(html).to.include('you will be sent back to <strong>localhost:9090</strong>');
      },
    });
    expect(seen).to.deep.equal(['consent']);
    const [event] = (await admin.get(`/audit-events?type=client.updated&actor=${alice.id}`)).body.data;
    expect(event.data).to.include({ consents_forgotten: 1 });

    // An administrator (clients:admin) may change anyone's.
    expect((await admin.patch(`/clients/${teamA.id}`, { client_name: 'Team A app (renamed)' })).status).to.equal(200);
  });

  it('5. a developer without a role-enforced permission cannot give it to a client; an owner keeps only what their roles give now', async () => {
    const payroll = await admin.post('/apis', { identifier: 'https://payroll.example.test', name: 'Payroll', scopes: ['payroll:read', 'payroll:admin'], enforce_roles: true });
    expect(payroll.status, JSON.stringify(payroll.body)).to.equal(201);
    const dev = await newPerson(admin, ['developer']);
    const { api: asDev } = await consoleApi(dev);
    const refused = await asDev.post('/clients', { client_name: 'Payroll job', type: 'service', scope: 'payroll:admin' });
    expect(refused.status).to.equal(403);
    expect(refused.body).to.include({ error: 'insufficient_scope', scope: 'payroll:admin', field: 'scope' });
    const key = await asDev.post('/api-keys', { name: 'k', scopes: ['payroll:admin'] });
    expect(key.status).to.equal(403);

    // A developer who holds it through a role may give it; the client then holds no more than they do.
    const payrollAdmins = await newRole(admin, ['payroll:read', 'payroll:admin']);
    const lead = await newPerson(admin, ['developer', payrollAdmins]);
    const { api: asLead } = await consoleApi(lead);
    const job = await asLead.post('/clients', { client_name: 'Payroll job', type: 'service', scope: 'payroll:read payroll:admin' });
    expect(job.status, JSON.stringify(job.body)).to.equal(201);
    const tokenFor = (scope: string) =>
      postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope, resource: 'https://payroll.example.test' }, { authorization: basic(job.body.client_id, job.body.client_secret) });
    expect((await tokenFor('payroll:admin')).json.scope).to.equal('payroll:admin');

    // The lead loses the role: the client loses the scope at its next token request.
    await admin.patch(`/users/${lead.id}`, { roles: ['developer'] });
    const lost = await tokenFor('payroll:admin');
    expect(lost.status).to.equal(400);
    expect(lost.json.error).to.equal('invalid_scope');
    await admin.patch(`/users/${lead.id}`, { roles: ['developer', payrollAdmins] });
    expect((await tokenFor('payroll:admin')).status).to.equal(200);
    // Deactivated: nothing role-bound is left.
    await admin.patch(`/users/${lead.id}`, { active: false });
    expect((await tokenFor('payroll:read')).json.error).to.equal('invalid_scope');
    const implicit = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', resource: 'https://payroll.example.test' }, { authorization: basic(job.body.client_id, job.body.client_secret) });
    expect(implicit.json.error).to.equal('invalid_scope');
  });

  it('6. introspection answers only a token’s own resource servers (RFC 7662 §4)', async () => {
    const boss = await newPerson(admin, ['admin']);
    const { tokens } = await consoleApi(boss);
    const bossKey = await newKey(admin, boss.id, ['users:write', 'orders:read']);
    // A client-credentials job for the Orders API that is no resource server of anything.
    const job = await admin.post('/clients', { client_name: 'Orders job', type: 'service', scope: 'orders:read' });
    const asJob = (token: string) => postForm(`${server.url}/oauth/introspect`, { token }, { authorization: basic(job.body.client_id, job.body.client_secret) });
    const asOrders = (token: string) => postForm(`${server.url}/oauth/introspect`, { token }, { authorization: basic(SERVICE.id, SERVICE.secret) });

    expect((await asJob(tokens.access_token)).json).to.deep.equal({ active: false });
    expect((await asJob(bossKey.key)).json).to.deep.equal({ active: false });
    // The Orders resource server learns about the key only as far as Orders goes, and nothing of the
    // admin's console token, which is for the Management API.
    const key = (await asOrders(bossKey.key)).json;
    expect(key).to.include({ active: true, scope: 'orders:read', aud: ORDERS_API });
    expect((await asOrders(tokens.access_token)).json).to.deep.equal({ active: false });
    const ordersToken = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(job.body.client_id, job.body.client_secret) });
    expect((await asOrders(ordersToken.json.access_token as string)).json).to.include({ active: true, aud: ORDERS_API });
    expect((await asJob(ordersToken.json.access_token as string)).json).to.deep.equal({ active: false });

    // The Management API's own tokens: only for the clients named as its resource servers.
    const builtin = (await admin.get('/apis?limit=200')).body.data.find((a: { identifier: string }) => a.identifier === managementResource);
    const listed = await admin.patch(`/apis/${builtin.id}`, { resource_servers: [job.body.client_id] });
    expect(listed.status, JSON.stringify(listed.body)).to.equal(200);
    expect((await asJob(tokens.access_token)).json).to.include({ active: true, aud: managementResource, sub: boss.id });
    expect((await asJob(bossKey.key)).json).to.include({ active: true, scope: 'users:write', aud: managementResource });
    // Nothing else of the built-in API may change, and a public client cannot be a resource server.
    expect((await admin.patch(`/apis/${builtin.id}`, { name: 'Mine' })).status).to.equal(403);
    expect((await admin.patch(`/apis/${builtin.id}`, { resource_servers: ['spa-app'] })).status).to.equal(400);
    expect((await admin.patch(`/apis/${builtin.id}`, { resource_servers: [] })).status).to.equal(200);
  });

  it('7. a password change ends every session, grant and refresh token the old password started (ASVS 3.3.3)', async () => {
    // Someone who may change users, so that they can change their own password.
    const userAdmins = await newRole(admin, ['users:read', 'users:write']);
    for (const by of ['an administrator', 'the user'] as const) {
      const person = await newPerson(admin, ['viewer', userAdmins]);
      const jar = new CookieJar();
      const flow = await authorize(server, { client: WEB, scope: 'openid offline_access orders:read', user: person, jar });
      const tokens = await exchangeCode(server, WEB, flow);
      expect(tokens.json.refresh_token).to.be.a('string');
      // The browser session gives codes silently before the change.
      await authorize(server, { client: WEB, scope: 'openid', prompt: 'none', jar });

      const changer = by === 'the user' ? (await consoleApi(person)).api : admin;
      const changed = await changer.patch(`/users/${person.id}`, { password: `new-${person.password}` });
      expect(changed.status, `${by}: ${JSON.stringify(changed.body)}`).to.equal(200);

      let silent: unknown;
      await authorize(server, { client: WEB, scope: 'openid', prompt: 'none', jar }).catch((e) => (silent = e));
      expect(silent, by).to.be.instanceOf(AuthorizationError);
      expect((silent as AuthorizationError).error).to.equal('login_required');
      const refreshed = await refresh(server, WEB, tokens.json.refresh_token as string);
      expect(refreshed.status, by).to.equal(400);
      expect(refreshed.json.error).to.equal('invalid_grant');
      const [event] = (await admin.get(`/audit-events?type=user.password_changed`)).body.data;
      expect(event.target.id).to.equal(person.id);
      // The new password works.
      await authorize(server, { client: WEB, scope: 'openid', user: { email: person.email, password: `new-${person.password}` } });
    }
  });

  it('refuses an IP allowlist on a public client, which could not be enforced', async () => {
    const res = await admin.post('/clients', { client_name: 'SPA', type: 'spa', redirect_uris: ['http://127.0.0.1:8080/x'], ip_allowlist: ['10.0.0.0/8'] });
    expect(res.status).to.equal(400);
    expect(res.body.field).to.equal('ip_allowlist');
    expect((await admin.patch('/clients/spa-app', { ip_allowlist: ['10.0.0.0/8'] })).body.field).to.equal('ip_allowlist');
  });

  it('clients belong to whoever made them: clients:write covers your own, clients:admin everyone’s', async () => {
    const dev = await newPerson(admin, ['developer']);
    const { api: asDev } = await consoleApi(dev);
    const mine = await asDev.post('/clients', { client_name: 'Mine', type: 'service', scope: 'orders:read' });
    expect(mine.body.owner).to.deep.equal({ id: dev.id, email: dev.email });
    expect((await asDev.patch(`/clients/${mine.body.client_id}`, { client_name: 'Still mine' })).status).to.equal(200);
    expect((await asDev.post(`/clients/${mine.body.client_id}/secrets`, {})).status).to.equal(201);
    // A client the seed made belongs to no one.
    expect((await admin.get(`/clients/${SERVICE.id}`)).body.owner).to.equal(null);
    // The developer's API key acts for them: it owns the same clients.
    const devKey = await newKey(admin, dev.id, ['clients:read', 'clients:write']);
    expect((await managementApi(server, devKey.key).patch(`/clients/${mine.body.client_id}`, { client_name: 'By key' })).status).to.equal(200);
    expect((await asDev.delete(`/clients/${mine.body.client_id}`)).status).to.equal(204);

    // Deleting the owner suspends their clients: nobody's roles would bound them any more.
    const kept = await asDev.post('/clients', { client_name: 'Outlives its owner?', type: 'service', scope: 'orders:read' });
    expect((await admin.delete(`/users/${dev.id}`)).status).to.equal(204);
    const after = (await admin.get(`/clients/${kept.body.client_id}`)).body;
    expect(after).to.include({ status: 'suspended', owner: null });
    const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(kept.body.client_id, kept.body.client_secret) });
    expect(token.json.error).to.equal('invalid_client');
    const [event] = (await admin.get(`/audit-events?type=client.suspended`)).body.data;
    expect(event).to.deep.include({ target: { type: 'client', id: kept.body.client_id } });
    expect(event.data).to.include({ reason: 'owner_deleted' });
  });
});
