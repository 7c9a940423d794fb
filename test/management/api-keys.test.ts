import { expect } from 'chai';
import { type TestServer } from '../support/server.js';
import { WEB, consoleClient } from '../support/fixtures.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { auditOf, newKey, newPerson, newRole, signInTokens, tableText } from '../support/accounts.js';
import { parseCredential } from '../../server/crypto/credentials.js';
import { useServer, webAppManages } from '../support/setup.js';

const NO_SUCH_KEY = '00000000-0000-4000-8000-000000000000';
const DAY = 86400_000;

describe('management API: API keys', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  useServer({ admin: true, seed: webAppManages }, (s) => ({ server, admin, managementResource } = s));

  /** A developer and an API of their own key (developers manage their own keys). */
  async function developer() {
    const person = await newPerson(admin, ['developer']);
    // What the key may hand out is what it holds (the delegation rule): the developer role's own permissions.
    const { key, id } = await newKey(admin, person.id, ['api-keys:read', 'api-keys:write', 'clients:read', 'clients:write', 'audit:read']);
    return { person, keyId: id, api: managementApi(server, key) };
  }

  describe('authentication', () => {
    it('answers 401 on every endpoint without a usable credential', async () => {
      for (const token of [undefined, 'Bearer-less', 'ak_live_notevenclose', 'ak_live_000000000000000000000000000000000000000000000000']) {
        const api = managementApi(server, token);
        for (const res of [
          await api.get('/api-keys'),
          await api.post('/api-keys', { name: 'k', scopes: ['clients:read'] }),
          await api.get(`/api-keys/${NO_SUCH_KEY}`),
          await api.patch(`/api-keys/${NO_SUCH_KEY}`, { name: 'k' }),
          await api.delete(`/api-keys/${NO_SUCH_KEY}`),
        ]) {
          expect(res.status).to.equal(401);
          expect(res.body.error).to.equal('invalid_token');
        }
      }
    });

    it('refuses a key that is altered, disabled, expired, revoked, used from elsewhere or whose owner is inactive', async () => {
      const person = await newPerson(admin, ['viewer']);
      const check = async (key: string) => managementApi(server, key).get('/clients');

      const good = await newKey(admin, person.id, ['clients:read']);
      expect((await check(good.key)).status).to.equal(200);
      // One changed character breaks the checksum; a well-formed key with another secret is unknown.
      const flipped = good.key.slice(0, -1) + (good.key.endsWith('a') ? 'b' : 'a');
      expect((await check(flipped)).body.error_description).to.equal('the API key is not valid');
      const parsed = parseCredential(good.key)!;
      expect(parsed.prefix).to.be.a('string');

      const disabled = await newKey(admin, person.id, ['clients:read']);
      await admin.patch(`/api-keys/${disabled.id}`, { enabled: false });
      expect((await check(disabled.key)).body.error_description).to.equal('the API key is disabled');

      const expired = await newKey(admin, person.id, ['clients:read'], { expires_in: 3600 });
      expect((await check(expired.key)).status).to.equal(200);
      await server.writeBehindTheApi("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
      expect((await check(expired.key)).body.error_description).to.equal('the API key is expired');

      const revoked = await newKey(admin, person.id, ['clients:read']);
      await admin.delete(`/api-keys/${revoked.id}`);
      expect((await check(revoked.key)).body.error_description).to.equal('the API key is not valid');

      const elsewhere = await newKey(admin, person.id, ['clients:read'], { ip_allowlist: ['10.0.0.0/8'] });
      const refusedIp = await check(elsewhere.key);
      expect(refusedIp.status).to.equal(401);
      expect(refusedIp.body.error_description).to.equal('the API key is ip not allowed');
      expect((await auditOf(server, 'api_key.refused', elsewhere.id))[0].data).to.deep.equal({ reason: 'ip_not_allowed' });
      const here = await newKey(admin, person.id, ['clients:read'], { ip_allowlist: ['127.0.0.0/8', '::1/128'] });
      expect((await check(here.key)).status).to.equal(200);

      await admin.patch(`/users/${person.id}`, { active: false });
      for (const k of [good, here]) expect((await check(k.key)).status).to.equal(401);
      await admin.patch(`/users/${person.id}`, { active: true });
      expect((await check(good.key)).status).to.equal(200);
    });
  });

  describe('create', () => {
    it('makes a key for the caller, shows it once, and stores only its digest', async () => {
      const { person, api } = await developer();
      const made = await api.post('/api-keys', { name: 'CI deploys', scopes: ['clients:read', 'clients:write'], expires_in: '90d', environment: 'test', ip_allowlist: ['192.0.2.0/24'] });
      expect(made.status, JSON.stringify(made.body)).to.equal(201);
      expect(made.body).to.include({ name: 'CI deploys', user_id: person.id, environment: 'test', enabled: true, status: 'active', last_used_at: null, last_used_ip: null });
      expect(made.body.id).to.match(/^[0-9a-f-]{36}$/);
      expect(made.body.key).to.match(/^ak_test_[0-9A-Za-z]{50}$/);
      expect(made.body.key.startsWith(made.body.prefix)).to.equal(true);
      expect(made.body.prefix).to.match(/^ak_test_[0-9A-Za-z]{12}$/);
      expect(made.body.scopes).to.deep.equal(['clients:read', 'clients:write']);
      expect(made.body.ip_allowlist).to.deep.equal(['192.0.2.0/24']);
      expect(Math.abs(Date.parse(made.body.expires_at) - (Date.now() + 90 * DAY))).to.be.below(60_000);
      expect(new Date(made.body.created_at).toISOString()).to.equal(made.body.created_at);
      expect(made.body).not.to.have.any.keys('key_hash', 'hash', 'secret');

      // Shown once: never again, in any answer.
      const key = made.body.key as string;
      expect(JSON.stringify((await api.get(`/api-keys/${made.body.id}`)).body)).not.to.include(key.slice(20));
      expect(JSON.stringify((await api.get('/api-keys')).body)).not.to.include(key.slice(20));
      // Nowhere at rest: not in its row, the audit log or the artifact store; the row holds a digest.
      for (const table of ['api_keys', 'audit_events', 'oidc_artifacts'] as const) {
        const text = await tableText(server, table);
        expect(text).not.to.include(key);
        expect(text).not.to.include(key.slice(20, 52));
      }
      const { rows } = await server.runtime.db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [made.body.id]);
      expect(rows[0].key_hash).to.match(/^[A-Za-z0-9_-]{43}$/);

      // Other lifetimes; none at all by default; live by default.
      for (const [expiresIn, ms] of [[3600, 3600_000], ['12h', 12 * 3600_000], ['45m', 45 * 60_000], ['7200', 7200_000]] as const) {
        const k = await api.post('/api-keys', { name: 'k', scopes: ['clients:read'], expires_in: expiresIn });
        expect(Math.abs(Date.parse(k.body.expires_at) - (Date.now() + ms)), String(expiresIn)).to.be.below(60_000);
      }
      const forever = await api.post('/api-keys', { name: 'k', scopes: ['clients:read'] });
      expect(forever.body).to.include({ expires_at: null, environment: 'live' });
      expect(forever.body.key).to.match(/^ak_live_/);
    });

    it('names the field of a validation error', async () => {
      const { api } = await developer();
      for (const [body, field] of [
        [{ scopes: ['clients:read'] }, 'name'],
        [{ name: 'k' }, 'scopes'],
        [{ name: 'k', scopes: [] }, 'scopes'],
        [{ name: 'k', scopes: ['clients:fly'] }, 'scopes'],
        [{ name: 'k', scopes: ['openid'] }, 'scopes.0'],
        [{ name: 'k', scopes: ['clients:read'], expires_in: 'soon' }, 'expires_in'],
        [{ name: 'k', scopes: ['clients:read'], expires_in: -5 }, 'expires_in'],
        [{ name: 'k', scopes: ['clients:read'], expires_in: '99999999d' }, 'expires_in'],
        [{ name: 'k', scopes: ['clients:read'], environment: 'prod' }, 'environment'],
        [{ name: 'k', scopes: ['clients:read'], ip_allowlist: ['not-an-address'] }, 'ip_allowlist.0'],
        [{ name: 'k', scopes: ['clients:read'], ip_allowlist: '10.0.0.0/8' }, 'ip_allowlist'],
        [{ name: 'k', scopes: ['clients:read'], enabled: false }, undefined],
      ] as const) {
        const res = await api.post('/api-keys', body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error).to.equal('invalid_request');
        expect(res.body.field, JSON.stringify(body)).to.equal(field);
      }
      const unknown = await api.post('/api-keys', { name: 'k', scopes: ['clients:read', 'clients:fly'] });
      expect(unknown.body.error_description).to.include('clients:fly');
    });

    it('needs api-keys:write, and scopes within the roles of the owner and of the user making it (403)', async () => {
      const viewer = await newPerson(admin, ['viewer']);
      const asViewer = managementApi(server, (await newKey(admin, viewer.id, ['api-keys:read', 'clients:read'])).key);
      const noWrite = await asViewer.post('/api-keys', { name: 'k', scopes: ['clients:read'] });
      expect(noWrite.status).to.equal(403);
      expect(noWrite.body).to.include({ error: 'insufficient_scope', scope: 'api-keys:write' });
      // A key holding api-keys:write whose owner's roles do not allow it cannot write either.
      const role = await newRole(admin, ['api-keys:read', 'api-keys:write', 'clients:read']);
      const person = await newPerson(admin, [role]);
      const asPerson = managementApi(server, (await newKey(admin, person.id, ['api-keys:write', 'api-keys:read', 'clients:read'])).key);
      expect((await asPerson.post('/api-keys', { name: 'k', scopes: ['clients:read'] })).status).to.equal(201);
      const beyond = await asPerson.post('/api-keys', { name: 'k', scopes: ['clients:read', 'clients:write'] });
      expect(beyond.status).to.equal(403);
      expect(beyond.body.error).to.equal('insufficient_scope');
      expect(beyond.body.error_description).to.include('clients:write');
      await admin.patch(`/roles/${role}`, { permissions: ['api-keys:read', 'clients:read'] });
      expect((await asPerson.post('/api-keys', { name: 'k', scopes: ['clients:read'] })).body.scope).to.equal('api-keys:write');

      // An admin making a key for a viewer: the viewer's roles bound it.
      const forViewer = await admin.post('/api-keys', { name: 'k', scopes: ['clients:write'], user_id: viewer.id });
      expect(forViewer.status).to.equal(403);
      expect(forViewer.body.error_description).to.match(/owner/);
      // APIs that do not enforce roles are not bounded by roles.
      expect((await admin.post('/api-keys', { name: 'k', scopes: ['orders:read'], user_id: viewer.id })).status).to.equal(201);
    });

    it('makes keys for someone else only with users:write; a client token must name the user', async () => {
      const { api: asDev } = await developer();
      const other = await newPerson(admin, ['viewer']);
      const forOther = await asDev.post('/api-keys', { name: 'k', scopes: ['clients:read'], user_id: other.id });
      expect(forOther.status).to.equal(403);
      expect(forOther.body).to.include({ error: 'insufficient_scope', scope: 'users:write' });

      const clientOnly = managementApi(server, await managementToken(server, ['api-keys:write', 'api-keys:read']));
      const noUser = await clientOnly.post('/api-keys', { name: 'k', scopes: ['clients:read'] });
      expect(noUser.status).to.equal(403);
      expect(noUser.body.error_description).to.match(/belongs to a user.*user_id/);
      expect((await clientOnly.post('/api-keys', { name: 'k', scopes: ['clients:read'], user_id: other.id })).body.scope).to.equal('users:write');
      const made = await admin.post('/api-keys', { name: 'k', scopes: ['clients:read'], user_id: other.id });
      expect(made.status).to.equal(201);
      expect(made.body.user_id).to.equal(other.id);
      expect((await managementApi(server, made.body.key).get('/clients')).status).to.equal(200);

      for (const userId of ['not-a-uuid', NO_SUCH_KEY]) {
        const res = await admin.post('/api-keys', { name: 'k', scopes: ['clients:read'], user_id: userId });
        expect(res.status).to.equal(400);
        expect(res.body.field).to.equal('user_id');
      }
      const inactive = await newPerson(admin, ['viewer']);
      await admin.patch(`/users/${inactive.id}`, { active: false });
      expect((await admin.post('/api-keys', { name: 'k', scopes: ['clients:read'], user_id: inactive.id })).body.field).to.equal('user_id');
    });

    it('bounds a key for an API that enforces roles by the roles of the user who makes it too', async () => {
      const inventory = await admin.post('/apis', { identifier: 'https://inventory.example.test', name: 'Inventory', scopes: ['inventory:read'], enforce_roles: true });
      expect(inventory.status, JSON.stringify(inventory.body)).to.equal(201);
      const clerkRole = await newRole(admin, ['inventory:read']);
      const clerk = await newPerson(admin, [clerkRole]);
      // An admin without the inventory role cannot hand it out, even to someone who holds it.
      const boss = await newPerson(admin, ['admin']);
      // Signed in to the console, whose token holds the person's role permissions of other APIs.
      const asBoss = managementApi(server, (await signInTokens(server, consoleClient(server), boss, 'api-keys:write users:write', { resource: managementResource })).access_token);
      const refused = await asBoss.post('/api-keys', { name: 'k', scopes: ['inventory:read'], user_id: clerk.id });
      expect(refused.status).to.equal(403);
      expect(refused.body).to.include({ error: 'insufficient_scope', scope: 'inventory:read' });
      await admin.patch(`/users/${boss.id}`, { roles: ['admin', clerkRole] });
      expect((await asBoss.post('/api-keys', { name: 'k', scopes: ['inventory:read'], user_id: clerk.id })).status).to.equal(201);
      // And nobody gets it without the role.
      expect((await asBoss.post('/api-keys', { name: 'k', scopes: ['inventory:read'], user_id: (await newPerson(admin, [])).id })).status).to.equal(403);
    });
  });

  describe('read', () => {
    it('lists your own keys, newest first, a page at a time, with what was last used and never a secret', async () => {
      const { person, keyId, api } = await developer();
      const made: string[] = [keyId];
      for (let i = 0; i < 4; i++) made.push((await api.post('/api-keys', { name: `k${i}`, scopes: ['clients:read'] })).body.id);
      const someoneElse = await newPerson(admin, ['developer']);
      await newKey(admin, someoneElse.id, ['clients:read']);

      const seen: { id: string; user_id: string }[] = [];
      let cursor: string | null = null;
      do {
        const res = await api.get(`/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).to.equal(200);
        seen.push(...res.body.data);
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(seen.map((k) => k.id)).to.deep.equal([...made].reverse());
      expect(seen.every((k) => k.user_id === person.id)).to.equal(true);
      for (const k of seen) {
        expect(k).to.have.all.keys('id', 'name', 'prefix', 'user_id', 'scopes', 'environment', 'ip_allowlist', 'enabled', 'status', 'created_at', 'updated_at', 'expires_at', 'last_used_at', 'last_used_ip', 'previous_key_expires_at');
      }
      // The key this developer calls with has been used, from here.
      const self = seen.find((k) => k.id === keyId) as unknown as { last_used_at: string; last_used_ip: string };
      expect(Date.now() - Date.parse(self.last_used_at)).to.be.below(60_000);
      expect(self.last_used_ip).to.match(/^(127\.0\.0\.1|::1)$/);
      expect((await api.get('/api-keys?limit=0')).body.field).to.equal('limit');
      expect((await api.get('/api-keys?cursor=junk')).body.field).to.equal('cursor');
    });

    it("lists and reads someone else's keys only with users:write", async () => {
      const { person, api: asDev } = await developer();
      const other = await newPerson(admin, ['developer']);
      const theirs = await newKey(admin, other.id, ['clients:read']);

      const listed = await asDev.get(`/api-keys?user=${other.id}`);
      expect(listed.status).to.equal(403);
      expect(listed.body).to.include({ error: 'insufficient_scope', scope: 'users:write' });
      expect((await asDev.get(`/api-keys?user=${person.id}`)).status).to.equal(200);
      // Someone else's key is not found, rather than forbidden: its id tells nothing.
      expect((await asDev.get(`/api-keys/${theirs.id}`)).status).to.equal(404);

      const byAdmin = await admin.get(`/api-keys?user=${other.id}`);
      expect(byAdmin.body.data.map((k: { id: string }) => k.id)).to.deep.equal([theirs.id]);
      expect((await admin.get(`/api-keys/${theirs.id}`)).body).to.include({ id: theirs.id, user_id: other.id });
      expect((await admin.get('/api-keys?user=nobody')).body.field).to.equal('user');
      expect((await admin.get(`/api-keys?user=${other.id}&user=${person.id}`)).body.field).to.equal('user');
      // A client token (no user of its own) with users:write sees every key.
      const everyone = await admin.get('/api-keys?limit=200');
      expect(everyone.body.data.map((k: { user_id: string }) => k.user_id)).to.include.members([person.id, other.id]);
      // Without users:write and without a user, there is nothing that is "yours".
      const clientReader = managementApi(server, await managementToken(server, ['api-keys:read']));
      expect((await clientReader.get('/api-keys')).status).to.equal(403);
      // api-keys:read is needed at all.
      const noRead = managementApi(server, (await newKey(admin, person.id, ['clients:read'])).key);
      expect((await noRead.get('/api-keys')).body).to.include({ error: 'insufficient_scope', scope: 'api-keys:read' });
      expect((await noRead.get(`/api-keys/${theirs.id}`)).status).to.equal(403);
    });

    it('answers 404 for unknown and malformed ids', async () => {
      for (const id of [NO_SUCH_KEY, 'nope', '1 OR 1=1']) {
        const path = `/api-keys/${encodeURIComponent(id)}`;
        for (const res of [await admin.get(path), await admin.patch(path, { name: 'x' }), await admin.delete(path)]) {
          expect(res.status).to.equal(404);
          expect(res.body.error).to.equal('not_found');
        }
      }
    });
  });

  describe('change and revoke', () => {
    it('renames, rescopes, disables and re-enables your key, with effect at once', async () => {
      const { api } = await developer();
      const made = await api.post('/api-keys', { name: 'k', scopes: ['clients:read', 'audit:read'] });
      const asKey = managementApi(server, made.body.key);
      expect((await asKey.get('/audit-events')).status).to.equal(200);

      const rescoped = await api.patch(`/api-keys/${made.body.id}`, { name: 'renamed', scopes: ['clients:read'] });
      expect(rescoped.status).to.equal(200);
      expect(rescoped.body).to.include({ name: 'renamed', enabled: true });
      expect(rescoped.body.scopes).to.deep.equal(['clients:read']);
      expect(rescoped.body).not.to.have.property('key');
      expect((await asKey.get('/audit-events')).status).to.equal(403);
      expect((await asKey.get('/clients')).status).to.equal(200);

      const disabled = await api.patch(`/api-keys/${made.body.id}`, { enabled: false });
      expect(disabled.body).to.include({ enabled: false, status: 'disabled' });
      expect((await asKey.get('/clients')).status).to.equal(401);
      expect((await api.patch(`/api-keys/${made.body.id}`, { enabled: true })).body.status).to.equal('active');
      expect((await asKey.get('/clients')).status).to.equal(200);

      for (const [body, field] of [
        [{ scopes: ['clients:fly'] }, 'scopes'],
        [{ scopes: [] }, 'scopes'],
        [{ enabled: 'yes' }, 'enabled'],
        [{ name: '' }, 'name'],
        [{ key: 'ak_live_x' }, undefined],
      ] as const) {
        const res = await api.patch(`/api-keys/${made.body.id}`, body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.field).to.equal(field);
      }
      const beyond = await api.patch(`/api-keys/${made.body.id}`, { scopes: ['keys:write'] });
      expect(beyond.status).to.equal(403);
      expect((await api.get(`/api-keys/${made.body.id}`)).body.scopes).to.deep.equal(['clients:read']);
    });

    it('revokes a key: 204, and it stops working at once', async () => {
      const { api } = await developer();
      const made = await api.post('/api-keys', { name: 'k', scopes: ['clients:read'] });
      expect((await managementApi(server, made.body.key).get('/clients')).status).to.equal(200);
      const res = await api.delete(`/api-keys/${made.body.id}`);
      expect(res.status).to.equal(204);
      expect(res.body).to.equal(undefined);
      expect((await managementApi(server, made.body.key).get('/clients')).status).to.equal(401);
      expect((await api.get(`/api-keys/${made.body.id}`)).status).to.equal(404);
      expect((await api.delete(`/api-keys/${made.body.id}`)).status).to.equal(404);
    });

    it("changes and revokes someone else's key only with api-keys:write and users:write", async () => {
      const { api: asDev } = await developer();
      const other = await newPerson(admin, ['developer']);
      const theirs = await newKey(admin, other.id, ['clients:read']);
      expect((await asDev.patch(`/api-keys/${theirs.id}`, { enabled: false })).status).to.equal(404);
      expect((await asDev.delete(`/api-keys/${theirs.id}`)).status).to.equal(404);
      expect((await managementApi(server, theirs.key).get('/clients')).status).to.equal(200);

      // users:write without api-keys:write is not enough either.
      const userAdminRole = await newRole(admin, ['users:read', 'users:write', 'api-keys:read']);
      const userAdmin = await newPerson(admin, [userAdminRole]);
      const asUserAdmin = managementApi(server, (await newKey(admin, userAdmin.id, ['users:write', 'api-keys:read'])).key);
      expect((await asUserAdmin.get(`/api-keys/${theirs.id}`)).status).to.equal(200);
      const refused = await asUserAdmin.delete(`/api-keys/${theirs.id}`);
      expect(refused.status).to.equal(403);
      expect(refused.body.scope).to.equal('api-keys:write');

      expect((await admin.patch(`/api-keys/${theirs.id}`, { enabled: false })).body.enabled).to.equal(false);
      expect((await managementApi(server, theirs.key).get('/clients')).status).to.equal(401);
      expect((await admin.delete(`/api-keys/${theirs.id}`)).status).to.equal(204);
    });
  });

  it('audits creation, changes and revocation, never with the key', async () => {
    const { person, api } = await developer();
    const made = await api.post('/api-keys', { name: 'audited', scopes: ['clients:read'], environment: 'test' });
    await api.patch(`/api-keys/${made.body.id}`, { name: 'audited again', enabled: false });
    await api.delete(`/api-keys/${made.body.id}`);
    const [created] = await auditOf(server, 'api_key.created', made.body.id);
    expect(created).to.deep.include({ actor_type: 'api_key', target_type: 'api_key' });
    expect(created.data).to.deep.equal({ user_id: person.id, name: 'audited', scopes: ['clients:read'], environment: 'test' });
    const [updated] = await auditOf(server, 'api_key.updated', made.body.id);
    expect(updated.data).to.deep.equal({ fields: ['name', 'enabled'], scopes: ['clients:read'] });
    const [revoked] = await auditOf(server, 'api_key.revoked', made.body.id);
    expect(revoked.data).to.deep.equal({ user_id: person.id, name: 'audited again' });
    expect(await tableText(server, 'audit_events')).not.to.include(made.body.key);

    // An admin's change is audited as the admin.
    const forSomeone = await admin.post('/api-keys', { name: 'by admin', scopes: ['clients:read'], user_id: person.id });
    expect((await auditOf(server, 'api_key.created', forSomeone.body.id))[0]).to.deep.include({ actor_type: 'client', actor_id: ADMIN_CLIENT.id });
    // Refused requests leave no event.
    const before = (await auditOf(server, 'api_key.created')).length;
    await api.post('/api-keys', { name: 'k', scopes: ['keys:write'] });
    expect((await auditOf(server, 'api_key.created')).length).to.equal(before);
  });
});
