import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, basic, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, managementApi, managementToken } from '../support/management.js';
import { useServer } from '../support/setup.js';

interface AuditEvent {
  type: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  data: Record<string, unknown>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('management API: clients and their secrets', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));

  /**
   * Time moved, not waited for: a row's expires_at (a client's or a secret's) is set to a second
   * ago, as if its lifetime had run out, so no test depends on how fast the machine is.
   */
  async function moveIntoThePast(table: 'clients' | 'client_secrets', column: 'client_id' | 'id', value: string) {
    const { rowCount } = await server.writeBehindTheApi(`UPDATE ${table} SET expires_at = now() - interval '1 second' WHERE ${column} = $1 AND expires_at IS NOT NULL`, [value]);
    expect(rowCount, `${table} ${value} has an expiry to move`).to.equal(1);
  }

  const token = (id: string, secret: string, form: Record<string, string> = {}) =>
    postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });

  async function create(body: Record<string, unknown>) {
    const res = await api.post('/clients', { client_name: 'Test credential', ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; client_id: string; client_secret?: string } & Record<string, unknown>;
  }
  const service = (extra: Record<string, unknown> = {}) => create({ type: 'service', scope: 'orders:read', ...extra });

  async function events(type: string, target: string): Promise<AuditEvent[]> {
    const res = await api.get(`/audit-events?type=${type}&limit=200`);
    expect(res.status).to.equal(200);
    return (res.body.data as AuditEvent[]).filter((e) => e.target?.id === target);
  }

  it('answers 401 without a token or with a bad one, and 403 naming the missing permission, on every route (RFC 6750 §3)', async () => {
    const secretId = '00000000-0000-4000-8000-000000000000';
    const routes: [string, string, string][] = [
      ['GET', '/clients', 'clients:read'],
      ['POST', '/clients', 'clients:write'],
      ['GET', `/clients/${SERVICE.id}`, 'clients:read'],
      ['PATCH', `/clients/${SERVICE.id}`, 'clients:write'],
      ['DELETE', `/clients/${SERVICE.id}`, 'clients:write'],
      ['GET', `/clients/${SERVICE.id}/secrets`, 'clients:read'],
      ['POST', `/clients/${SERVICE.id}/secrets`, 'clients:write'],
      ['DELETE', `/clients/${SERVICE.id}/secrets/${secretId}`, 'clients:write'],
    ];
    // A genuine access token of this server, but for another API (aud = ORDERS_API): not for us.
    const ordersToken = (await token(SERVICE.id, SERVICE.secret)).json.access_token as string;
    const unauthenticated = [undefined, 'not-a-token', ordersToken, 'ak_live_000000000000000000000000000000000000000000000000'];
    const readOnly = managementApi(server, await managementToken(server, ['clients:read']));
    const apisOnly = managementApi(server, await managementToken(server, ['apis:read', 'apis:write']));
    const call = (client: ReturnType<typeof managementApi>, method: string, path: string) =>
      method === 'GET' ? client.get(path) : method === 'DELETE' ? client.delete(path) : method === 'POST' ? client.post(path, {}) : client.patch(path, { client_name: 'changed' });

    for (const [method, path, scope] of routes) {
      for (const bearer of unauthenticated) {
        const res = await call(managementApi(server, bearer), method, path);
        expect(res.status, `${method} ${path} with ${bearer?.slice(0, 12)}`).to.equal(401);
        expect(res.body.error).to.equal('invalid_token');
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer .*error="invalid_token"/);
      }
      const lacking = scope === 'clients:read' ? apisOnly : readOnly;
      const denied = await call(lacking, method, path);
      expect(denied.status, `${method} ${path}`).to.equal(403);
      expect(denied.body).to.include({ error: 'insufficient_scope', scope });
      expect(denied.headers.get('www-authenticate')).to.equal(`Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"`);
    }
    // None of the refused calls changed anything.
    const seeded = await api.get(`/clients/${SERVICE.id}`);
    expect(seeded.status).to.equal(200);
    expect(seeded.body.client_name).to.equal('Orders sync');
    expect((await token(SERVICE.id, SERVICE.secret)).status).to.equal(200);
  });

  it('creates a service credential whose secret is shown once, stored only as a digest, and works at /oauth/token', async () => {
    const created = await service({ client_name: 'Billing sync', environment: 'test' });
    const secret = created.client_secret!;
    expect(secret).to.match(/^sk_test_[0-9A-Za-z]{50}$/);
    expect(created.client_id).to.match(/^cl_test_[0-9a-f]{24}$/);
    expect(created).to.include({ type: 'service', environment: 'test', enabled: true, status: 'active', scope: 'orders:read', token_endpoint_auth_method: 'client_secret_basic' });
    expect(created.grant_types).to.deep.equal(['client_credentials']);
    expect(created.id).to.match(/^[0-9a-f-]{36}$/);
    for (const field of ['created_at', 'updated_at']) expect(new Date(created[field] as string).toISOString()).to.equal(created[field]);
    expect(created).to.include({ expires_at: null, last_used_at: null });
    expect(created.ip_allowlist).to.deep.equal([]);

    // Never shown again: not in the list, the client, or its secrets.
    const listed = await api.get('/clients?q=Billing');
    expect(listed.body.data.map((c: { client_id: string }) => c.client_id)).to.deep.equal([created.client_id]);
    const one = await api.get(`/clients/${created.client_id}`);
    const secrets = await api.get(`/clients/${created.client_id}/secrets`);
    for (const body of [listed.body, one.body, secrets.body]) expect(JSON.stringify(body)).not.to.include(secret.slice(20));
    expect(one.body).not.to.have.property('client_secret');
    expect(secrets.body.data).to.have.length(1);
    expect(secrets.body.data[0]).to.include({ prefix: secret.slice(0, 20), hint: secret.slice(16, 20), expires_at: null });

    // Stored: the SHA-256 digest and the non-secret lookup head, nothing from which the secret follows.
    const { rows } = await server.runtime.db.query<{ secret_hash: string; prefix: string; row: string }>(
      'SELECT secret_hash, prefix, row_to_json(s)::text AS row FROM client_secrets s WHERE client_id = $1',
      [created.client_id],
    );
    expect(rows).to.have.length(1);
    expect(rows[0].secret_hash).to.equal(sha256(secret));
    expect(rows[0].prefix).to.equal(secret.slice(0, 20));
    expect(rows[0].row).not.to.include(secret.slice(20));

    const res = await token(created.client_id, secret);
    expect(res.status).to.equal(200);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(res.json.access_token as string, jwks, { audience: ORDERS_API, issuer: server.issuer });
    expect(payload).to.include({ scope: 'orders:read', client_id: created.client_id, sub: created.client_id });
    expect((await api.get(`/clients/${created.client_id}`)).body.last_used_at).to.be.a('string');
    expect((await api.get(`/clients/${created.client_id}/secrets`)).body.data[0].last_used_at).to.be.a('string');
  });

  it('fills in settings per type; public clients get no secret', async () => {
    const web = await create({ type: 'web', redirect_uris: ['https://app.example.test/callback'], scope: 'openid orders:read' });
    expect(web).to.include({ type: 'web', token_endpoint_auth_method: 'client_secret_basic' });
    expect(web.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
    expect(web.client_secret).to.match(/^sk_live_/);

    const spa = await create({ type: 'spa', redirect_uris: ['https://spa.example.test/'] });
    expect(spa).to.include({ type: 'spa', token_endpoint_auth_method: 'none' });
    expect(spa).not.to.have.property('client_secret');
    const rotate = await api.post(`/clients/${spa.client_id}/secrets`, {});
    expect(rotate.status).to.equal(400);
    expect((await api.get(`/clients/${spa.client_id}/secrets`)).body.data).to.deep.equal([]);

    // RFC 8252 §7: a private-use scheme or a loopback http redirect is for native apps.
    const native = await create({ type: 'native', redirect_uris: ['com.example.app:/callback', 'http://127.0.0.1/callback', 'http://[::1]/cb'] });
    expect(native).to.include({ type: 'native', token_endpoint_auth_method: 'none' });
    expect(native).not.to.have.property('client_secret');

    // Without a type, the grant types decide what it is.
    expect((await create({ grant_types: ['authorization_code'], redirect_uris: ['https://a.example.test/cb'] })).type).to.equal('web');
    expect((await create({ grant_types: ['client_credentials'] })).type).to.equal('service');

    // A client_id of one's own choosing, once.
    const chosen = await service({ client_id: 'reporting-job' });
    expect(chosen.client_id).to.equal('reporting-job');
    const again = await api.post('/clients', { client_id: 'reporting-job', client_name: 'again', type: 'service' });
    expect(again.status).to.equal(409);
    expect(again.body.error).to.equal('conflict');
  });

  it('names the field that fails validation', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'service' }, 'client_name'],
      [{ client_name: '   ', type: 'service' }, 'client_name'],
      [{ client_name: 'x', type: 'robot' }, 'type'],
      [{ client_name: 'x', type: 'service', scope: 'nothing:here' }, 'scope'],
      [{ client_name: 'x', type: 'service', scope: 'orders:read "quoted"' }, 'scope'],
      [{ client_name: 'x', type: 'service', ip_allowlist: ['10.0.0.0/33'] }, 'ip_allowlist.0'],
      [{ client_name: 'x', type: 'service', ip_allowlist: ['127.0.0.1', 'office'] }, 'ip_allowlist.1'],
      [{ client_name: 'x', type: 'web' }, 'redirect_uris'],
      [{ client_name: 'x', type: 'web', redirect_uris: ['not a uri'] }, 'redirect_uris.0'],
      [{ client_name: 'x', type: 'web', redirect_uris: ['https://a.example.test/cb#frag'] }, 'redirect_uris.0'],
      [{ client_name: 'x', type: 'service', expires_in: 'soon' }, 'expires_in'],
      [{ client_name: 'x', type: 'service', expires_in: '0d' }, 'expires_in'],
      [{ client_name: 'x', type: 'service', expires_in: -5 }, 'expires_in'],
      [{ client_name: 'x', type: 'service', expires_in: '99999999999d' }, 'expires_in'],
      [{ client_name: 'x', type: 'service', environment: 'staging' }, 'environment'],
      [{ client_name: 'x', type: 'service', grant_types: ['implicit'] }, 'grant_types.0'],
      [{ client_name: 'x', type: 'service', token_endpoint_auth_method: 'client_secret_jwt' }, 'token_endpoint_auth_method'],
      [{ client_name: 'x', type: 'service', enabled: 'yes' }, 'enabled'],
      [{ client_name: 'x', type: 'service', client_id: 'a b' }, 'client_id'],
      [{ client_name: 'x', type: 'service', scope: 'openid' }, 'scope'],
      [{ client_name: 'x', grant_types: ['refresh_token'] }, 'grant_types'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/clients', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      expect(res.body.field, JSON.stringify(res.body)).to.equal(field);
      expect(res.body.error_description).to.include(field);
    }
    const unknown = await api.post('/clients', { client_name: 'x', type: 'service', surprise: true });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error_description).to.include('surprise');
    const notJson = await fetch(`${server.url}/api/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await managementToken(server)}`, 'content-type': 'text/plain' },
      body: 'client_name=x',
    });
    expect(notJson.status).to.equal(415);
    for (const path of ['/clients?limit=0', '/clients?limit=201', '/clients?cursor=garbage']) {
      const res = await api.get(path);
      expect(res.status, path).to.equal(400);
      expect(res.body.field).to.equal(path.includes('limit') ? 'limit' : 'cursor');
    }
    // A cursor that decodes but was not ours (a bad timestamp) is a 400 too, not a failed query.
    const forged = Buffer.from(JSON.stringify({ c: 'yesterday', i: 'x' })).toString('base64url');
    expect((await api.get(`/clients?cursor=${forged}`)).status).to.equal(400);
    expect((await api.get('/clients/nobody')).status).to.equal(404);
    expect((await api.patch('/clients/nobody', { client_name: 'x' })).status).to.equal(404);
    expect((await api.delete('/clients/nobody')).status).to.equal(404);
    expect((await api.get('/clients/nobody/secrets')).status).to.equal(404);
    expect((await api.post('/clients/nobody/secrets', {})).status).to.equal(404);
  });

  it('refuses settings that contradict the type, or that oidc-provider would refuse when it loads the client', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'spa', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://a.example.test/cb'] }, 'token_endpoint_auth_method'],
      [{ type: 'native', token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['com.example:/cb'] }, 'token_endpoint_auth_method'],
      [{ type: 'web', token_endpoint_auth_method: 'none', redirect_uris: ['https://a.example.test/cb'] }, 'token_endpoint_auth_method'],
      [{ type: 'web', grant_types: ['client_credentials'] }, 'grant_types'],
      [{ type: 'service', grant_types: ['authorization_code'], redirect_uris: ['https://a.example.test/cb'] }, 'grant_types'],
      [{ type: 'spa', grant_types: ['client_credentials'], redirect_uris: ['https://a.example.test/cb'] }, 'grant_types'],
      [{ type: 'web', redirect_uris: ['com.example.app:/callback'] }, 'redirect_uris.0'],
      [{ type: 'service', redirect_uris: ['com.example.app:/callback'] }, 'redirect_uris.0'],
      [{ type: 'native', redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris.0'],
      [{ type: 'native', redirect_uris: ['http://app.example.test/cb'] }, 'redirect_uris.0'],
      [{ type: 'native', redirect_uris: ['https://localhost/cb'] }, 'redirect_uris.0'],
      [{ type: 'web', redirect_uris: ['https://a.example.test/cb'], post_logout_redirect_uris: ['https://a.example.test/', 'ftp://a.example.test/'] }, 'post_logout_redirect_uris.1'],
    ];
    for (const [body, field] of cases) {
      const res = await api.post('/clients', { client_name: 'x', ...body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.field, JSON.stringify(res.body)).to.equal(field);
    }
    // What is accepted, oidc-provider accepts too: the clients can be used at once.
    const web = await create({ type: 'web', redirect_uris: ['https://a.example.test/cb'], scope: 'orders:read' });
    const authorizeUrl = new URL(`${server.url}/oauth/authorize`);
    authorizeUrl.search = new URLSearchParams({ client_id: web.client_id, response_type: 'code', redirect_uri: 'https://a.example.test/cb', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    const started = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(started.status).to.equal(303);
    expect(started.headers.get('location')).to.match(/\/interaction\//);
  });

  it('applies a PATCH at the next token request: scope, name, IP allowlist, expiry and auth method', async () => {
    const c = await service({ client_name: 'Scope change' });
    const secret = c.client_secret!;
    expect((await token(c.client_id, secret, { scope: 'orders:write' })).json.error).to.equal('invalid_scope');

    const patched = await api.patch(`/clients/${c.client_id}`, { scope: 'orders:read orders:write', client_name: 'Scope changed' });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ scope: 'orders:read orders:write', client_name: 'Scope changed' });
    expect(Date.parse(patched.body.updated_at)).to.be.at.least(Date.parse(c.updated_at as string));
    const widened = await token(c.client_id, secret, { scope: 'orders:write' });
    expect(widened.status).to.equal(200);
    expect(widened.json.scope).to.equal('orders:write');

    await api.patch(`/clients/${c.client_id}`, { scope: 'orders:write' });
    expect((await token(c.client_id, secret, { scope: 'orders:read' })).json.error).to.equal('invalid_scope');
    expect((await api.patch(`/clients/${c.client_id}`, { scope: 'billing:read ghost:read' })).body.field).to.equal('scope');

    // RFC 6749 §2.3.1: client_secret_post sends the secret in the body instead of the header.
    // (oidc-provider accepts either of the two secret methods whichever is registered.)
    const toPost = await api.patch(`/clients/${c.client_id}`, { token_endpoint_auth_method: 'client_secret_post' });
    expect(toPost.body.token_endpoint_auth_method).to.equal('client_secret_post');
    const viaBody = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: c.client_id, client_secret: secret });
    expect(viaBody.status).to.equal(200);
    const toPublic = await api.patch(`/clients/${c.client_id}`, { token_endpoint_auth_method: 'none' });
    expect(toPublic.status).to.equal(400);
    expect(toPublic.body.field).to.equal('token_endpoint_auth_method');
    await api.patch(`/clients/${c.client_id}`, { token_endpoint_auth_method: 'client_secret_basic' });

    const fenced = await api.patch(`/clients/${c.client_id}`, { ip_allowlist: ['10.0.0.0/8'] });
    expect(fenced.body.ip_allowlist).to.deep.equal(['10.0.0.0/8']);
    expect((await token(c.client_id, secret)).json.error).to.equal('invalid_client');
    await api.patch(`/clients/${c.client_id}`, { ip_allowlist: [] });
    expect((await token(c.client_id, secret)).status).to.equal(200);

    // A PATCH must keep the client consistent with its type.
    const code = await api.patch(`/clients/${c.client_id}`, { grant_types: ['authorization_code'], redirect_uris: ['https://a.example.test/cb'] });
    expect(code.status).to.equal(400);
    expect(code.body.field).to.equal('grant_types');
  });

  it('refuses to change what is fixed at creation, naming the field', async () => {
    const c = await service();
    for (const [field, value] of [['type', 'web'], ['environment', 'test'], ['client_id', 'renamed']] as const) {
      const res = await api.patch(`/clients/${c.client_id}`, { [field]: value });
      expect(res.status, field).to.equal(400);
      expect(res.body.field).to.equal(field);
      expect(res.body.error_description).to.match(/cannot change/);
    }
    expect((await api.get(`/clients/${c.client_id}`)).body).to.include({ type: 'service', environment: 'live', client_id: c.client_id });
  });

  it('suspends and resumes reversibly, auditing both', async () => {
    const c = await service({ client_name: 'Suspendable' });
    const suspended = await api.patch(`/clients/${c.client_id}`, { enabled: false });
    expect(suspended.body).to.include({ enabled: false, status: 'suspended' });
    const refused = await token(c.client_id, c.client_secret!);
    expect(refused.status).to.equal(401);
    expect(refused.json.error).to.equal('invalid_client');
    // Suspending twice changes nothing and records nothing more.
    await api.patch(`/clients/${c.client_id}`, { enabled: false });
    const resumed = await api.patch(`/clients/${c.client_id}`, { enabled: true });
    expect(resumed.body).to.include({ enabled: true, status: 'active' });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    expect(await events('client.suspended', c.client_id)).to.have.length(1);
    expect(await events('client.resumed', c.client_id)).to.have.length(1);
    expect(await events('client.updated', c.client_id)).to.have.length(0);

    // Created suspended: it exists but cannot get a token until enabled.
    const dormant = await service({ enabled: false });
    expect(dormant.status).to.equal('suspended');
    expect((await token(dormant.client_id, dormant.client_secret!)).json.error).to.equal('invalid_client');
  });

  it('expires a client at expires_in; PATCH expires_in null removes the expiry', async () => {
    const c = await service({ expires_in: 60 });
    expect(Date.parse(c.expires_at as string) - Date.now()).to.be.within(0, 60_000);
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    await moveIntoThePast('clients', 'client_id', c.client_id);
    expect((await token(c.client_id, c.client_secret!)).json.error).to.equal('invalid_client');
    expect((await api.get(`/clients/${c.client_id}`)).body.status).to.equal('expired');
    const cleared = await api.patch(`/clients/${c.client_id}`, { expires_in: null });
    expect(cleared.body).to.include({ expires_at: null, status: 'active' });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    const year = await api.patch(`/clients/${c.client_id}`, { expires_in: '365d' });
    expect(Date.parse(year.body.expires_at) - Date.now()).to.be.closeTo(365 * 86400_000, 60_000);
    const long = await service({ expires_in: '12h' });
    expect(Date.parse(long.expires_at as string) - Date.now()).to.be.closeTo(12 * 3600_000, 60_000);
  });

  it('rotates secrets without downtime: both work until the old one is deleted', async () => {
    const c = await service({ client_name: 'Rotating' });
    const rotated = await api.post(`/clients/${c.client_id}/secrets`, { previous_expires_in: '1d' });
    expect(rotated.status).to.equal(201);
    expect(rotated.body.client_secret).to.match(/^sk_live_/);
    expect(rotated.body).to.include({ prefix: rotated.body.client_secret.slice(0, 20), expires_at: null });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    expect((await token(c.client_id, rotated.body.client_secret)).status).to.equal(200);

    const secrets = await api.get(`/clients/${c.client_id}/secrets`);
    expect(secrets.body.data).to.have.length(2);
    expect(JSON.stringify(secrets.body)).not.to.include(c.client_secret!.slice(20));
    expect(JSON.stringify(secrets.body)).not.to.include(rotated.body.client_secret.slice(20));
    const old = secrets.body.data.find((s: { id: string }) => s.id !== rotated.body.id);
    expect(Date.parse(old.expires_at) - Date.now()).to.be.closeTo(86400_000, 60_000);

    expect((await api.delete(`/clients/${c.client_id}/secrets/${old.id}`)).status).to.equal(204);
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(401);
    expect((await token(c.client_id, rotated.body.client_secret)).status).to.equal(200);
    expect((await api.get(`/clients/${c.client_id}/secrets`)).body.data.map((s: { id: string }) => s.id)).to.deep.equal([rotated.body.id]);
    expect((await api.delete(`/clients/${c.client_id}/secrets/${old.id}`)).status).to.equal(404);
    expect((await api.delete(`/clients/${c.client_id}/secrets/not-a-uuid`)).status).to.equal(404);
    // Another client's secret is not this client's to delete.
    const other = await service();
    const otherSecret = (await api.get(`/clients/${other.client_id}/secrets`)).body.data[0].id;
    expect((await api.delete(`/clients/${c.client_id}/secrets/${otherSecret}`)).status).to.equal(404);

    const rotations = await events('client.secret_rotated', c.client_id);
    expect(rotations).to.have.length(1);
    expect(rotations[0].data.secret_id).to.equal(rotated.body.id);
    expect((await events('client.secret_revoked', c.client_id))[0].data.secret_id).to.equal(old.id);
  });

  it('keeps previous secrets 7 days by default, never extends an earlier expiry, and rotates a test credential to sk_test_', async () => {
    const c = await service({ environment: 'test' });
    const first = await api.post(`/clients/${c.client_id}/secrets`);
    expect(first.body.client_secret).to.match(/^sk_test_/);
    const [, original] = (await api.get(`/clients/${c.client_id}/secrets`)).body.data;
    expect(Date.parse(original.expires_at) - Date.now()).to.be.closeTo(7 * 86400_000, 60_000);
    await api.post(`/clients/${c.client_id}/secrets`, { previous_expires_in: '30d' });
    const after = (await api.get(`/clients/${c.client_id}/secrets`)).body.data;
    expect(after).to.have.length(3);
    expect(after.find((s: { id: string }) => s.id === original.id).expires_at).to.equal(original.expires_at);
    expect(Date.parse(after.find((s: { id: string }) => s.id === first.body.id).expires_at) - Date.now()).to.be.closeTo(30 * 86400_000, 60_000);
    const bad = await api.post(`/clients/${c.client_id}/secrets`, { previous_expires_in: 'later' });
    expect(bad.status).to.equal(400);
    expect(bad.body.field).to.equal('previous_expires_in');
  });

  it('stops an old secret when previous_expires_in runs out', async () => {
    const c = await service({ client_name: 'Short overlap' });
    const [original] = (await api.get(`/clients/${c.client_id}/secrets`)).body.data;
    const rotated = await api.post(`/clients/${c.client_id}/secrets`, { previous_expires_in: 60 });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    await moveIntoThePast('client_secrets', 'id', original.id);
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(401);
    expect((await token(c.client_id, rotated.body.client_secret)).status).to.equal(200);
    // An expired secret is no longer listed.
    expect((await api.get(`/clients/${c.client_id}/secrets`)).body.data.map((s: { id: string }) => s.id)).to.deep.equal([rotated.body.id]);
  });

  it('refuses to delete the last live secret, which would leave an enabled client that cannot authenticate', async () => {
    const c = await service();
    const [only] = (await api.get(`/clients/${c.client_id}/secrets`)).body.data;
    const refused = await api.delete(`/clients/${c.client_id}/secrets/${only.id}`);
    expect(refused.status).to.equal(409);
    expect(refused.body.error_description).to.match(/only live secret/);
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);
    // Once the previous secret has expired, the newer one is the only live one: it stays, the expired one may go.
    const rotated = await api.post(`/clients/${c.client_id}/secrets`, { previous_expires_in: 60 });
    await moveIntoThePast('client_secrets', 'id', only.id);
    expect((await api.delete(`/clients/${c.client_id}/secrets/${rotated.body.id}`)).status).to.equal(409);
    expect((await api.delete(`/clients/${c.client_id}/secrets/${only.id}`)).status).to.equal(204);
  });

  it('refuses a token request from outside the IP allowlist, and audits each refused token request with its reason', async () => {
    const c = await service({ client_name: 'Office only', ip_allowlist: ['10.0.0.0/8'] });
    expect(c.ip_allowlist).to.deep.equal(['10.0.0.0/8']);
    const refused = await token(c.client_id, c.client_secret!);
    expect(refused.status).to.equal(401);
    expect(refused.json.error).to.equal('invalid_client');
    await api.patch(`/clients/${c.client_id}`, { ip_allowlist: ['127.0.0.1/32', '::1/128'] });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(200);

    expect((await token(c.client_id, 'sk_live_wrong')).status).to.equal(401);
    await api.patch(`/clients/${c.client_id}`, { enabled: false });
    expect((await token(c.client_id, c.client_secret!)).status).to.equal(401);

    // Refusals are audited after the answer, off the request path: wait for the third (bounded).
    let refusals = await events('client.token_refused', c.client_id);
    await eventually('the third refusal is audited', async () => (refusals = await events('client.token_refused', c.client_id)).length >= 3, 5_000);
    // Newest first; the IP refusal is recorded once, not again as a generic invalid_client.
    expect(refusals.map((e) => e.data)).to.deep.equal([
      { reason: 'invalid_client', detail: 'client_suspended' },
      { reason: 'invalid_client', detail: 'wrong_secret' },
      { reason: 'ip_not_allowed' },
    ]);
    expect(refusals.every((e) => e.actor.type === 'client' && e.actor.id === c.client_id)).to.equal(true);
    const raw = await server.runtime.db.query<{ t: string }>(`SELECT row_to_json(a)::text AS t FROM audit_events a WHERE type = 'client.token_refused'`);
    expect(raw.rows.map((r) => r.t).join()).not.to.include('sk_live_wrong');
  });

  it('never lets a caller give a credential, or take one over, with Management API permissions they do not hold', async () => {
    // A caller with clients:write (and clients:admin, so that whose client it is does not matter
    // here: ownership has its own test), through the same admin client.
    const limited = managementApi(server, await managementToken(server, ['clients:read', 'clients:write', 'clients:admin']));
    const escalate = await limited.post('/clients', { client_name: 'Backdoor', type: 'service', scope: 'orders:read users:write' });
    expect(escalate.status).to.equal(403);
    expect(escalate.body).to.include({ error: 'insufficient_scope', scope: 'users:write', field: 'scope' });
    expect((await api.get('/clients?q=Backdoor')).body.data).to.deep.equal([]);
    // What the caller holds, they may give.
    const own = await limited.post('/clients', { client_name: 'Reader bot', type: 'service', scope: 'clients:read' });
    expect(own.status).to.equal(201);
    expect((await limited.patch(`/clients/${own.body.client_id}`, { scope: 'clients:read audit:read' })).status).to.equal(403);

    // A credential an admin gave more: no new secret for it, no change, only suspend or delete.
    const privileged = await service({ client_name: 'Auditor bot', scope: 'audit:read clients:read' });
    const rotate = await limited.post(`/clients/${privileged.client_id}/secrets`, {});
    expect(rotate.status).to.equal(403);
    expect(rotate.body.scope).to.equal('audit:read');
    expect((await api.get(`/clients/${privileged.client_id}/secrets`)).body.data).to.have.length(1);
    expect((await limited.patch(`/clients/${privileged.client_id}`, { client_name: 'Mine now' })).status).to.equal(403);
    expect((await limited.patch(`/clients/${privileged.client_id}`, { ip_allowlist: [] })).status).to.equal(403);
    expect((await limited.patch(`/clients/${privileged.client_id}`, { enabled: false })).status).to.equal(200);
    expect((await limited.patch(`/clients/${privileged.client_id}`, { enabled: true })).status).to.equal(403);
    expect((await limited.delete(`/clients/${privileged.client_id}`)).status).to.equal(204);
    // The admin, holding everything, may.
    const wide = await create({ type: 'service', scope: 'users:write' });
    expect((await api.post(`/clients/${wide.client_id}/secrets`, {})).status).to.equal(201);
  });

  it('searches by name or client_id and pages with next_cursor, missing no client created in the same millisecond', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await service({ client_name: `Paged 100% ${i}` })).client_id);
    // Postgres keeps microseconds: put all five within one millisecond to test the page boundaries.
    for (const [i, id] of made.entries()) {
      await server.runtime.db.query(`UPDATE clients SET created_at = $2::timestamptz WHERE client_id = $1`, [id, `2031-01-01T00:00:00.1234${i}0Z`]);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { data: { client_id: string }[]; next_cursor: string | null } } =
        await api.get(`/clients?q=${encodeURIComponent('Paged 100%')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).to.equal(200);
      seen.push(...res.body.data.map((c) => c.client_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal([...made].reverse());
    // % and _ are matched literally; client_id matches too.
    expect((await api.get('/clients?q=Paged%20100%25%203')).body.data.map((c: { client_id: string }) => c.client_id)).to.deep.equal([made[3]]);
    expect((await api.get('/clients?q=Pag_d')).body.data).to.deep.equal([]);
    expect((await api.get(`/clients?q=${made[1].slice(3, 15)}`)).body.data.map((c: { client_id: string }) => c.client_id)).to.deep.equal([made[1]]);
    expect((await api.get(`/clients?q=${SERVICE.id.toUpperCase()}`)).body.data.map((c: { client_id: string }) => c.client_id)).to.deep.equal([SERVICE.id]);
    expect((await api.get('/clients?q=a&q=b')).status).to.equal(400);
  });

  it('audits every change with who made it and what changed, never a secret', async () => {
    const c = await service({ client_name: 'Audited', scope: 'orders:read' });
    const rotated = await api.post(`/clients/${c.client_id}/secrets`, {});
    await api.patch(`/clients/${c.client_id}`, { client_name: 'Audited again', scope: 'orders:read orders:write', ip_allowlist: ['127.0.0.1'] });
    // Changing nothing is not a change.
    await api.patch(`/clients/${c.client_id}`, { client_name: 'Audited again', ip_allowlist: ['127.0.0.1'] });
    expect((await api.delete(`/clients/${c.client_id}`)).status).to.equal(204);

    const [created] = await events('client.created', c.client_id);
    expect(created.actor).to.include({ type: 'client', id: ADMIN_CLIENT.id });
    expect(created.data).to.include({ client_name: 'Audited', type: 'service', scope: 'orders:read', environment: 'live' });
    const updates = await events('client.updated', c.client_id);
    expect(updates).to.have.length(1);
    expect(updates[0].data.fields).to.have.members(['client_name', 'scope', 'ip_allowlist']);
    expect(updates[0].data.before).to.deep.equal({ client_name: 'Audited', scope: 'orders:read', ip_allowlist: [] });
    expect(updates[0].data.after).to.deep.equal({ client_name: 'Audited again', scope: 'orders:read orders:write', ip_allowlist: ['127.0.0.1'] });
    expect(await events('client.revoked', c.client_id)).to.have.length(1);

    const all = await server.runtime.db.query<{ t: string }>('SELECT row_to_json(a)::text AS t FROM audit_events a');
    const log = all.rows.map((r) => r.t).join('\n');
    for (const secret of [c.client_secret!, rotated.body.client_secret as string]) {
      expect(log).not.to.include(secret.slice(20));
      expect(log).not.to.include(sha256(secret));
    }
  });
});
