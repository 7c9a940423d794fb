import { expect } from 'chai';
import { type TestServer } from '../support/server.js';
import { BILLING_API, ORDERS_API, SERVICE, SPA, WEB, basic, postForm } from '../support/fixtures.js';
import { managementApi } from '../support/management.js';
import { newKey, newPerson, newRole, signInTokens } from '../support/accounts.js';
import { useServer, webAppManages } from '../support/setup.js';

/** RFC 7662 introspection of API keys (and of our JWTs) by resource servers. */
describe('introspection of API keys and JWT access tokens (RFC 7662)', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  useServer({ admin: true, seed: webAppManages }, (s) => ({ server, admin, managementResource } = s));
  before(async () => {
    // The Orders service also serves the Management API here, so it may introspect its tokens and keys.
    const builtin = (await admin.get('/apis?limit=200')).body.data.find((a: { identifier: string }) => a.identifier === managementResource);
    expect((await admin.patch(`/apis/${builtin.id}`, { resource_servers: [SERVICE.id] })).status).to.equal(200);
  });

  /** What the Orders resource server (a confidential client) learns about a token. */
  const introspect = (token: string, headers: Record<string, string> = { authorization: basic(SERVICE.id, SERVICE.secret) }, extra: Record<string, string> = {}) =>
    postForm(`${server.url}/oauth/introspect`, { token, ...extra }, headers);

  it('describes a live key: its scopes, owner, key id, audience and lifetime', async () => {
    const person = await newPerson(admin, []);
    const { key, id } = await newKey(admin, person.id, ['orders:read', 'billing:read'], { expires_in: '30d' });
    const res = await introspect(key);
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const { rows } = await server.runtime.db.query<{ created_at: Date; expires_at: Date }>('SELECT created_at, expires_at FROM api_keys WHERE id = $1', [id]);
    expect(res.json).to.deep.equal({
      active: true,
      token_type: 'api_key',
      // Scopes of every API the key reaches, each API's in turn (ordered by identifier).
      scope: 'billing:read orders:read',
      sub: person.id,
      client_id: `api_key:${id}`,
      aud: [BILLING_API, ORDERS_API],
      iss: server.issuer,
      iat: Math.floor(new Date(rows[0].created_at).getTime() / 1000),
      exp: Math.floor(new Date(rows[0].expires_at).getTime() / 1000),
    });
    // One API: aud is a string; no expiry: no exp.
    const single = await newKey(admin, person.id, ['orders:write']);
    const one = (await introspect(single.key)).json;
    expect(one).to.include({ active: true, scope: 'orders:write', aud: ORDERS_API });
    expect(one).not.to.have.property('exp');
    // The hint does not matter: a key is recognised by its shape.
    expect((await introspect(single.key, undefined, { token_type_hint: 'refresh_token' })).json.active).to.equal(true);
  });

  it("carries only what the owner's roles allow now on APIs that enforce roles", async () => {
    const role = await newRole(admin, ['clients:read', 'audit:read']);
    const person = await newPerson(admin, [role]);
    const { key } = await newKey(admin, person.id, ['clients:read', 'audit:read', 'orders:read']);
    const scopes = async () => {
      const res = await introspect(key);
      return res.json.active ? { scope: (res.json.scope as string).split(' ').sort(), aud: res.json.aud } : { active: false };
    };
    expect(await scopes()).to.deep.equal({ scope: ['audit:read', 'clients:read', 'orders:read'], aud: [managementResource, ORDERS_API].sort() });
    await admin.patch(`/roles/${role}`, { permissions: ['clients:read'] });
    expect(await scopes()).to.deep.equal({ scope: ['clients:read', 'orders:read'], aud: [managementResource, ORDERS_API].sort() });
    // Orders does not enforce roles: the key keeps orders:read with no role at all.
    await admin.patch(`/users/${person.id}`, { roles: [] });
    expect(await scopes()).to.deep.equal({ scope: ['orders:read'], aud: ORDERS_API });

    // A key left with nothing it may do is not active.
    const managementOnly = await newKey(admin, (await newPerson(admin, [role])).id, ['clients:read']);
    expect((await introspect(managementOnly.key)).json.active).to.equal(true);
    await admin.patch(`/roles/${role}`, { permissions: ['apis:read'] });
    expect((await introspect(managementOnly.key)).json).to.deep.equal({ active: false });
  });

  it('answers {active:false} for keys that are altered, unknown, disabled, expired, revoked, restricted elsewhere or whose owner is inactive', async () => {
    const person = await newPerson(admin, []);
    const make = (extra: Record<string, unknown> = {}) => newKey(admin, person.id, ['orders:read'], extra);
    const inactive = async (key: string, why: string) => {
      const res = await introspect(key);
      expect(res.status, why).to.equal(200);
      expect(res.json, why).to.deep.equal({ active: false });
    };

    const good = await make();
    await inactive(good.key.slice(0, -1) + (good.key.endsWith('a') ? 'b' : 'a'), 'altered');
    await inactive('ak_live_000000000000000000000000000000000000000000000000', 'unknown');
    await inactive('ak_live_short', 'malformed');
    await inactive('some opaque thing', 'not a key');

    const disabled = await make();
    await admin.patch(`/api-keys/${disabled.id}`, { enabled: false });
    await inactive(disabled.key, 'disabled');

    const expired = await make({ expires_in: 3600 });
    await server.writeBehindTheApi("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
    await inactive(expired.key, 'expired');

    const revoked = await make();
    await admin.delete(`/api-keys/${revoked.id}`);
    await inactive(revoked.key, 'revoked');

    // The allowlist is checked against whoever asks, here the resource server (see introspection.ts).
    const elsewhere = await make({ ip_allowlist: ['203.0.113.0/24'] });
    await inactive(elsewhere.key, 'ip not allowed');

    expect((await introspect(good.key)).json.active).to.equal(true);
    await admin.patch(`/users/${person.id}`, { active: false });
    await inactive(good.key, 'owner inactive');
  });

  it('tells only authenticated confidential clients (RFC 7662 §2.1)', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read']);
    // No credentials at all is a malformed request to oidc-provider; wrong ones are invalid_client.
    const anonymous = await introspect(key, {});
    expect(anonymous.status).to.equal(400);
    expect(anonymous.json).to.deep.include({ error: 'invalid_request', error_description: 'no client authentication mechanism provided' });
    const wrongSecret = await introspect(key, { authorization: basic(SERVICE.id, 'not-the-secret-at-all') });
    expect(wrongSecret.status).to.equal(401);
    expect(wrongSecret.json.error).to.equal('invalid_client');
    expect(JSON.stringify(wrongSecret.json)).not.to.include('active');
    // A public client proves nothing about itself: it learns nothing.
    const publicClient = await introspect(key, {}, { client_id: SPA.id });
    expect(publicClient.status).to.equal(200);
    expect(publicClient.json).to.deep.equal({ active: false });
    expect((await introspect(key)).json.active).to.equal(true);
  });

  it("describes our JWT access tokens, with a user's Management API scopes bounded by their roles now", async () => {
    const role = await newRole(admin, ['clients:read', 'audit:read']);
    const person = await newPerson(admin, [role]);
    const tokens = await signInTokens(server, WEB, person, 'offline_access clients:read audit:read', { resource: managementResource });
    const first = await introspect(tokens.access_token);
    expect(first.json).to.include({ active: true, token_type: 'Bearer', sub: person.id, client_id: WEB.id, aud: managementResource, scope: 'clients:read audit:read' });
    await admin.patch(`/roles/${role}`, { permissions: ['clients:read'] });
    expect((await introspect(tokens.access_token)).json.scope).to.equal('clients:read');
    await admin.patch(`/roles/${role}`, { permissions: ['apis:read'] });
    expect((await introspect(tokens.access_token)).json).to.deep.equal({ active: false });

    // Orders does not enforce roles; the token lives until the user is deactivated.
    const orders = await signInTokens(server, WEB, person, 'orders:read', { resource: ORDERS_API });
    expect((await introspect(orders.access_token)).json).to.include({ active: true, scope: 'orders:read', aud: ORDERS_API });
    // Tokens oidc-provider stores are still its to answer: a refresh token to the client it belongs to.
    expect((await introspect(tokens.refresh_token!, { authorization: basic(WEB.id, WEB.secret) })).json).to.include({ active: true, client_id: WEB.id });
    await admin.patch(`/users/${person.id}`, { active: false });
    expect((await introspect(orders.access_token)).json).to.deep.equal({ active: false });
    // A JWT signed by someone else is not ours.
    const [h, p] = orders.access_token.split('.');
    expect((await introspect(`${h}.${p}.${'A'.repeat(86)}`)).json).to.deep.equal({ active: false });
  });
});
