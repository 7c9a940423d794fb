import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../support/eventually.js';
import { managementApi, managementToken } from '../support/management.js';
import type { TestServer } from '../support/server.js';
import { type ManagementApi, useServer } from '../support/setup.js';
import { startReceiver, verified } from '../support/webhook-receiver.js';
import { secondsUntilDue } from '../../server/store/outbox.js';
import { OutboundRefusedError, PUBLIC_ONLY, fetchOutbound } from '../../server/net/outbound.js';
import { WEBHOOK_CONSUMER } from '../../server/services/webhooks.js';

/**
 * Webhook endpoints through the Management API, and their deliveries to a real HTTP receiver that
 * checks every signature with the `standardwebhooks` library, as a receiver in the field would.
 */
describe('webhooks', function () {
  // Starting an embedded server from nothing takes over a minute on a loaded machine.
  this.timeout(120_000);
  let server: TestServer;
  let admin: ManagementApi;
  // Retries at once, so that a failing endpoint runs through its whole schedule (3 attempts) quickly.
  useServer({ admin: true, start: { env: { WEBHOOK_RETRY_DELAYS: '0,0' } } }, (s) => ({ server, admin } = s));

  it('sleeps while nothing is pending: no next due time, rather than "due now" (which polled Postgres every 50 ms)', async () => {
    expect(await secondsUntilDue(server.runtime.db, WEBHOOK_CONSUMER)).to.equal(null);
  });

  const newClient = async (name: string) => {
    const res = await admin.post('/clients', { client_name: name, type: 'service', scope: 'orders:read' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.client_id as string;
  };

  it('delivers the events an endpoint chose, signed with its secret (Standard Webhooks), and records each attempt', async () => {
    const receiver = await startReceiver();
    try {
      const created = await admin.post('/webhooks', { url: receiver.url, event_types: ['client.*', 'api_key.revoked'], description: 'SIEM' });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const { id, secret } = created.body;
      expect(secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(created.body).to.include({ url: receiver.url, enabled: true, status: 'active', description: 'SIEM' });

      // Shown once: never again, and sealed at rest.
      const got = await admin.get(`/webhooks/${id}`);
      expect(got.body).to.not.have.property('secret');
      const { rows } = await server.runtime.db.query<Record<string, string>>('SELECT secret_sealed FROM webhook_endpoints WHERE id = $1', [id]);
      expect(rows[0].secret_sealed).to.not.include(secret.slice(6)).and.to.not.include(secret);

      const clientId = await newClient('Webhook subject');
      // A role change matches neither pattern: nothing is sent for it.
      expect((await admin.post('/roles', { name: 'auditors', permissions: ['audit:read'] })).status).to.equal(201);

      await eventually('the client.created delivery', () => receiver.received.length >= 1);
      const delivery = receiver.received[0];
      const body = verified(secret, delivery);
      expect(body.type).to.equal('client.created');
      expect(body.data).to.include({ type: 'client.created' });
      expect(body.data.target).to.deep.equal({ type: 'client', id: clientId });
      expect(delivery.headers['webhook-id']).to.match(/^msg_\d+$/);
      expect(Number(delivery.headers['webhook-timestamp'])).to.be.closeTo(Date.now() / 1000, 300);
      expect(delivery.headers['content-type']).to.equal('application/json');
      // A forged body does not verify.
      expect(() => new Webhook(secret).verify(delivery.body.replace('client.created', 'client.deleted'), delivery.headers)).to.throw();

      await eventually('the delivery recorded as delivered', async () => {
        const list = await admin.get(`/webhooks/${id}/deliveries`);
        expect(list.status).to.equal(200);
        expect(list.body.data).to.have.length(1);
        const [d] = list.body.data;
        expect(d).to.include({ id: delivery.headers['webhook-id'], event_type: 'client.created', state: 'delivered', attempts: 1 });
        expect(d.attempt_log).to.have.length(1);
        expect(d.attempt_log[0]).to.include({ attempt: 1, status: 204, error: null });
      });
      expect(receiver.received.map((r) => verified(secret, r).type)).to.deep.equal(['client.created']);
      expect((await admin.delete(`/webhooks/${id}`)).status).to.equal(204);
      expect((await admin.get(`/webhooks/${id}`)).status).to.equal(404);
    } finally {
      await receiver.close();
    }
  });

  it('retries a failing endpoint, gives up after the schedule, disables the endpoint and says why', async () => {
    const receiver = await startReceiver(() => 500);
    try {
      const { body: endpoint } = await admin.post('/webhooks', { url: receiver.url, event_types: ['client.created'] });
      await newClient('Never heard of');
      await eventually('the endpoint disabled', async () => {
        const got = await admin.get(`/webhooks/${endpoint.id}`);
        expect(got.body).to.include({ enabled: false, status: 'disabled', disabled_reason: 'failing' });
      });
      // WEBHOOK_RETRY_DELAYS=0,0: the first attempt and two retries, each with the same message id.
      expect(receiver.received).to.have.length(3);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).to.equal(1);
      for (const r of receiver.received) verified(endpoint.secret, r);
      const [d] = (await admin.get(`/webhooks/${endpoint.id}/deliveries`)).body.data;
      expect(d).to.include({ state: 'failed', attempts: 3, next_attempt_at: null });
      expect(d.attempt_log.map((a: { status: number }) => a.status)).to.deep.equal([500, 500, 500]);
      expect(d.attempt_log[0].error).to.equal('HTTP 500');
      const audit = await admin.get('/audit-events?type=webhook.disabled');
      expect(audit.body.data[0]).to.deep.include({ actor: { type: 'system', id: null, ip: null }, target: { type: 'webhook', id: endpoint.id } });
      expect(audit.body.data[0].data).to.include({ reason: 'failing', last_status: 500 });

      // Disabled, it receives nothing more; enabled again, it gets what happened meanwhile? No: events
      // while disabled are not queued for it (it chose to stop), but what was waiting goes out.
      await newClient('While disabled');
      const enabled = await admin.patch(`/webhooks/${endpoint.id}`, { enabled: true });
      expect(enabled.body).to.include({ enabled: true, status: 'active', disabled_reason: null });
      expect(receiver.received).to.have.length(3);
    } finally {
      await receiver.close();
    }
  });

  it('a rotated secret signs beside the old one until the old one expires', async () => {
    const receiver = await startReceiver();
    try {
      const { body: endpoint } = await admin.post('/webhooks', { url: receiver.url, event_types: ['client.created'] });
      const rotated = await admin.post(`/webhooks/${endpoint.id}/secret`, { previous_expires_in: '1h' });
      expect(rotated.status, JSON.stringify(rotated.body)).to.equal(200);
      expect(rotated.body.secret).to.match(/^whsec_/).and.to.not.equal(endpoint.secret);
      expect(Date.parse(rotated.body.previous_secret_expires_at)).to.be.greaterThan(Date.now());
      await newClient('After rotation');
      await eventually('a delivery', () => receiver.received.length === 1);
      const [r] = receiver.received;
      expect(r.headers['webhook-signature'].split(' ')).to.have.length(2);
      verified(rotated.body.secret, r);
      verified(endpoint.secret, r);

      // previous_expires_in 0: the old secret stops at once.
      const again = await admin.post(`/webhooks/${endpoint.id}/secret`, { previous_expires_in: 0 });
      expect(again.body.previous_secret_expires_at).to.equal(null);
      await newClient('After second rotation');
      await eventually('a second delivery', () => receiver.received.length === 2);
      verified(again.body.secret, receiver.received[1]);
      expect(() => verified(rotated.body.secret, receiver.received[1])).to.throw();
      await admin.delete(`/webhooks/${endpoint.id}`);
    } finally {
      await receiver.close();
    }
  });

  it('refuses what it cannot deliver safely, with a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ url: 'http://hooks.example.com/x', event_types: ['*'] }, 'url'],
      [{ url: 'https://user:pw@hooks.example.com/x', event_types: ['*'] }, 'url'],
      [{ url: 'ftp://hooks.example.com/x', event_types: ['*'] }, 'url'],
      [{ url: 'https://hooks.example.com/x', event_types: [] }, 'event_types'],
      [{ url: 'https://hooks.example.com/x', event_types: ['client.*.x'] }, 'event_types.0'],
      [{ url: 'https://hooks.example.com/x', event_types: ['Client created'] }, 'event_types.0'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post('/webhooks', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.field, JSON.stringify(res.body)).to.equal(field);
    }
    // The secret is always the server's: one cannot be chosen.
    const chosen = await admin.post('/webhooks', { url: 'https://hooks.example.com/x', event_types: ['*'], secret: 'whsec_mine' });
    expect(chosen.status).to.equal(400);
    expect(chosen.body.error_description).to.include('secret');
    expect((await admin.get('/webhooks/not-a-uuid')).status).to.equal(404);
    expect((await admin.patch('/webhooks/00000000-0000-4000-8000-000000000000', { enabled: false })).status).to.equal(404);
  });

  it('an endpoint receives the audit log: registering one needs audit:read as well (the delegation rule)', async () => {
    const limited = managementApi(server, await managementToken(server, ['webhooks:read', 'webhooks:write']));
    const res = await limited.post('/webhooks', { url: 'https://hooks.example.com/x', event_types: ['*'] });
    expect(res.status).to.equal(403);
    expect(res.body).to.include({ error: 'insufficient_scope' });
    expect(res.body.missing).to.deep.equal(['audit:read']);
    const reader = managementApi(server, await managementToken(server, ['audit:read', 'clients:read']));
    expect((await reader.get('/webhooks')).status).to.equal(403);
  });
});

describe('webhooks to the server’s own network (SSRF, OWASP ASVS 5.2.6)', function () {
  this.timeout(120_000);
  let admin: ManagementApi;
  // The guard on, as in production: no OUTBOUND_PRIVATE_ADDRESSES. One attempt, no retry.
  useServer({ admin: true, start: { env: { OUTBOUND_PRIVATE_ADDRESSES: 'false', WEBHOOK_RETRY_DELAYS: '0' } } }, (s) => ({ admin } = s));

  it('sends nothing to a loopback address, and records why each attempt was refused', async () => {
    const receiver = await startReceiver();
    try {
      const { body: endpoint } = await admin.post('/webhooks', { url: receiver.url, event_types: ['client.created'] });
      expect((await admin.post('/clients', { client_name: 'Internal probe', type: 'service', scope: 'orders:read' })).status).to.equal(201);
      await eventually('the refused attempts recorded', async () => {
        const list = await admin.get(`/webhooks/${endpoint.id}/deliveries`);
        const [d] = list.body.data;
        expect(d?.attempt_log?.length, JSON.stringify(list.body)).to.be.at.least(1);
        expect(d.attempt_log[0].status).to.equal(null);
        expect(d.attempt_log[0].error).to.match(/^refused: 127\.0\.0\.1 is a loopback, private or special-use address/);
      });
      expect(receiver.received).to.have.length(0);
    } finally {
      await receiver.close();
    }
  });

  it('checks the address the connection is made to, not only an earlier answer for the name (DNS rebinding)', async () => {
    const receiver = await startReceiver();
    try {
      // Straight to the connection pool: the name is resolved as the socket connects, and that answer
      // (loopback) is refused there, whatever an earlier lookup of the name said.
      const url = receiver.url.replace('127.0.0.1', 'localhost');
      const failure = await fetch(url, { method: 'POST', body: '{}', dispatcher: PUBLIC_ONLY } as RequestInit).then(
        () => undefined,
        (err: Error & { cause?: unknown }) => err,
      );
      expect(failure?.cause).to.be.instanceOf(OutboundRefusedError);
      expect((failure!.cause as Error).message).to.match(/^refused: localhost is a loopback, private or special-use address/);
      // fetchOutbound, as the webhook and Shared Signals senders call it, throws that refusal itself.
      const thrown = await fetchOutbound(url, { method: 'POST', body: '{}' }, false).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(thrown).to.be.instanceOf(OutboundRefusedError);
      expect(receiver.received).to.have.length(0);
      // Allowed private addresses (development, tests) go through.
      expect((await fetchOutbound(url, { method: 'POST', body: '{}' }, true)).status).to.equal(204);
      expect(receiver.received).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });
});
