import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { type TestServer } from '../support/server.js';
import { BILLING_API, ORDERS_API, SERVICE, basic, jwksOf, postForm } from '../support/fixtures.js';
import { managementApi } from '../support/management.js';
import { auditOf, newKey, newPerson, newRole, tableText } from '../support/accounts.js';
import { useServer } from '../support/setup.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const GATEWAY = { id: 'api-gateway', secret: 'api-gateway-secret-0123456789abcdef' };
const PUBLIC_APP = { id: 'public-exchanger' };

/** RFC 8693: API keys traded for short-lived JWTs that resource servers check with the JWKS alone. */
describe('token exchange of API keys (RFC 8693)', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let managementResource: string;

  useServer(
    {
      admin: true,
      seed: (seed) =>
        seed.clients.push(
          // The exchanging client needs the grant type and nothing else: no scopes, no redirect URIs.
          { client_id: GATEWAY.id, client_secret: GATEWAY.secret, client_name: 'Gateway', grant_types: [TOKEN_EXCHANGE], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' } as never,
        ),
    },
    (s) => ({ server, admin, managementResource } = s),
  );
  before(async () => {
    // No API, CLI or seed file registers a public client with this grant (services/clients.ts,
    // checkShape); one written straight into the table shows the token endpoint refuses it anyway.
    const publicMetadata = { client_name: 'Public', grant_types: [TOKEN_EXCHANGE], redirect_uris: [], token_endpoint_auth_method: 'none' };
    expect((await admin.post('/clients', { ...publicMetadata, client_id: PUBLIC_APP.id })).status).to.equal(400);
    await server.writeBehindTheApi('INSERT INTO clients (client_id, metadata) VALUES ($1, $2)', [PUBLIC_APP.id, JSON.stringify(publicMetadata)]);
  });

  const exchange = (form: Record<string, string | string[]>, headers: Record<string, string> = { authorization: basic(GATEWAY.id, GATEWAY.secret) }) =>
    postForm(`${server.url}/oauth/token`, { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE, ...form }, headers);

  /** What a resource server does: fetch the JWKS once, then verify offline. */
  async function verifyAsResourceServer(token: string, audience: string) {
    const jwks = await jwksOf(server);
    return (await jwtVerify(token, createLocalJWKSet(jwks), { issuer: server.issuer, audience, typ: 'at+jwt' })).payload;
  }

  it('is advertised in discovery and accepted in client metadata', async () => {
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    expect(discovery.grant_types_supported).to.include(TOKEN_EXCHANGE);
    const { rows } = await server.runtime.db.query<{ metadata: { grant_types: string[] } }>('SELECT metadata FROM clients WHERE client_id = $1', [GATEWAY.id]);
    expect(rows[0].metadata.grant_types).to.deep.equal([TOKEN_EXCHANGE]);
  });

  it('trades a key for a short-lived JWT for one API that a resource server verifies with the JWKS alone', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read', 'orders:write']);
    const res = await exchange({ subject_token: key, resource: ORDERS_API, scope: 'orders:read' });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.json).to.include({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', scope: 'orders:read' });
    expect(res.json).not.to.have.property('refresh_token');
    expect(res.json.expires_in).to.be.within(1, 900);

    const claims = await verifyAsResourceServer(res.json.access_token as string, ORDERS_API);
    expect(claims).to.include({ sub: person.id, client_id: GATEWAY.id, scope: 'orders:read', aud: ORDERS_API });
    expect(claims.exp! - claims.iat!).to.equal(res.json.expires_in);
    expect(claims.jti).to.be.a('string');

    // Without scope: everything the key may do at that API.
    const all = await exchange({ subject_token: key, resource: ORDERS_API });
    expect(all.json.scope).to.equal('orders:read orders:write');
    // Nothing of the key or the token is kept anywhere.
    for (const table of ['oidc_artifacts', 'audit_events', 'api_keys'] as const) {
      const text = await tableText(server, table);
      expect(text).not.to.include(key);
      expect(text).not.to.include(res.json.access_token as string);
    }
  });

  it('finds the API from the scope or the key when resource is left out, and takes audience as its name', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read', 'billing:read']);
    const byScope = await exchange({ subject_token: key, scope: 'billing:read' });
    expect(byScope.status, byScope.text).to.equal(200);
    expect(decodeJwt(byScope.json.access_token as string).aud).to.equal(BILLING_API);
    const byAudience = await exchange({ subject_token: key, audience: ORDERS_API });
    expect(decodeJwt(byAudience.json.access_token as string)).to.include({ aud: ORDERS_API, scope: 'orders:read' });
    expect((await exchange({ subject_token: key, audience: ORDERS_API, resource: ORDERS_API })).status).to.equal(200);

    // The key reaches two APIs: which one is meant must be said.
    const ambiguous = await exchange({ subject_token: key });
    expect(ambiguous.status).to.equal(400);
    expect(ambiguous.json.error).to.equal('invalid_target');
    expect((await exchange({ subject_token: key, scope: 'orders:read billing:read' })).json.error).to.equal('invalid_target');
    expect((await exchange({ subject_token: key, resource: ORDERS_API, audience: BILLING_API })).json.error).to.equal('invalid_target');
    // One API reached: no need to say.
    const single = await newKey(admin, person.id, ['billing:read']);
    expect(decodeJwt((await exchange({ subject_token: single.key })).json.access_token as string).aud).to.equal(BILLING_API);
  });

  it('issues the requested scopes the key holds, and refuses when none is left (invalid_scope)', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read']);
    // RFC 6749 §3.3: a narrower grant than requested, and the response says which.
    const partial = await exchange({ subject_token: key, resource: ORDERS_API, scope: 'orders:read orders:write' });
    expect(partial.status).to.equal(200);
    expect(partial.json.scope).to.equal('orders:read');
    expect(decodeJwt(partial.json.access_token as string).scope).to.equal('orders:read');

    for (const [scope, resource] of [['orders:write', ORDERS_API], ['billing:read', ORDERS_API], ['nope:nope', ORDERS_API], ['orders:read billing:read', ORDERS_API]]) {
      const res = await exchange({ subject_token: key, resource, scope });
      expect(res.status, scope).to.equal(400);
      expect(res.json.error, scope).to.equal('invalid_scope');
    }
    // A key for one API cannot be traded for a token for another.
    expect((await exchange({ subject_token: key, resource: BILLING_API })).json.error).to.equal('invalid_scope');
  });

  it("bounds the token by the owner's roles at the moment of the exchange on APIs that enforce roles", async () => {
    const role = await newRole(admin, ['clients:read', 'audit:read']);
    const person = await newPerson(admin, [role]);
    const { key } = await newKey(admin, person.id, ['clients:read', 'audit:read']);
    const first = await exchange({ subject_token: key, resource: managementResource });
    expect(first.status, first.text).to.equal(200);
    expect(first.json.scope).to.equal('clients:read audit:read');
    // The exchanged token works at the Management API as the key's owner...
    const asExchanged = managementApi(server, first.json.access_token as string);
    expect((await asExchanged.get('/audit-events')).status).to.equal(200);

    await admin.patch(`/roles/${role}`, { permissions: ['clients:read'] });
    // ...which re-checks roles on every call, as for any user token,
    expect((await asExchanged.get('/audit-events')).status).to.equal(403);
    // and the next exchange carries only what is still allowed.
    const next = await exchange({ subject_token: key, resource: managementResource });
    expect(next.json.scope).to.equal('clients:read');
    expect((await exchange({ subject_token: key, resource: managementResource, scope: 'audit:read' })).json.error).to.equal('invalid_scope');
    await admin.patch(`/users/${person.id}`, { roles: [] });
    expect((await exchange({ subject_token: key, resource: managementResource })).json.error).to.equal('invalid_scope');
  });

  it('refuses a bad, disabled, expired, revoked or orphaned key with invalid_grant', async () => {
    const person = await newPerson(admin, []);
    const make = (extra: Record<string, unknown> = {}) => newKey(admin, person.id, ['orders:read'], extra);
    // The client learns invalid_grant and nothing more about the key; the reason is in the error's
    // detail, which oidc-provider hands to its grant.error event (logs), not to the client.
    const details: string[] = [];
    const onError = (_ctx: unknown, err: { error_detail?: string }) => void details.push(err.error_detail ?? '');
    server.runtime.provider.on('grant.error', onError);
    const refused = async (subject: string, why: RegExp) => {
      const res = await exchange({ subject_token: subject, resource: ORDERS_API });
      expect(res.status, subject).to.equal(400);
      expect(res.json, subject).to.deep.equal({ error: 'invalid_grant', error_description: 'grant request is invalid' });
      expect(details.pop(), subject).to.match(why);
    };
    const good = await make();
    await refused(good.key.slice(0, -1) + (good.key.endsWith('a') ? 'b' : 'a'), /not a valid API key/);
    await refused('ak_live_nothing', /not a valid API key/);
    await refused('eyJhbGciOiJub25lIn0.e30.', /not a valid API key/);
    const disabled = await make();
    await admin.patch(`/api-keys/${disabled.id}`, { enabled: false });
    await refused(disabled.key, /disabled/);
    const expired = await make({ expires_in: 3600 });
    await server.writeBehindTheApi("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
    await refused(expired.key, /expired/);
    const revoked = await make();
    await admin.delete(`/api-keys/${revoked.id}`);
    await refused(revoked.key, /not a valid API key/);
    const elsewhere = await make({ ip_allowlist: ['198.51.100.0/24'] });
    await refused(elsewhere.key, /ip not allowed/);
    expect((await auditOf(server, 'api_key.refused', elsewhere.id))).to.have.length(1);
    expect((await exchange({ subject_token: good.key, resource: ORDERS_API })).status).to.equal(200);
    await admin.patch(`/users/${person.id}`, { active: false });
    await refused(good.key, /owner inactive/);
    server.runtime.provider.off('grant.error', onError);
  });

  it('refuses malformed requests (invalid_request) and unknown APIs (invalid_target)', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read']);
    for (const [form, pattern] of [
      [{ resource: ORDERS_API }, /subject_token/],
      [{ subject_token: key, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }, /subject_token_type/],
      [{ subject_token: key, subject_token_type: '' }, /subject_token_type/],
      [{ subject_token: key, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, /can be issued/],
      [{ subject_token: key, actor_token: key, actor_token_type: ACCESS_TOKEN_TYPE }, /actor_token/],
      [{ subject_token: key, resource: [ORDERS_API, BILLING_API] }, /resource/],
      [{ subject_token: [key, key] }, /subject_token/],
    ] as const) {
      const res = await exchange(form as Record<string, string | string[]>);
      expect(res.status, JSON.stringify(form)).to.equal(400);
      expect(res.json.error, JSON.stringify(form)).to.equal('invalid_request');
      expect(res.json.error_description, JSON.stringify(form)).to.match(pattern);
    }
    for (const resource of ['https://nowhere.example.test', 'not a uri']) {
      const res = await exchange({ subject_token: key, resource });
      expect(res.status).to.equal(400);
      expect(res.json.error).to.equal('invalid_target');
    }
    const ok = await exchange({ subject_token: key, resource: ORDERS_API, requested_token_type: ACCESS_TOKEN_TYPE });
    expect(ok.status).to.equal(200);
  });

  it('is for authenticated clients registered for the grant type only', async () => {
    const person = await newPerson(admin, []);
    const { key } = await newKey(admin, person.id, ['orders:read']);
    const form = { subject_token: key, resource: ORDERS_API };
    const anonymous = await exchange(form, {});
    expect(anonymous.status).to.equal(400);
    expect(anonymous.json.error).to.equal('invalid_request');
    const wrongSecret = await exchange(form, { authorization: basic(GATEWAY.id, 'not-the-gateway-secret') });
    expect(wrongSecret.status).to.equal(401);
    expect(wrongSecret.json.error).to.equal('invalid_client');
    // A client without the grant type (oidc-provider says invalid_request for that).
    const notRegistered = await exchange(form, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(notRegistered.status).to.equal(400);
    expect(notRegistered.json.error_description).to.match(/grant type is not allowed/);
    // A public client is anyone who copies its client_id.
    const publicClient = await exchange({ ...form, client_id: PUBLIC_APP.id }, {});
    expect(publicClient.status).to.equal(400);
    expect(publicClient.json.error).to.equal('unauthorized_client');
    // The exchanging client is cut off as soon as it is revoked.
    const gateway = await admin.post('/clients', { client_name: 'Short-lived gateway', type: 'service', grant_types: [TOKEN_EXCHANGE] });
    expect(gateway.status, JSON.stringify(gateway.body)).to.equal(201);
    const asGateway = { authorization: basic(gateway.body.client_id, gateway.body.client_secret) };
    expect((await exchange(form, asGateway)).status).to.equal(200);
    await admin.delete(`/clients/${gateway.body.client_id}`);
    expect((await exchange(form, asGateway)).json.error).to.equal('invalid_client');
  });

  it('never issues a token that outlives the key', async () => {
    const person = await newPerson(admin, []);
    const { key, id } = await newKey(admin, person.id, ['orders:read'], { expires_in: 3600 });
    await server.writeBehindTheApi("UPDATE api_keys SET expires_at = now() + interval '90 seconds' WHERE id = $1", [id]);
    const res = await exchange({ subject_token: key, resource: ORDERS_API });
    expect(res.status).to.equal(200);
    expect(res.json.expires_in).to.be.within(60, 90); // 90 s left on the key, less however long this machine took
    const claims = decodeJwt(res.json.access_token as string);
    const { rows } = await server.runtime.db.query<{ expires_at: Date }>('SELECT expires_at FROM api_keys WHERE id = $1', [id]);
    expect(claims.exp! * 1000).to.be.at.most(new Date(rows[0].expires_at).getTime());
  });
});
