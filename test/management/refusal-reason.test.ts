import { expect } from 'chai';
import { baseSeed, basic, ORDERS_API, postForm, SERVICE } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/eventually.js';

/** The audit log says why a token request was refused: a suspended, expired or deleted client, not "unknown". */
describe('audit: the reason for a refused client', function () {
  this.timeout(60_000);
  let server: TestServer;
  before(async () => {
    const seed = baseSeed();
    server = await startServer({ seed: { ...seed, clients: [...seed.clients, adminClientSeed()] } });
  });
  after(async () => server?.destroy());

  it('records client_suspended for a suspended client and unknown_client for one that does not exist', async () => {
    const admin = managementApi(server, await managementToken(server));
    expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: false })).status).to.equal(200);
    const token = (id: string) => postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic(id, SERVICE.secret) });
    expect((await token(SERVICE.id)).status).to.equal(401);
    expect((await token('no-such-client')).status).to.equal(401);
    type Refusal = { target?: { id: string }; data: { detail?: string } };
    let events: Refusal[] = [];
    // Refusals may be audited just after the answer (see clients.test.ts): wait for both (bounded).
    await eventually('both refusals are audited', async () => (events = (await admin.get('/audit-events?type=client.token_refused')).body.data).length >= 2, 5_000);
    expect(events.find((e) => e.target?.id === SERVICE.id)?.data.detail).to.equal('client_suspended');
    expect(events.find((e) => e.target?.id === 'no-such-client')?.data.detail).to.equal('unknown_client');
  });

  it('records client_deleted for a client that was deleted, known from the log’s client.revoked', async () => {
    const admin = managementApi(server, await managementToken(server));
    const made = await admin.post('/clients', { client_id: 'soon-deleted', client_name: 'Soon deleted', type: 'service', scope: 'orders:read' });
    expect(made.status).to.equal(201);
    expect((await admin.delete('/clients/soon-deleted')).status).to.be.oneOf([200, 204]);
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic('soon-deleted', made.body.client_secret) });
    expect(res.status).to.equal(401);
    type Refusal = { target?: { id: string }; data: { detail?: string } };
    let refusal: Refusal | undefined;
    await eventually('the refusal is audited', async () => {
      refusal = ((await admin.get('/audit-events?type=client.token_refused&actor=soon-deleted')).body.data as Refusal[])[0];
      return refusal !== undefined;
    }, 5_000);
    expect(refusal!.data.detail).to.equal('client_deleted');
  });
});
