import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { authorize, exchangeCode, refresh, type FlowClient } from '../support/code-flow.js';
import { ORDERS_API, WEB, baseSeed, basic, postForm } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';

/**
 * Revoking a credential (DELETE), suspending it (enabled: false) or narrowing it (PATCH) applies at
 * the next request, to what it already holds too: refresh tokens, grants, codes, Management API
 * tokens. First on one node (both modes), then across two nodes sharing Postgres and Redis.
 */

const REDIRECT = 'http://127.0.0.1:8080/revocation-callback';

type Api = ReturnType<typeof managementApi>;

/** A confidential web app (code + refresh, and client credentials for itself), created through the API. */
async function webApp(api: Api, extra: Record<string, unknown> = {}): Promise<FlowClient & { id: string; secret: string }> {
  const res = await api.post('/clients', {
    client_name: 'Revocable web app',
    type: 'web',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    redirect_uris: [REDIRECT],
    scope: 'openid offline_access orders:read orders:write',
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { id: res.body.client_id, secret: res.body.client_secret, redirect: REDIRECT };
}

/** Signs the seeded user in to the client and redeems the code: the tokens a real app would hold. */
async function signIn(node: TestServer, client: FlowClient, scope = 'openid offline_access orders:read') {
  const flow = await authorize(node, { client, scope });
  const tokens = await exchangeCode(node, client, flow);
  expect(tokens.status, tokens.text).to.equal(200);
  expect(tokens.json.refresh_token).to.be.a('string');
  return tokens.json as { refresh_token: string; access_token: string };
}

const clientCredentials = (node: TestServer, client: { id: string; secret: string }) =>
  postForm(`${node.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(client.id, client.secret) });

async function durableArtifacts(node: TestServer, clientId: string): Promise<string[]> {
  const { rows } = await node.runtime.db.query<{ model: string }>(
    `SELECT model FROM oidc_artifacts WHERE model IN ('Grant', 'RefreshToken') AND payload->>'clientId' = $1 ORDER BY model`,
    [clientId],
  );
  return rows.map((r) => r.model);
}

describe('revocation: deleting, suspending and narrowing a client', () => {
  let server: TestServer;
  let api: Api;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));

  it('DELETE revokes the refresh tokens and grants the client held, and codes issued before; other clients keep theirs', async () => {
    const app = await webApp(api);
    const tokens = await signIn(server, app);
    const pending = await authorize(server, { client: app, scope: 'openid orders:read' });
    const bystander = await signIn(server, WEB);
    expect(await durableArtifacts(server, app.id)).to.include.members(['Grant', 'RefreshToken']);

    expect((await api.delete(`/clients/${app.id}`)).status).to.equal(204);

    const refreshed = await refresh(server, app, tokens.refresh_token);
    expect(refreshed.status).to.equal(401);
    expect(refreshed.json.error).to.equal('invalid_client');
    expect((await exchangeCode(server, app, pending)).json.error).to.equal('invalid_client');
    expect((await clientCredentials(server, app)).json.error).to.equal('invalid_client');
    // Not merely unusable while the client is missing: gone from storage, with the consents.
    expect(await durableArtifacts(server, app.id)).to.deep.equal([]);
    const consents = await server.runtime.db.query('SELECT 1 FROM consents WHERE client_id = $1', [app.id]);
    expect(consents.rows).to.have.length(0);
    const [event] = (await api.get('/audit-events?type=client.revoked')).body.data.filter((e: { target: { id: string } }) => e.target.id === app.id);
    expect(event.data.revoked_artifacts).to.be.at.least(2);

    // Another client of the same user is untouched.
    expect((await refresh(server, WEB, bystander.refresh_token)).status).to.equal(200);
  });

  it('DELETE revokes a public client (no secret) the same way', async () => {
    const created = await api.post('/clients', { client_name: 'Revocable SPA', type: 'spa', redirect_uris: [REDIRECT], scope: 'openid offline_access orders:read' });
    const spa: FlowClient = { id: created.body.client_id, redirect: REDIRECT };
    const tokens = await signIn(server, spa);
    expect((await api.delete(`/clients/${spa.id}`)).status).to.equal(204);
    const refreshed = await refresh(server, spa, tokens.refresh_token);
    expect(refreshed.json.error).to.equal('invalid_client');
    expect(await durableArtifacts(server, spa.id)).to.deep.equal([]);
  });

  it('suspension stops refresh tokens while it lasts; resuming brings them back', async () => {
    const app = await webApp(api);
    const tokens = await signIn(server, app);
    await api.patch(`/clients/${app.id}`, { enabled: false });
    expect((await refresh(server, app, tokens.refresh_token)).json.error).to.equal('invalid_client');
    expect(await durableArtifacts(server, app.id)).to.include('RefreshToken');
    await api.patch(`/clients/${app.id}`, { enabled: true });
    const resumed = await refresh(server, app, tokens.refresh_token);
    expect(resumed.status, resumed.text).to.equal(200);
  });

  it('a narrower scope applies to the next refreshed access token', async () => {
    const app = await webApp(api);
    const tokens = await signIn(server, app, 'openid offline_access orders:read orders:write');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const before = await jwtVerify(tokens.access_token, jwks, { audience: ORDERS_API });
    expect(before.payload.scope).to.equal('orders:read orders:write');

    await api.patch(`/clients/${app.id}`, { scope: 'openid offline_access orders:read' });
    const refreshed = await refresh(server, app, tokens.refresh_token);
    expect(refreshed.status, refreshed.text).to.equal(200);
    const after = await jwtVerify(refreshed.json.access_token as string, jwks, { audience: ORDERS_API });
    expect(after.payload.scope).to.equal('orders:read');
  });

  it('the Management API refuses a token of a suspended or deleted client at once', async () => {
    const bot = await api.post('/clients', { client_name: 'Reader bot', type: 'service', scope: 'clients:read' });
    const botApi = managementApi(server, await managementToken(server, ['clients:read'], { id: bot.body.client_id, secret: bot.body.client_secret }));
    expect((await botApi.get('/clients')).status).to.equal(200);
    await api.patch(`/clients/${bot.body.client_id}`, { enabled: false });
    expect((await botApi.get('/clients')).status).to.equal(401);
    await api.patch(`/clients/${bot.body.client_id}`, { enabled: true });
    expect((await botApi.get('/clients')).status).to.equal(200);
    // Narrowing its scope narrows the token it already holds.
    await api.patch(`/clients/${bot.body.client_id}`, { scope: '' });
    expect((await botApi.get('/clients')).status).to.equal(403);
    await api.delete(`/clients/${bot.body.client_id}`);
    const revoked = await botApi.get('/clients');
    expect(revoked.status).to.equal(401);
    expect(revoked.headers.get('www-authenticate')).to.include('error="invalid_token"');
  });

  it('a client created again under a deleted client_id inherits none of its refresh tokens', async () => {
    const app = await webApp(api, { client_id: 'reborn-app' });
    const tokens = await signIn(server, app);
    // A refresh on another node, in flight at the moment of the DELETE, saves its new refresh token
    // (and the grant) just after: put back what the DELETE removed, as that node would.
    const { rows } = await server.runtime.db.query<Record<string, unknown>>(
      `SELECT model, id, payload, grant_id, uid, expires_at, consumed_at FROM oidc_artifacts
       WHERE model IN ('Grant', 'RefreshToken') AND payload->>'clientId' = $1`,
      [app.id],
    );
    expect(rows.length).to.be.at.least(2);
    expect((await api.delete(`/clients/${app.id}`)).status).to.equal(204);
    for (const r of rows) {
      await server.runtime.db.query(
        'INSERT INTO oidc_artifacts (model, id, payload, grant_id, uid, expires_at, consumed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [r.model, r.id, JSON.stringify(r.payload), r.grant_id, r.uid, r.expires_at, r.consumed_at],
      );
    }

    const reborn = await webApp(api, { client_id: 'reborn-app' });
    expect(await durableArtifacts(server, reborn.id)).to.deep.equal([]);
    const refreshed = await refresh(server, reborn, tokens.refresh_token);
    expect(refreshed.status).to.equal(400);
    expect(refreshed.json.error).to.equal('invalid_grant');
  });
});

const ISSUER = 'http://gatehouse-revocation.test';
const realServices = usingRealServices && Boolean(process.env.REDIS_URL);

describe('revocation across two nodes (needs DATABASE_URL and REDIS_URL; skipped in embedded mode)', () => {
  let a: TestServer;
  let b: TestServer;
  let apiA: Api;
  before(async function () {
    if (!realServices) this.skip();
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    a = await startServer({ seed, env: { ISSUER } });
    b = await startServer({ databaseUrl: a.databaseUrl, env: { ISSUER } });
    apiA = managementApi(a, await managementToken(a));
  });
  after(async () => {
    await b?.stop();
    await a?.destroy();
  });

  it('DELETE on node A: node B refuses the client at its next token request, refresh tokens included', async () => {
    const app = await webApp(apiA);
    const tokens = await signIn(b, app);
    expect((await clientCredentials(b, app)).status).to.equal(200);

    expect((await apiA.delete(`/clients/${app.id}`)).status).to.equal(204);

    const cc = await clientCredentials(b, app);
    expect(cc.status).to.equal(401);
    expect(cc.json.error).to.equal('invalid_client');
    const refreshed = await refresh(b, app, tokens.refresh_token);
    expect(refreshed.status).to.equal(401);
    expect(refreshed.json.error).to.equal('invalid_client');
  });

  it('a secret revoked on node A stops at node B at once; a suspension on A stops B, and resuming restores it', async () => {
    const app = await webApp(apiA);
    const rotated = await apiA.post(`/clients/${app.id}/secrets`, {});
    const newer = { id: app.id, secret: rotated.body.client_secret as string };
    expect((await clientCredentials(b, app)).status).to.equal(200);
    const old = (await apiA.get(`/clients/${app.id}/secrets`)).body.data.find((s: { id: string }) => s.id !== rotated.body.id);
    expect((await apiA.delete(`/clients/${app.id}/secrets/${old.id}`)).status).to.equal(204);
    expect((await clientCredentials(b, app)).json.error).to.equal('invalid_client');
    expect((await clientCredentials(b, newer)).status).to.equal(200);

    const tokens = await signIn(b, { ...app, secret: newer.secret });
    await apiA.patch(`/clients/${app.id}`, { enabled: false });
    expect((await refresh(b, { ...app, secret: newer.secret }, tokens.refresh_token)).json.error).to.equal('invalid_client');
    await apiA.patch(`/clients/${app.id}`, { enabled: true });
    expect((await refresh(b, { ...app, secret: newer.secret }, tokens.refresh_token)).status).to.equal(200);
  });

  it('an IP allowlist and a redirect URI change made on node A apply at node B', async () => {
    const app = await webApp(apiA);
    await apiA.patch(`/clients/${app.id}`, { ip_allowlist: ['10.0.0.0/8'] });
    expect((await clientCredentials(b, app)).json.error).to.equal('invalid_client');
    // The refusal is audited after the answer, off the request path: wait for it (bounded).
    const refusalsOf = async () =>
      (await apiA.get('/audit-events?type=client.token_refused&limit=200')).body.data.filter((e: { target: { id: string } }) => e.target.id === app.id);
    let refusals = await refusalsOf();
    for (let i = 0; !refusals.length && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      refusals = await refusalsOf();
    }
    expect(refusals.map((e: { data: unknown }) => e.data)).to.deep.equal([{ reason: 'ip_not_allowed' }]);
    await apiA.patch(`/clients/${app.id}`, { ip_allowlist: ['127.0.0.1/32'] });
    expect((await clientCredentials(b, app)).status).to.equal(200);

    await apiA.patch(`/clients/${app.id}`, { redirect_uris: ['http://127.0.0.1:8080/moved'] });
    const stale = new URL(`${b.url}/oauth/authorize`);
    stale.search = new URLSearchParams({ client_id: app.id, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    const res = await fetch(stale, { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: string }).error).to.equal('invalid_redirect_uri');
  });

  it('a Management API token issued at node B stops working at node B when its client is deleted on node A', async () => {
    const bot = await apiA.post('/clients', { client_name: 'Reader bot', type: 'service', scope: 'clients:read' });
    const botAtB = managementApi(b, await managementToken(b, ['clients:read'], { id: bot.body.client_id, secret: bot.body.client_secret }));
    expect((await botAtB.get('/clients')).status).to.equal(200);
    await apiA.delete(`/clients/${bot.body.client_id}`);
    expect((await botAtB.get('/clients')).status).to.equal(401);
  });
});
