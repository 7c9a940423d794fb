import { expect } from 'chai';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, WEB, basic, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { authorize, AuthorizationError, CookieJar, expectLoginRefused, refresh } from '../support/code-flow.js';
import { auditOf, newKey, newPerson, newRole, signInTokens, tableText } from '../support/accounts.js';
import { useServer, webAppManages } from '../support/setup.js';

const NO_SUCH_USER = '00000000-0000-4000-8000-000000000000';

describe('management API: users', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  useServer({ admin: true, seed: webAppManages }, (s) => ({ server, admin, managementResource } = s));

  describe('authentication and permissions', () => {
    it('answers 401 with a Bearer challenge without a usable token', async () => {
      const serviceToken = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
      for (const token of [undefined, 'not-a-token', 'ak_live_000000000000000000000000000000000000000000000000', serviceToken.json.access_token as string]) {
        for (const call of [
          () => managementApi(server, token).get('/users'),
          () => managementApi(server, token).post('/users', { email: 'x@example.test', name: 'X' }),
          () => managementApi(server, token).get(`/users/${NO_SUCH_USER}`),
          () => managementApi(server, token).patch(`/users/${NO_SUCH_USER}`, { name: 'X' }),
          () => managementApi(server, token).delete(`/users/${NO_SUCH_USER}`),
        ]) {
          const res = await call();
          expect(res.status, `${token?.slice(0, 12)}: ${JSON.stringify(res.body)}`).to.equal(401);
          expect(res.body.error).to.equal('invalid_token');
          expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="gatehouse", error="invalid_token"/);
        }
      }
    });

    it('needs users:read to read, users:write to change and users:delete to delete (403 naming it)', async () => {
      const readerRole = await newRole(admin, ['users:read']);
      const writerRole = await newRole(admin, ['users:read', 'users:write']);
      const reader = managementApi(server, (await newKey(admin, (await newPerson(admin, [readerRole])).id, ['users:read'])).key);
      const writer = managementApi(server, (await newKey(admin, (await newPerson(admin, [writerRole])).id, ['users:read', 'users:write'])).key);
      const target = await newPerson(admin, []);

      expect((await reader.get('/users')).status).to.equal(200);
      expect((await reader.get(`/users/${target.id}`)).status).to.equal(200);
      for (const res of [
        await reader.post('/users', { email: 'r@example.test', name: 'R' }),
        await reader.patch(`/users/${target.id}`, { name: 'Changed' }),
      ]) {
        expect(res.status).to.equal(403);
        expect(res.body).to.include({ error: 'insufficient_scope', scope: 'users:write' });
        expect(res.headers.get('www-authenticate')).to.include('scope="users:write"');
      }
      const del = await writer.delete(`/users/${target.id}`);
      expect(del.status).to.equal(403);
      expect(del.body).to.include({ error: 'insufficient_scope', scope: 'users:delete' });
      expect((await writer.patch(`/users/${target.id}`, { name: 'Changed' })).status).to.equal(200);
      expect((await admin.get(`/users/${target.id}`)).body.name).to.equal('Changed');

      // A client-credentials token is bounded by what it was granted.
      const narrow = managementApi(server, await managementToken(server, ['clients:read']));
      expect((await narrow.get('/users')).body).to.include({ error: 'insufficient_scope', scope: 'users:read' });
      // Viewers and developers read users and change none.
      for (const role of ['viewer', 'developer']) {
        const person = await newPerson(admin, [role]);
        const asUser = managementApi(server, (await signInTokens(server, WEB, person, 'users:read users:write', { resource: managementResource })).access_token);
        expect((await asUser.get('/users')).status).to.equal(200);
        expect((await asUser.post('/users', { email: `${role}-made@example.test`, name: 'N' })).status).to.equal(403);
      }
    });
  });

  describe('create', () => {
    it('creates a user with roles and names the field of a validation error', async () => {
      const created = await admin.post('/users', { email: 'grace@example.test', name: 'Grace Hopper', password: 'a compiler pioneer', roles: ['viewer', 'developer', 'viewer'] });
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ email: 'grace@example.test', name: 'Grace Hopper', active: true });
      expect(created.body.id).to.match(/^[0-9a-f-]{36}$/);
      expect(created.body.roles).to.deep.equal(['developer', 'viewer']);
      expect(new Date(created.body.created_at).toISOString()).to.equal(created.body.created_at);
      expect(created.body).not.to.have.any.keys('password', 'password_hash');
      expect((await admin.get(`/users/${created.body.id}`)).body).to.deep.equal(created.body);

      for (const [body, field] of [
        [{ name: 'No email' }, 'email'],
        [{ email: 'not an email', name: 'X' }, 'email'],
        [{ email: 'x@example.test' }, 'name'],
        [{ email: 'x@example.test', name: '   ' }, 'name'],
        [{ email: 'x@example.test', name: 'X', password: 'short' }, 'password'],
        [{ email: 'x@example.test', name: 'X', roles: 'admin' }, 'roles'],
        [{ email: 'x@example.test', name: 'X', roles: ['wizard'] }, 'roles'],
        [{ email: 'x@example.test', name: 'X', admin: true }, undefined],
      ] as const) {
        const res = await admin.post('/users', body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error).to.equal('invalid_request');
        expect(res.body.field).to.equal(field);
        if (field) expect(res.body.error_description).to.include(field);
      }
      const wizard = await admin.post('/users', { email: 'x@example.test', name: 'X', roles: ['wizard'] });
      expect(wizard.body.error_description).to.include('wizard');
      // Emails are unique whatever their case.
      const dup = await admin.post('/users', { email: 'GRACE@Example.test', name: 'Copy' });
      expect(dup.status).to.equal(409);
      expect(dup.body.error).to.equal('conflict');
      expect((await admin.post('/users', 'not json' as never)).status).to.equal(400);
    });

    it('keeps only an argon2id hash: the password is never returned, logged in the audit or stored', async () => {
      const password = `secret-${Date.now()}-horse-battery`;
      const created = await admin.post('/users', { email: 'hash@example.test', name: 'Hash', password });
      expect(JSON.stringify(created.body)).not.to.include(password);
      const { rows } = await server.runtime.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [created.body.id]);
      expect(rows[0].password_hash).to.match(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      const changed = `changed-${password}`;
      await admin.patch(`/users/${created.body.id}`, { password: changed });
      for (const table of ['users', 'audit_events'] as const) {
        const text = await tableText(server, table);
        expect(text).not.to.include(password);
        expect(text).not.to.include(changed);
      }
      expect(JSON.stringify((await admin.get('/users?limit=200')).body)).not.to.match(/argon2|password/);
    });

    it('a user created without a password cannot sign in until one is set', async () => {
      const created = await admin.post('/users', { email: 'nopass@example.test', name: 'No Password', roles: [] });
      expect(created.status).to.equal(201);
      const person = { email: 'nopass@example.test', password: '' };
      // Whatever is typed, including nothing, is refused: there is no empty-password state.
      for (const password of ['', 'anything at all']) {
        let refused = false;
        await authorize(server, { client: WEB, scope: 'openid', user: { ...person, password } }).catch((err: Error) => {
          refused = /was refused/.test(err.message);
        });
        expect(refused, `password ${JSON.stringify(password)}`).to.equal(true);
      }
      expect((await admin.patch(`/users/${created.body.id}`, { password: 'now one is set' })).status).to.equal(200);
      const flow = await authorize(server, { client: WEB, scope: 'openid', user: { ...person, password: 'now one is set' } });
      expect(flow.code).to.be.a('string');
    });
  });

  describe('read', () => {
    it('lists users a page at a time with a cursor, and searches email and name', async () => {
      const tag = `list${Date.now()}`;
      for (let i = 0; i < 5; i++) {
        expect((await admin.post('/users', { email: `${tag}-${i}@example.test`, name: `Listed ${tag} ${i}` })).status).to.equal(201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await admin.get(`/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).to.equal(200);
        expect(res.body.data.length).to.be.at.most(2);
        seen.push(...res.body.data.map((u: { email: string }) => u.email));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).to.equal(3);
      expect(seen).to.deep.equal([0, 1, 2, 3, 4].map((i) => `${tag}-${i}@example.test`));
      const byName = await admin.get(`/users?q=${encodeURIComponent(`Listed ${tag} 3`)}`);
      expect(byName.body.data.map((u: { email: string }) => u.email)).to.deep.equal([`${tag}-3@example.test`]);
      // LIKE wildcards are searched for literally.
      expect((await admin.get('/users?q=%25')).body.data).to.deep.equal([]);
      expect((await admin.get('/users?limit=0')).body.field).to.equal('limit');
      expect((await admin.get('/users?cursor=bm9wZQ')).body.field).to.equal('cursor');
    });

    it('answers 404 for unknown or malformed ids', async () => {
      for (const id of [NO_SUCH_USER, 'not-a-uuid', "1' OR '1'='1"]) {
        const path = `/users/${encodeURIComponent(id)}`;
        for (const res of [await admin.get(path), await admin.patch(path, { name: 'X' }), await admin.delete(path)]) {
          expect(res.status).to.equal(404);
          expect(res.body.error).to.equal('not_found');
        }
      }
    });
  });

  describe('change and delete', () => {
    it('changes name, email, roles and password', async () => {
      const person = await newPerson(admin, ['viewer']);
      const other = await newPerson(admin, []);
      const renamed = await admin.patch(`/users/${person.id}`, { name: 'New Name', email: `NEW-${person.email}` });
      expect(renamed.status).to.equal(200);
      expect(renamed.body).to.include({ name: 'New Name', email: `NEW-${person.email}` });
      expect(Date.parse(renamed.body.updated_at)).to.be.at.least(Date.parse(renamed.body.created_at));
      // Another user's address is taken, whatever the case; your own in another case is fine.
      const taken = await admin.patch(`/users/${person.id}`, { email: other.email.toUpperCase() });
      expect(taken.status).to.equal(409);
      expect((await admin.patch(`/users/${person.id}`, { email: person.email })).status).to.equal(200);
      const unknownRole = await admin.patch(`/users/${person.id}`, { roles: ['admin', 'nope'] });
      expect(unknownRole.status).to.equal(400);
      expect(unknownRole.body.field).to.equal('roles');
      expect((await admin.get(`/users/${person.id}`)).body.roles).to.deep.equal(['viewer']);
      expect((await admin.patch(`/users/${person.id}`, { roles: ['developer'] })).body.roles).to.deep.equal(['developer']);
      expect((await admin.patch(`/users/${person.id}`, { roles: [] })).body.roles).to.deep.equal([]);
      expect((await admin.patch(`/users/${person.id}`, { active: 'no' })).body.field).to.equal('active');
      expect((await admin.patch(`/users/${person.id}`, { id: NO_SUCH_USER })).status).to.equal(400);

      await admin.patch(`/users/${person.id}`, { password: 'a brand new password' });
      const flow = await authorize(server, { client: WEB, scope: 'openid', user: { email: person.email, password: 'a brand new password' } });
      expect(flow.code).to.be.a('string');
    });

    it('gives one of two simultaneous changes to the same email a 409, not a 500', async () => {
      for (let round = 0; round < 5; round++) {
        const [a, b] = [await newPerson(admin, []), await newPerson(admin, [])];
        const email = `race-${round}-${Date.now()}@example.test`;
        const results = await Promise.all([admin.patch(`/users/${a.id}`, { email }), admin.patch(`/users/${b.id}`, { email: email.toUpperCase() })]);
        expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).to.deep.equal([200, 409]);
      }
    });

    it('deletes a user with their keys; nobody can delete themselves', async () => {
      // Another administrator stays: the only active one cannot be deleted (test/console/last-admin.test.ts).
      await newPerson(admin, ['admin']);
      const person = await newPerson(admin, ['admin']);
      const { key, id: keyId } = await newKey(admin, person.id, ['users:read', 'users:delete']);
      const asPerson = managementApi(server, key);
      const self = await asPerson.delete(`/users/${person.id}`);
      expect(self.status).to.equal(403);
      expect(self.body.error_description).to.match(/yourself/);
      expect((await admin.get(`/users/${person.id}`)).status).to.equal(200);

      expect((await admin.delete(`/users/${person.id}`)).status).to.equal(204);
      expect((await admin.get(`/users/${person.id}`)).status).to.equal(404);
      expect((await asPerson.get('/users')).status).to.equal(401);
      const { rows } = await server.runtime.db.query('SELECT 1 FROM api_keys WHERE id = $1', [keyId]);
      expect(rows).to.have.length(0);
      expect((await admin.delete(`/users/${person.id}`)).status).to.equal(404);
    });
  });

  describe('deactivation', () => {
    it('ends browser sessions, refresh tokens, grants and API keys at once; reactivating brings none back', async () => {
      const person = await newPerson(admin, ['viewer']);
      const { key } = await newKey(admin, person.id, ['users:read']);
      expect((await managementApi(server, key).get('/users')).status).to.equal(200);
      const jar = new CookieJar();
      const tokens = await signInTokens(server, WEB, person, 'openid offline_access orders:read', { jar });
      expect(tokens.refresh_token).to.be.a('string');
      // The browser session signs the person in without the login page...
      let pages: string[] = [];
      await authorize(server, { client: WEB, scope: 'openid orders:read', user: person, jar, onPage: async (p) => void pages.push(p) });
      expect(pages).not.to.include('login');

      const res = await admin.patch(`/users/${person.id}`, { active: false });
      expect(res.status).to.equal(200);
      expect(res.body.active).to.equal(false);

      expect((await managementApi(server, key).get('/users')).status).to.equal(401);
      const refreshed = await refresh(server, WEB, tokens.refresh_token!);
      expect(refreshed.status).to.equal(400);
      expect(refreshed.json.error).to.equal('invalid_grant');
      const { rows } = await server.runtime.db.query(
        `SELECT model FROM oidc_artifacts WHERE model IN ('Grant', 'RefreshToken', 'Session') AND payload->>'accountId' = $1`,
        [person.id],
      );
      expect(rows).to.deep.equal([]);
      // ...which is over: the login page again, where a deactivated account cannot sign in.
      pages = [];
      const refusedLogin = await authorize(server, { client: WEB, scope: 'openid orders:read', user: person, jar, onPage: async (p) => void pages.push(p) }).catch((err: Error) => err);
      expect(pages[0]).to.equal('login');
      expect((refusedLogin as Error).message).to.match(/was refused/);

      const back = await admin.patch(`/users/${person.id}`, { active: true });
      expect(back.body.active).to.equal(true);
      // The old refresh token stays revoked and the old browser session stays ended.
      expect((await refresh(server, WEB, tokens.refresh_token!)).json.error).to.equal('invalid_grant');
      pages = [];
      const again = await authorize(server, { client: WEB, scope: 'openid orders:read', user: person, jar, onPage: async (p) => void pages.push(p) });
      expect(pages[0]).to.equal('login');
      expect(again.code).to.be.a('string');
      // Keys are not revoked, only stopped while their owner is inactive.
      expect((await managementApi(server, key).get('/users')).status).to.equal(200);

      expect((await auditOf(server, 'user.deactivated', person.id))).to.have.length(1);
      expect((await auditOf(server, 'user.activated', person.id))).to.have.length(1);
    });

    it('refuses a deactivated user\'s token at the Management API and at the token endpoint', async () => {
      const person = await newPerson(admin, ['viewer']);
      const tokens = await signInTokens(server, WEB, person, 'users:read offline_access', { resource: managementResource });
      const asUser = managementApi(server, tokens.access_token);
      expect((await asUser.get('/users')).status).to.equal(200);
      await admin.patch(`/users/${person.id}`, { active: false });
      const refused = await asUser.get('/users');
      expect(refused.status).to.equal(401);
      expect(refused.body.error_description).to.match(/deactivated/);
      await authorize(server, { client: WEB, scope: 'openid', user: person }).then(
        () => expect.fail('a deactivated user signed in'),
        (err: Error) => expect(err).not.to.be.instanceOf(AuthorizationError),
      );
    });
  });

  describe('audit', () => {
    it('records each change with its actor, in the same transaction as the change', async () => {
      const created = await admin.post('/users', { email: 'audited@example.test', name: 'Audited', password: 'audited password', roles: ['viewer'] });
      const id = created.body.id as string;
      await admin.patch(`/users/${id}`, { name: 'Audited Again', password: 'another password' });
      await admin.patch(`/users/${id}`, { roles: ['developer'] });
      await admin.patch(`/users/${id}`, { active: false });
      await admin.delete(`/users/${id}`);

      const [made] = await auditOf(server, 'user.created', id);
      expect(made).to.deep.include({ actor_type: 'client', actor_id: ADMIN_CLIENT.id, target_type: 'user' });
      expect(made.ip).to.be.a('string');
      expect(made.data).to.deep.include({ email: 'audited@example.test', roles: ['viewer'] });
      const [updated] = await auditOf(server, 'user.updated', id);
      expect(updated.data).to.deep.equal({ fields: ['name', 'password'] });
      const [rolesChanged] = await auditOf(server, 'user.roles_changed', id);
      expect(rolesChanged.data).to.deep.equal({ before: ['viewer'], after: ['developer'] });
      expect(await auditOf(server, 'user.deactivated', id)).to.have.length(1);
      expect(await auditOf(server, 'user.deleted', id)).to.have.length(1);

      // A change that fails leaves no event: the event is written in the change's transaction.
      const before = (await auditOf(server, 'user.created')).length;
      expect((await admin.post('/users', { email: 'AUDITED2@example.test', name: 'A' })).status).to.equal(201);
      expect((await admin.post('/users', { email: 'audited2@example.test', name: 'A' })).status).to.equal(409);
      expect((await admin.post('/users', { email: 'audited3@example.test', name: 'A', roles: ['nope'] })).status).to.equal(400);
      expect((await auditOf(server, 'user.created')).length).to.equal(before + 1);
      const { rows } = await server.runtime.db.query("SELECT 1 FROM users WHERE email = 'audited3@example.test'");
      expect(rows).to.have.length(0);
    });

    it('audits sign-ins and failed sign-ins without the password or an unknown address', async () => {
      const person = await newPerson(admin, []);
      await authorize(server, { client: WEB, scope: 'openid', user: person });
      const ok = await auditOf(server, 'login.succeeded', person.id);
      expect(ok).to.have.length(1);
      expect(ok[0]).to.deep.include({ actor_type: 'user', actor_id: person.id });
      expect(ok[0].data).to.deep.equal({ client_id: WEB.id, amr: ['pwd'] });

      const wrong = 'wrong-password-do-not-log';
      await expectLoginRefused(authorize(server, { client: WEB, scope: 'openid', user: { email: person.email, password: wrong } }));
      const failed = await auditOf(server, 'login.failed', person.id);
      expect(failed).to.have.length(1);
      expect(failed[0].data).to.deep.include({ reason: 'bad_password', client_id: WEB.id });

      const unknown = `typo.${Date.now()}@mistyped.example`;
      await expectLoginRefused(authorize(server, { client: WEB, scope: 'openid', user: { email: unknown, password: wrong } }));
      const anonymous = (await auditOf(server, 'login.failed')).filter((e) => e.actor_type === 'anonymous');
      expect(anonymous.at(-1)!.data).to.deep.include({ reason: 'unknown_account', domain: 'mistyped.example' });
      const text = await tableText(server, 'audit_events');
      expect(text).not.to.include(wrong);
      expect(text).not.to.include(unknown);
    });
  });

  it('works for a user token at the Management API: roles bound it on every call', async () => {
    const role = await newRole(admin, ['users:read', 'users:write']);
    const person = await newPerson(admin, [role]);
    const asUser = managementApi(server, (await signInTokens(server, WEB, person, 'users:read users:write', { resource: managementResource })).access_token);
    const made = await asUser.post('/users', { email: `by-${person.email}`, name: 'Made by a user' });
    expect(made.status).to.equal(201);
    expect((await auditOf(server, 'user.created', made.body.id))[0]).to.deep.include({ actor_type: 'user', actor_id: person.id });
    await admin.patch(`/roles/${role}`, { permissions: ['users:read'] });
    expect((await asUser.post('/users', { email: `again-${person.email}`, name: 'Refused' })).status).to.equal(403);
    expect((await asUser.get('/users')).status).to.equal(200);
    // An orders token is not a Management API token.
    const orders = await signInTokens(server, WEB, person, 'orders:read', { resource: ORDERS_API });
    expect((await managementApi(server, orders.access_token).get('/users')).status).to.equal(401);
  });
});
