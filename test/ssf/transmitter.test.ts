import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, WEB, basic, jwksOf, postForm } from '../support/fixtures.js';
import { managementApi, managementToken } from '../support/management.js';
import type { ManagementApi } from '../support/setup.js';
import { useServer } from '../support/setup.js';
import { newKey, newPerson, signInTokens } from '../support/accounts.js';
import { refresh } from '../support/code-flow.js';
import { eventually } from '../support/eventually.js';
import { OTHER_RECEIVER, RECEIVER, receiverSeed, receiverToken, ssf } from '../support/ssf.js';

const POLL = 'urn:ietf:rfc:8936';
const PUSH = 'urn:ietf:rfc:8935';
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GATEWAY = { id: 'ssf-gateway', secret: 'ssf-gateway-secret-0123456789abcdef' };

/** SSF 1.0 transmitter: metadata, stream management, RFC 8936 poll and RFC 8935 push of signed SETs. */
describe('Shared Signals transmitter', () => {
  let server: TestServer;
  let admin: ManagementApi;
  let token: string;

  useServer(
    {
      admin: true,
      seed: (seed) => {
        seed.clients.push(receiverSeed(RECEIVER) as never, receiverSeed(OTHER_RECEIVER) as never);
        seed.clients.push({ client_id: GATEWAY.id, client_secret: GATEWAY.secret, client_name: 'Gateway', grant_types: [TOKEN_EXCHANGE], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' } as never);
      },
    },
    (s) => ({ server, admin } = s),
  );
  before(async () => {
    token = await receiverToken(server);
  });

  /** Verifies a SET as a receiver written against RFC 8417 would: the issuer's JWKS, typ, iss, aud. */
  async function openSet(set: string, audience = RECEIVER.id) {
    const { payload, protectedHeader } = await jwtVerify(set, createLocalJWKSet(await jwksOf(server)), { issuer: server.issuer, audience, typ: 'secevent+jwt' });
    expect(protectedHeader.kid).to.be.a('string');
    return payload as { jti: string; sub_id: Record<string, { format: string; id: string } | string>; events: Record<string, Record<string, unknown>> };
  }

  /** A new poll stream, past the last hour's events it starts with (those of earlier tests). */
  async function newPollStream(receiverToken = token) {
    const res = await ssf(server, receiverToken, 'POST', '/ssf/streams', { description: 'test', delivery: { method: POLL } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const stream = res.body as { stream_id: string; delivery: { endpoint_url: string } };
    await drain(stream);
    return stream;
  }

  /** Polls until nothing is left, acknowledging everything: the SETs' payloads, in order. */
  async function drain(stream: { delivery: { endpoint_url: string } }) {
    const out = [];
    let ack: string[] = [];
    for (;;) {
      const res = await ssf(server, token, 'POST', stream.delivery.endpoint_url, { ack, returnImmediately: true });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const sets = Object.entries(res.body.sets as Record<string, string>);
      if (!sets.length) return out;
      for (const [jti, set] of sets) {
        const payload = await openSet(set);
        expect(payload.jti).to.equal(jti);
        out.push(payload);
      }
      ack = sets.map(([jti]) => jti);
    }
  }

  it('publishes its configuration (SSF 1.0 §7) and leaves OpenID discovery alone', async () => {
    const meta = (await (await fetch(`${server.url}/.well-known/ssf-configuration`)).json()) as Record<string, unknown>;
    expect(meta).to.include({ spec_version: '1_0', issuer: server.issuer, jwks_uri: `${server.issuer}/oauth/jwks`, default_subjects: 'ALL' });
    expect(meta.delivery_methods_supported).to.have.members([PUSH, POLL]);
    expect(meta.configuration_endpoint).to.equal(`${server.issuer}/ssf/streams`);
    expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).to.equal(200);
  });

  it('lets only a receiver with ssf:stream manage its own streams, and refuses bad input with a 4xx', async () => {
    expect((await ssf(server, undefined, 'GET', '/ssf/streams')).status).to.equal(401);
    // A token for another audience is not a receiver's, even from the same server.
    const orders = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect((await ssf(server, orders.json.access_token as string, 'GET', '/ssf/streams')).status).to.equal(401);

    const stream = await newPollStream();
    expect(stream.delivery.endpoint_url).to.equal(`${server.issuer}/ssf/poll/${stream.stream_id}`);
    const read = await ssf(server, token, 'GET', `/ssf/streams?stream_id=${stream.stream_id}`);
    expect(read.body).to.include({ stream_id: stream.stream_id, iss: server.issuer, aud: RECEIVER.id });
    const patched = await ssf(server, token, 'PATCH', '/ssf/streams', { stream_id: stream.stream_id, events_requested: [`${CAEP}session-revoked`] });
    expect(patched.status).to.equal(200);
    expect(patched.body.events_delivered).to.deep.equal([`${CAEP}session-revoked`]);
    const status = await ssf(server, token, 'POST', '/ssf/status', { stream_id: stream.stream_id, status: 'paused' });
    expect(status.body).to.deep.equal({ stream_id: stream.stream_id, status: 'paused' });
    expect((await ssf(server, token, 'GET', `/ssf/status?stream_id=${stream.stream_id}`)).body.status).to.equal('paused');

    // Another receiver cannot tell this stream from none.
    const other = await receiverToken(server, OTHER_RECEIVER);
    expect((await ssf(server, other, 'GET', `/ssf/streams?stream_id=${stream.stream_id}`)).status).to.equal(404);
    expect((await ssf(server, other, 'POST', stream.delivery.endpoint_url, {})).status).to.equal(404);
    expect((await ssf(server, other, 'GET', '/ssf/streams')).body).to.deep.equal([]);
    // Nor change, pause, verify or delete it: each answers as for no stream, and the stream is as it was.
    for (const [method, path, body] of [
      ['PATCH', '/ssf/streams', { stream_id: stream.stream_id, delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/steal' } }],
      ['PUT', '/ssf/streams', { stream_id: stream.stream_id, delivery: { method: POLL }, description: 'taken' }],
      ['POST', '/ssf/status', { stream_id: stream.stream_id, status: 'disabled' }],
      ['GET', `/ssf/status?stream_id=${stream.stream_id}`, undefined],
      ['POST', '/ssf/verify', { stream_id: stream.stream_id, state: 'x' }],
      ['DELETE', `/ssf/streams?stream_id=${stream.stream_id}`, undefined],
    ] as const) {
      expect((await ssf(server, other, method, path, body)).status, `${method} ${path}`).to.equal(404);
    }
    const unchanged = await ssf(server, token, 'GET', `/ssf/streams?stream_id=${stream.stream_id}`);
    expect(unchanged.body).to.include({ description: 'test' });
    expect(unchanged.body.delivery).to.deep.equal({ method: POLL, endpoint_url: stream.delivery.endpoint_url });
    expect((await ssf(server, token, 'GET', `/ssf/status?stream_id=${stream.stream_id}`)).body.status).to.equal('paused');
    expect(await drain(stream)).to.deep.equal([]);

    for (const [method, path, body] of [
      ['POST', '/ssf/streams', { delivery: { method: 'urn:example:carrier-pigeon' } }],
      ['POST', '/ssf/streams', { delivery: { method: PUSH } }],
      ['POST', '/ssf/streams', { events_requested: ['https://example.test/not-an-event'] }],
      ['GET', '/ssf/streams?stream_id=not-a-uuid', undefined],
      ['POST', '/ssf/status', { stream_id: stream.stream_id, status: 'sleeping' }],
      ['POST', stream.delivery.endpoint_url, { maxEvents: -1 }],
      ['POST', stream.delivery.endpoint_url, { ack: 'all' }],
    ] as const) {
      const res = await ssf(server, token, method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).to.be.within(400, 404);
    }
    expect((await ssf(server, token, 'DELETE', `/ssf/streams?stream_id=${stream.stream_id}`)).status).to.equal(204);
    expect((await ssf(server, token, 'GET', `/ssf/streams?stream_id=${stream.stream_id}`)).status).to.equal(404);
  });

  it('guards ssf:stream with roles: only an API administrator or a holder may grant it, and a receiver stops the moment it loses it', async () => {
    // clients:write alone cannot make a receiver: the events tell which people lost access and when.
    const clientsOnly = managementApi(server, await managementToken(server, ['clients:write']));
    const refused = await clientsOnly.post('/clients', { client_name: 'Would-be receiver', type: 'service', scope: 'ssf:stream' });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
    expect(refused.body.missing).to.deep.equal(['ssf:stream']);

    // An API administrator (apis:write) may.
    const created = await admin.post('/clients', { client_name: 'Receiver made by hand', type: 'service', scope: 'ssf:stream' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const receiver = { id: created.body.client_id as string, secret: created.body.client_secret as string };
    const own = await receiverToken(server, receiver);
    expect((await ssf(server, own, 'POST', '/ssf/streams', { delivery: { method: POLL } })).status).to.equal(201);

    // The scope taken from the client: its unexpired token no longer manages or polls anything.
    expect((await admin.patch(`/clients/${receiver.id}`, { scope: '' })).status).to.equal(200);
    const after = await ssf(server, own, 'GET', '/ssf/streams');
    expect(after.status).to.equal(403);
    expect(after.headers.get('www-authenticate')).to.include('insufficient_scope');
  });

  it('puts in access tokens what receivers match on: sub, client_id, jti, grant_id, and api_key_id when exchanged', async () => {
    const person = await newPerson(admin, []);
    const tokens = await signInTokens(server, WEB, person, 'openid offline_access orders:read', { resource: ORDERS_API });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).to.include({ sub: person.id, client_id: WEB.id });
    expect(claims.jti).to.be.a('string');
    expect(claims.grant_id).to.be.a('string');

    const { id, key } = await newKey(admin, person.id, ['orders:read']);
    const exchanged = await postForm(
      `${server.url}/oauth/token`,
      { grant_type: TOKEN_EXCHANGE, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', subject_token: key, resource: ORDERS_API },
      { authorization: basic(GATEWAY.id, GATEWAY.secret) },
    );
    expect(exchanged.status, exchanged.text).to.equal(200);
    expect(decodeJwt(exchanged.json.access_token as string)).to.include({ sub: person.id, client_id: GATEWAY.id, api_key_id: id });
  });

  it('sends, in order, an event for each way access ends, naming what tokens carry', async () => {
    const stream = await newPollStream();
    const person = await newPerson(admin, []);
    const tokens = await signInTokens(server, WEB, person, 'openid offline_access orders:read', { resource: ORDERS_API });
    const grantId = decodeJwt(tokens.access_token).grant_id;
    const { id: keyId } = await newKey(admin, person.id, ['orders:read']);

    // Refresh-token reuse revokes the grant (RFC 9700 §4.14.2).
    const first = await refresh(server, WEB, tokens.refresh_token!);
    expect(first.status).to.equal(200);
    expect((await refresh(server, WEB, tokens.refresh_token!)).status).to.equal(400);
    expect((await admin.delete(`/api-keys/${keyId}`)).status).to.equal(204);
    expect((await admin.patch(`/users/${person.id}`, { password: `new-${person.password}` })).status).to.equal(200);
    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: false })).status).to.equal(200);
    expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: true })).status).to.equal(200);
    expect((await admin.delete(`/users/${person.id}`)).status).to.equal(204);

    const events = (await drain(stream)).map((p) => ({ type: Object.keys(p.events)[0], sub_id: p.sub_id, event: Object.values(p.events)[0] }));
    const user = { format: 'opaque', id: person.id };
    expect(events.map((e) => [e.type, e.sub_id])).to.deep.equal([
      [`${CAEP}session-revoked`, { format: 'complex', user, session: { format: 'opaque', id: grantId } }],
      [`${CAEP}credential-change`, { format: 'complex', user, api_key: { format: 'opaque', id: keyId } }],
      [`${CAEP}credential-change`, { format: 'complex', user }],
      [`${RISC}account-disabled`, { format: 'complex', user }],
      [`${CAEP}session-revoked`, { format: 'complex', application: { format: 'opaque', id: SERVICE.id } }],
      [`${RISC}account-purged`, { format: 'complex', user }],
    ]);
    for (const e of events) expect(e.event.event_timestamp).to.be.a('number');
    expect(events[2].event).to.include({ credential_type: 'password', change_type: 'update' });
    // Acknowledged: nothing is sent again.
    expect(await drain(stream)).to.deep.equal([]);
  });

  it('keeps what a receiver has not acknowledged, sends a verification event on request, and holds a paused stream', async () => {
    const stream = await newPollStream();
    expect((await ssf(server, token, 'POST', '/ssf/verify', { stream_id: stream.stream_id, state: 'abc' })).status).to.equal(204);
    const once = await ssf(server, token, 'POST', stream.delivery.endpoint_url, { returnImmediately: true });
    const again = await ssf(server, token, 'POST', stream.delivery.endpoint_url, { returnImmediately: true });
    expect(Object.keys(again.body.sets)).to.deep.equal(Object.keys(once.body.sets));
    const [verification] = Object.values(once.body.sets as Record<string, string>);
    expect((await openSet(verification)).events[VERIFICATION]).to.deep.equal({ state: 'abc' });
    await drain(stream);

    await ssf(server, token, 'POST', '/ssf/status', { stream_id: stream.stream_id, status: 'paused' });
    const person = await newPerson(admin, []);
    await admin.patch(`/users/${person.id}`, { active: false });
    expect((await ssf(server, token, 'POST', stream.delivery.endpoint_url, { returnImmediately: true })).body.sets).to.deep.equal({});
    await ssf(server, token, 'POST', '/ssf/status', { stream_id: stream.stream_id, status: 'enabled' });
    expect((await drain(stream)).map((p) => p.sub_id)).to.deep.equal([{ format: 'complex', user: { format: 'opaque', id: person.id } }]);
  });

  it('answers a held poll as soon as an event commits', async () => {
    const stream = await newPollStream();
    const held = ssf(server, token, 'POST', stream.delivery.endpoint_url, { maxEvents: 10 });
    const person = await newPerson(admin, []);
    await admin.patch(`/users/${person.id}`, { active: false });
    const res = await held;
    expect(Object.keys(res.body.sets)).to.have.length(1);
  });

  describe('push (RFC 8935)', () => {
    let receiver: Server;
    let url: string;
    const received: { authorization?: string; type?: string; set: string; answered: number }[] = [];
    let answer = 202;

    before(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push({ authorization: req.headers.authorization, type: req.headers['content-type'], set: body, answered: answer });
          res.statusCode = answer;
          res.end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
    });
    after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    it('POSTs each SET with the receiver’s credential, retries until 202, and keeps the credential sealed', async () => {
      const created = await ssf(server, token, 'POST', '/ssf/streams', {
        delivery: { method: PUSH, endpoint_url: url, authorization_header: 'Bearer receiver-secret-123' },
        events_requested: [`${RISC}account-disabled`],
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(JSON.stringify(created.body)).not.to.include('receiver-secret-123');
      const { rows } = await server.runtime.db.query<{ t: string }>('SELECT row_to_json(s)::text AS t FROM ssf_streams s');
      expect(rows.map((r) => r.t).join()).not.to.include('receiver-secret-123');

      answer = 503;
      const person = await newPerson(admin, []);
      await admin.patch(`/users/${person.id}`, { active: false });
      const isOurs = (r: { set: string }) => JSON.stringify(decodeJwt(r.set).sub_id).includes(person.id);
      // A new stream starts with the last hour's events (earlier tests'): the first is tried again and again.
      const jtis = () => received.map((r) => decodeJwt(r.set).jti);
      await eventually('a retry', () => new Set(jtis()).size < jtis().length);
      answer = 202;
      await eventually('our event accepted', () => received.some((r) => isOurs(r) && r.answered === 202));
      await eventually('the cursor past it', async () => {
        const { rows: s } = await server.runtime.db.query<{ last: string | null; acked: string }>(
          'SELECT last_delivered_id::text AS last, acked_through::text AS acked FROM ssf_streams WHERE id = $1',
          [created.body.stream_id],
        );
        return s[0].last !== null && s[0].last === s[0].acked && Number(s[0].acked) >= Number(decodeJwt(received.find(isOurs)!.set).jti!.split('.')[0]);
      });
      const ours = received.filter(isOurs);
      expect(ours.length).to.be.at.least(1);
      for (const r of received) {
        expect(r).to.include({ authorization: 'Bearer receiver-secret-123', type: 'application/secevent+jwt' });
        expect((await openSet(r.set)).events).to.have.property(`${RISC}account-disabled`);
      }
      await ssf(server, token, 'DELETE', `/ssf/streams?stream_id=${created.body.stream_id}`);
    });
  });
});
