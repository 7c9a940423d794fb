import { expect } from 'chai';
import { authorize, exchangeCode, refresh } from '../support/code-flow.js';
import { WEB, baseSeed, basic, postForm } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';

/** Changes made through one node take effect on every other node at the next request. */
const ISSUER = 'http://gatehouse.test';
const realServices = usingRealServices && Boolean(process.env.REDIS_URL);

describe('management changes reach every node at once (needs DATABASE_URL and REDIS_URL; skipped in embedded mode)', () => {
  let a: TestServer;
  let b: TestServer;
  before(async function () {
    if (!realServices) this.skip();
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    a = await startServer({ seed, env: { ISSUER } });
    b = await startServer({ databaseUrl: a.databaseUrl, env: { ISSUER } });
  });
  after(async () => {
    await b?.stop();
    await a?.destroy();
  });

  const tokenAt = (node: TestServer, id: string, secret: string, form: Record<string, string> = {}) =>
    postForm(`${node.url}/oauth/token`, { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });

  it('a scope change, a suspension and a revocation made on node A apply at node B', async () => {
    const api = managementApi(a, await managementToken(a));
    const { body } = await api.post('/clients', { client_name: 'Two nodes', type: 'service', scope: 'orders:read' });
    expect((await tokenAt(b, body.client_id, body.client_secret)).status).to.equal(200);

    await api.patch(`/clients/${body.client_id}`, { scope: 'orders:read orders:write' });
    expect((await tokenAt(b, body.client_id, body.client_secret, { scope: 'orders:write' })).status).to.equal(200);

    await api.patch(`/clients/${body.client_id}`, { enabled: false });
    expect((await tokenAt(b, body.client_id, body.client_secret)).json.error).to.equal('invalid_client');
    await api.patch(`/clients/${body.client_id}`, { enabled: true });
    expect((await tokenAt(b, body.client_id, body.client_secret)).status).to.equal(200);

    expect((await api.delete(`/clients/${body.client_id}`)).status).to.equal(204);
    const revoked = await tokenAt(b, body.client_id, body.client_secret);
    expect(revoked.status).to.equal(401);
    expect(revoked.json.error).to.equal('invalid_client');
  });

  it('a rotated secret works on both nodes during the overlap', async () => {
    const api = managementApi(a, await managementToken(a));
    const { body } = await api.post('/clients', { client_name: 'Rotation', type: 'service', scope: 'orders:read' });
    const rotated = await managementApi(b, await managementToken(b)).post(`/clients/${body.client_id}/secrets`, {});
    for (const node of [a, b]) {
      expect((await tokenAt(node, body.client_id, body.client_secret)).status).to.equal(200);
      expect((await tokenAt(node, body.client_id, rotated.body.client_secret)).status).to.equal(200);
    }
  });

  it('deactivating a user on node B stops their refresh token at node A', async () => {
    const flow = await authorize(a, { client: WEB, scope: 'openid offline_access orders:read' });
    const tokens = await exchangeCode(a, WEB, flow);
    const admin = managementApi(b, await managementToken(b));
    const users = await admin.get('/users');
    const ada = users.body.data[0];
    expect((await admin.patch(`/users/${ada.id}`, { active: false })).status).to.equal(200);
    const refreshed = await refresh(a, WEB, tokens.json.refresh_token as string);
    expect(refreshed.json.error).to.equal('invalid_grant');
  });
});
