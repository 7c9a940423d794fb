import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, WEB, basic, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, ALL_MANAGEMENT_SCOPES, managementApi, managementToken } from '../support/management.js';
import { authorize, CookieJar, exchangeCode, refresh } from '../support/code-flow.js';
import { auditOf, newKey, newPerson, newRole, signInTokens, type Person } from '../support/accounts.js';
import { useServer, webAppManages } from '../support/setup.js';

const BUILTIN = {
  admin: ALL_MANAGEMENT_SCOPES,
  developer: ['clients:read', 'clients:write', 'apis:read', 'users:read', 'roles:read', 'api-keys:read', 'api-keys:write', 'audit:read', 'webhooks:read'],
  viewer: ['clients:read', 'apis:read', 'users:read', 'roles:read', 'api-keys:read', 'audit:read', 'webhooks:read'],
};

describe('management API: roles', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  useServer({ admin: true, seed: webAppManages }, (s) => ({ server, admin, managementResource } = s));

  it('answers 401 without a usable token on every roles endpoint', async () => {
    for (const token of [undefined, 'ak_test_nope']) {
      const api = managementApi(server, token);
      for (const res of [
        await api.get('/roles'),
        await api.get('/user-roles'),
        await api.get('/roles/admin'),
        await api.post('/roles', { name: 'x', permissions: [] }),
        await api.patch('/roles/x', { permissions: [] }),
        await api.delete('/roles/x'),
      ]) {
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer /);
      }
    }
  });

  it('needs roles:read to read and roles:write to change (403 naming it)', async () => {
    const role = await newRole(admin, ['clients:read']);
    const noRead = managementApi(server, await managementToken(server, ['clients:read']));
    for (const res of [await noRead.get('/roles'), await noRead.get('/user-roles'), await noRead.get(`/roles/${role}`)]) {
      expect(res.status).to.equal(403);
      expect(res.body).to.include({ error: 'insufficient_scope', scope: 'roles:read' });
    }
    // A developer reads roles and changes none.
    const dev = await newPerson(admin, ['developer']);
    const asDev = managementApi(server, (await newKey(admin, dev.id, ['roles:read', 'clients:read'])).key);
    expect((await asDev.get('/roles')).status).to.equal(200);
    for (const res of [
      await asDev.post('/roles', { name: 'sneaky', permissions: ['keys:write'] }),
      await asDev.patch(`/roles/${role}`, { permissions: ['keys:write'] }),
      await asDev.delete(`/roles/${role}`),
    ]) {
      expect(res.status).to.equal(403);
      expect(res.body).to.include({ error: 'insufficient_scope', scope: 'roles:write' });
    }
    expect((await admin.get(`/roles/${role}`)).body.permissions).to.deep.equal(['clients:read']);
    expect((await admin.get('/roles/sneaky')).status).to.equal(404);
  });

  it('lists the built-in roles and custom ones at /roles and /user-roles alike', async () => {
    const role = await newRole(admin, ['orders:read', 'clients:read']);
    const roles = await admin.get('/roles');
    expect(roles.status).to.equal(200);
    expect(roles.body.next_cursor).to.equal(null);
    expect((await admin.get('/user-roles')).body).to.deep.equal(roles.body);
    const byName = Object.fromEntries(roles.body.data.map((r: { name: string }) => [r.name, r]));
    for (const [name, permissions] of Object.entries(BUILTIN)) {
      expect(byName[name]).to.include({ id: name, name, builtin: true });
      expect(byName[name].permissions).to.have.members(permissions);
    }
    expect(byName[role]).to.include({ id: role, builtin: false, description: '' });
    expect(byName[role].permissions).to.deep.equal(['orders:read', 'clients:read']);
    expect(new Date(byName[role].created_at).toISOString()).to.equal(byName[role].created_at);
    expect((await admin.get(`/roles/${role}`)).body).to.deep.equal(byName[role]);
    expect((await admin.get('/roles/no-such-role')).status).to.equal(404);
  });

  it('creates roles from known API scopes and names the field of a validation error', async () => {
    const made = await admin.post('/roles', { name: 'order-clerk', description: 'Handles orders', permissions: ['orders:read', 'orders:write', 'orders:read'] });
    expect(made.status).to.equal(201);
    expect(made.body).to.include({ id: 'order-clerk', name: 'order-clerk', description: 'Handles orders', builtin: false });
    expect(made.body.permissions).to.deep.equal(['orders:read', 'orders:write']);

    for (const [body, field] of [
      [{ name: 'Upper Case', permissions: [] }, 'name'],
      [{ name: 'x', permissions: [] }, 'name'],
      [{ permissions: [] }, 'name'],
      [{ name: 'no-perms' }, 'permissions'],
      [{ name: 'unknown-scope', permissions: ['orders:fly'] }, 'permissions'],
      [{ name: 'identity', permissions: ['openid'] }, 'permissions.0'],
      [{ name: 'bad-desc', permissions: [], description: 'x'.repeat(301) }, 'description'],
      [{ name: 'extra', permissions: [], builtin: true }, undefined],
    ] as const) {
      const res = await admin.post('/roles', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.field, JSON.stringify(body)).to.equal(field);
    }
    expect((await admin.post('/roles', { name: 'unknown-scope', permissions: ['orders:fly'] })).body.error_description).to.include('orders:fly');
    for (const name of ['order-clerk', 'admin']) {
      const dup = await admin.post('/roles', { name, permissions: [] });
      expect(dup.status).to.equal(409);
    }
    expect((await admin.get('/roles/admin')).body.permissions).to.have.members(BUILTIN.admin);
  });

  it('keeps built-in roles read-only with a clear 403', async () => {
    for (const name of Object.keys(BUILTIN)) {
      const patch = await admin.patch(`/roles/${name}`, { permissions: ['clients:read'] });
      expect(patch.status).to.equal(403);
      expect(patch.body.error).to.equal('forbidden');
      expect(patch.body.error_description).to.match(/built-in role and cannot be changed/);
      const del = await admin.delete(`/roles/${name}`);
      expect(del.status).to.equal(403);
      expect(del.body.error_description).to.include(name);
      expect((await admin.get(`/roles/${name}`)).body.permissions).to.have.members(BUILTIN[name as keyof typeof BUILTIN]);
    }
  });

  it('changes and deletes custom roles; 404 for unknown ones', async () => {
    const role = await newRole(admin, ['clients:read']);
    const changed = await admin.patch(`/roles/${role}`, { description: 'Now described', permissions: ['apis:read', 'orders:read'] });
    expect(changed.status).to.equal(200);
    expect(changed.body).to.include({ description: 'Now described' });
    expect(changed.body.permissions).to.deep.equal(['apis:read', 'orders:read']);
    expect((await admin.patch(`/roles/${role}`, { description: 'Only this' })).body.permissions).to.deep.equal(['apis:read', 'orders:read']);
    expect((await admin.patch(`/roles/${role}`, { permissions: ['nope:nope'] })).body.field).to.equal('permissions');
    expect((await admin.patch(`/roles/${role}`, { name: 'renamed' })).status).to.equal(400);
    for (const res of [await admin.patch('/roles/no-such-role', { description: 'x' }), await admin.delete('/roles/no-such-role')]) {
      expect(res.status).to.equal(404);
      expect(res.body.error).to.equal('not_found');
    }

    const person = await newPerson(admin, [role, 'viewer']);
    expect((await admin.delete(`/roles/${role}`)).status).to.equal(204);
    expect((await admin.get(`/roles/${role}`)).status).to.equal(404);
    expect((await admin.get(`/users/${person.id}`)).body.roles).to.deep.equal(['viewer']);
    expect((await admin.delete(`/roles/${role}`)).status).to.equal(404);
  });

  it('applies a role change at once to existing API keys', async () => {
    const role = await newRole(admin, ['audit:read', 'clients:read']);
    const person = await newPerson(admin, [role]);
    const key = managementApi(server, (await newKey(admin, person.id, ['audit:read', 'clients:read'])).key);
    expect((await key.get('/clients')).status).to.equal(200);
    expect((await key.get('/audit-events')).status).to.equal(200);

    await admin.patch(`/roles/${role}`, { permissions: ['clients:read'] });
    const denied = await key.get('/audit-events');
    expect(denied.status).to.equal(403);
    expect(denied.body).to.include({ error: 'insufficient_scope', scope: 'audit:read' });
    expect((await key.get('/clients')).status).to.equal(200);

    // Giving the permission back gives it back to the key (it still holds the scope)...
    await admin.patch(`/roles/${role}`, { permissions: ['clients:read', 'audit:read'] });
    expect((await key.get('/audit-events')).status).to.equal(200);
    // ...and deleting the role, or taking it from the user, takes everything it gave.
    await admin.patch(`/users/${person.id}`, { roles: [] });
    expect((await key.get('/clients')).status).to.equal(403);
    await admin.patch(`/users/${person.id}`, { roles: [role] });
    expect((await key.get('/clients')).status).to.equal(200);
    await admin.delete(`/roles/${role}`);
    expect((await key.get('/clients')).status).to.equal(403);
  });

  it('applies a role change at once to existing user tokens and to the next token', async () => {
    const role = await newRole(admin, ['audit:read', 'clients:read']);
    const person = await newPerson(admin, [role]);
    const tokens = await signInTokens(server, WEB, person, 'offline_access audit:read clients:read', { resource: managementResource });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const scopeOf = async (token: string) => (await jwtVerify(token, jwks, { audience: managementResource })).payload.scope;
    expect(await scopeOf(tokens.access_token)).to.equal('audit:read clients:read');
    const asUser = managementApi(server, tokens.access_token);
    expect((await asUser.get('/audit-events')).status).to.equal(200);

    await admin.patch(`/roles/${role}`, { permissions: ['clients:read'] });
    // The token already issued still says audit:read, but the Management API checks roles per call.
    expect((await asUser.get('/audit-events')).status).to.equal(403);
    expect((await asUser.get('/clients')).status).to.equal(200);
    // The next token (a refresh) no longer carries it.
    const next = await refresh(server, WEB, tokens.refresh_token!);
    expect(next.status, next.text).to.equal(200);
    expect(await scopeOf(next.json.access_token as string)).to.equal('clients:read');
    // Asking for it explicitly does not get it either.
    const explicit = await postForm(
      `${server.url}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: next.json.refresh_token as string, scope: 'audit:read clients:read' },
      { authorization: basic(WEB.id, WEB.secret) },
    );
    expect(explicit.status, explicit.text).to.equal(200);
    expect(await scopeOf(explicit.json.access_token as string)).to.equal('clients:read');

    // What was consented to comes back when the role allows it again: granted AND allowed.
    await admin.patch(`/roles/${role}`, { permissions: ['clients:read', 'audit:read'] });
    const restored = await refresh(server, WEB, explicit.json.refresh_token as string);
    expect(await scopeOf(restored.json.access_token as string)).to.equal('audit:read clients:read');
  });

  it('audits role changes with before and after, in the transaction of the change', async () => {
    const made = await admin.post('/roles', { name: 'audited-role', permissions: ['clients:read'] });
    expect(made.status).to.equal(201);
    await admin.patch('/roles/audited-role', { permissions: ['clients:read', 'apis:read'] });
    await admin.patch('/roles/admin', { permissions: [] });
    await admin.delete('/roles/audited-role');
    const [created] = await auditOf(server, 'role.created', 'audited-role');
    expect(created).to.deep.include({ actor_type: 'client', actor_id: ADMIN_CLIENT.id, target_type: 'role' });
    expect(created.data).to.deep.equal({ permissions: ['clients:read'] });
    const [updated] = await auditOf(server, 'role.updated', 'audited-role');
    expect(updated.data).to.deep.equal({ before: ['clients:read'], after: ['clients:read', 'apis:read'] });
    expect(await auditOf(server, 'role.deleted', 'audited-role')).to.have.length(1);
    // Refused changes leave nothing behind.
    expect(await auditOf(server, 'role.updated', 'admin')).to.deep.equal([]);
    expect((await admin.post('/roles', { name: 'audited-bad', permissions: ['nope:nope'] })).status).to.equal(400);
    expect(await auditOf(server, 'role.created', 'audited-bad')).to.deep.equal([]);
  });

  describe('consent on APIs that enforce roles', () => {
    /** Runs an authorization with this browser, recording the scopes each consent page listed. */
    async function authorizeRecording(person: Person, scope: string, options: { prompt?: string; resource?: string; jar?: CookieJar } = {}) {
      const jar = options.jar ?? new CookieJar();
      const consentPages: string[][] = [];
      const flow = await authorize(server, {
        client: WEB,
        scope,
        user: person,
        jar,
        prompt: options.prompt,
        resource: options.resource ?? managementResource,
        onPage: async (page, uid) => {
          if (page !== 'consent') return;
          const res = await jar.fetch(new URL(`/interaction/${uid}`, server.url));
          const html = await res.text();
          expect(res.status).to.equal(200);
          consentPages.push([...html.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]));
        },
      });
      const tokens = await exchangeCode(server, WEB, flow);
      expect(tokens.status, tokens.text).to.equal(200);
      return { consentPages, tokens: tokens.json, jar };
    }

    it('offers only what the user may grant, once, and issues only that', async () => {
      const person = await newPerson(admin, ['viewer']);
      const { consentPages, tokens, jar } = await authorizeRecording(person, 'openid clients:read clients:write audit:read keys:write');
      // One consent page (no loop), without the scopes the viewer role does not allow.
      expect(consentPages).to.have.length(1);
      expect(consentPages[0]).to.have.members(['openid', 'clients:read', 'audit:read']);
      expect(tokens.scope).to.equal('clients:read audit:read');

      // prompt=consent asks again about everything requested, still only what the roles allow.
      const again = await authorizeRecording(person, 'clients:read clients:write', { prompt: 'consent', jar });
      expect(again.consentPages).to.deep.equal([['clients:read']]);
      expect(again.tokens.scope).to.equal('clients:read');

      // A role that allows more: the next authorization asks for the newly allowed scope only.
      await admin.patch(`/users/${person.id}`, { roles: ['viewer', 'developer'] });
      const more = await authorizeRecording(person, 'openid clients:read clients:write audit:read keys:write', { jar });
      expect(more.consentPages).to.deep.equal([['clients:write']]);
      expect((more.tokens.scope as string).split(' ')).to.have.members(['clients:read', 'clients:write', 'audit:read']);
    });

    it('asks nothing and grants nothing when the user may hold none of the scopes', async () => {
      const person = await newPerson(admin, []);
      const flow = await authorizeRecording(person, 'openid keys:write users:delete');
      expect(flow.consentPages).to.deep.equal([['openid']]);
      expect(flow.tokens.scope ?? '').to.equal('');
      // The access token carries no scope, so the Management API refuses everything.
      const res = await managementApi(server, flow.tokens.access_token as string).post('/keys/rotate', {});
      expect(res.status).to.equal(403);
    });

    it('leaves APIs that do not enforce roles to consent alone', async () => {
      const person = await newPerson(admin, []);
      const { consentPages, tokens } = await authorizeRecording(person, 'orders:read orders:write', { resource: ORDERS_API });
      expect(consentPages).to.deep.equal([['orders:read', 'orders:write']]);
      expect(tokens.scope).to.equal('orders:read orders:write');
    });
  });
});
