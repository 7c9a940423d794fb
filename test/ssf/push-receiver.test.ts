import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { type JWK, SignJWT, generateKeyPair, importJWK } from 'jose';
import { ResourceServer, expressPushReceiver, koaPushReceiver, pushReceiver } from '../../packages/resource-server/src/index.js';
import { SetSigner } from '../../server/services/ssf/set.js';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, WEB, basic, postForm } from '../support/fixtures.js';
import type { ManagementApi } from '../support/setup.js';
import { useServer } from '../support/setup.js';
import { newPerson, signInTokens } from '../support/accounts.js';
import { eventually } from '../support/eventually.js';
import { OTHER_RECEIVER, RECEIVER, receiverSeed, receiverToken, refusal, ssf } from '../support/ssf.js';

const PUSH = 'urn:ietf:rfc:8935';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

/** The resource-server library receiving RFC 8935 push delivery from a real Gatehouse. */
describe('resource-server library: push delivery (RFC 8935)', () => {
  let server: TestServer;
  let admin: ManagementApi;
  const servers: Server[] = [];
  const started: ResourceServer[] = [];

  // Heartbeats every second, so a test can see a quiet push stream stay fresh.
  useServer(
    { admin: true, start: { env: { SSF_HEARTBEAT_SECONDS: '1' } }, seed: (seed) => seed.clients.push(receiverSeed(RECEIVER) as never, receiverSeed(OTHER_RECEIVER) as never) },
    (s) => ({ server, admin } = s),
  );
  after(async () => {
    for (const rs of started) await rs.stop();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** Listens first (the catch-up arrives during start()), then starts the library with a push stream there. */
  async function pushedResourceServer(
    streamName: string,
    mount: (rs: ResourceServer) => (req: IncomingMessage, res: ServerResponse) => void,
    extra: Partial<ConstructorParameters<typeof ResourceServer>[0]> = {},
    authorization?: string,
  ) {
    let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    const http = createServer((req, res) => (handler ? handler(req, res) : ((res.statusCode = 503), res.end())));
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const endpointUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/ssf/events`;
    const rs = new ResourceServer({
      issuer: server.issuer,
      audience: ORDERS_API,
      stream: { clientId: RECEIVER.id, clientSecret: RECEIVER.secret, streamName, push: { endpointUrl, authorization } },
      ...extra,
    });
    started.push(rs);
    handler = mount(rs);
    await rs.start();
    return { rs, http, endpointUrl };
  }

  const plain = (rs: ResourceServer) => {
    const receive = pushReceiver(rs);
    return (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/ssf/events') void receive(req, res);
      else ((res.statusCode = 404), res.end());
    };
  };

  const personToken = async () => {
    const person = await newPerson(admin, []);
    const { access_token } = await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API });
    return { person, token: access_token };
  };

  it('configures a push stream through the SSF API and refuses a token once its user is deactivated: node:http, Koa, Express', async () => {
    const koa = (rs: ResourceServer) => {
      const app = new Koa();
      app.use(koaPushReceiver(rs, '/ssf/events'));
      app.use((ctx) => {
        ctx.status = 404;
      });
      return app.callback();
    };
    const express = (rs: ResourceServer) => {
      const receive = expressPushReceiver(rs);
      return (req: IncomingMessage, res: ServerResponse) => receive(req, res, (err) => ((res.statusCode = 500), res.end(String(err))));
    };
    const all = [await pushedResourceServer('push-plain', plain), await pushedResourceServer('push-koa', koa), await pushedResourceServer('push-express', express)];

    // The streams are push streams to each one's endpoint, as the transmitter tells the receiver.
    const listed = (await ssf(server, await receiverToken(server), 'GET', '/ssf/streams')).body as { description: string; delivery: { method: string; endpoint_url: string } }[];
    for (const [i, name] of ['push-plain', 'push-koa', 'push-express'].entries()) {
      expect(listed.find((s) => s.description === name)?.delivery).to.deep.equal({ method: PUSH, endpoint_url: all[i].endpointUrl });
    }

    const { person, token } = await personToken();
    for (const { rs } of all) expect(await rs.verify(token)).to.include({ sub: person.id });
    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    for (const { rs } of all) {
      await eventually('the push reaches the resource server', async () => {
        expect((await refusal(rs.verify(token))).description).to.equal('the access token has been revoked');
      });
    }
  });

  it('stays fresh on a quiet stream through the transmitter’s heartbeats', async () => {
    // Heartbeats every second, checked on the transmitter's 1-second tick: a gap of up to about 2 s.
    const { rs } = await pushedResourceServer('push-heartbeat', plain, { staleAfterSeconds: 3 });
    const token = (await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) })).json.access_token as string;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      expect(rs.fresh, 'fresh between heartbeats').to.equal(true);
      await new Promise((r) => setTimeout(r, 250));
    }
    await rs.verify(token);
  });

  it('catches up after a restart: users deactivated before and while it was down are refused as soon as start() returns', async () => {
    const first = await pushedResourceServer('push-restart', plain);
    const before = await personToken();
    const { person, token } = await personToken();
    await first.rs.verify(token);
    expect((await admin.patch(`/users/${before.person.id}`, { active: false })).status).to.equal(200);
    await eventually('applied (and answered 202) before the stop', async () => {
      await refusal(first.rs.verify(before.token));
    });
    await first.rs.stop();
    first.http.closeAllConnections();
    await new Promise<void>((resolve) => first.http.close(() => resolve()));

    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    // A new process: another port, another Authorization header, a new stream with the last hour's events.
    const again = await pushedResourceServer('push-restart', plain);
    expect(again.endpointUrl).not.to.equal(first.endpointUrl);
    expect((await refusal(again.rs.verify(token))).description).to.equal('the access token has been revoked');
    expect((await refusal(again.rs.verify(before.token))).description).to.equal('the access token has been revoked');
    const listed = (await ssf(server, await receiverToken(server), 'GET', '/ssf/streams')).body as { description: string; delivery: unknown }[];
    expect(listed.filter((s) => s.description === 'push-restart').map((s) => s.delivery)).to.deep.equal([{ method: PUSH, endpoint_url: again.endpointUrl }]);
  });

  it('answers 202 for a good SET and refuses bad ones with RFC 8935 §2.3 errors: 400 for a bad SET, 401 without the credential, 503 for an unknown key', async () => {
    // A credential of its own choosing, so this test can send requests as the transmitter would.
    const authorization = 'Bearer push-test-credential-0123456789';
    const { endpointUrl: url, rs } = await pushedResourceServer('push-errors', plain, {}, authorization);

    const streamId = 'f3f0c7c2-3c55-4c4e-9d43-3c3d2b0c0a11';
    const event = (id: string) => ({ id, event_type: `${RISC}account-disabled`, sub_id: { format: 'complex', user: { format: 'opaque', id: `u-${id}` } }, event: { event_timestamp: Math.floor(Date.now() / 1000) } });
    const signer = (issuer = server.issuer) => new SetSigner(server.runtime.keys, issuer);
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', authorization, ...headers }, body });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
    };
    const revoked = async (userId: string) => rs.revocations.matches({ sub: userId, iat: 0 });

    // Signed by the issuer's key, from the issuer, for this receiver: applied.
    const good = await signer().sign(streamId, RECEIVER.id, event('1'));
    expect((await post(good.set)).status).to.equal(202);
    expect(await revoked('u-1')).to.equal(true);

    // The issuer's own key, with the wrong issuer, audience or typ; another key; not a JWT at all.
    const key = server.runtime.keys.providerJwks().keys.find((k) => k.kty === 'RSA') as JWK;
    const issuerKey = await importJWK(key, 'RS256');
    const withTyp = await new SignJWT({ events: { [`${RISC}account-disabled`]: {} }, sub_id: { format: 'opaque', id: 'u-4' } })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).setIssuer(server.issuer).setAudience(RECEIVER.id).setIssuedAt().setJti('4').sign(issuerKey);
    const stranger = await generateKeyPair('RS256');
    const forged = await new SignJWT({ events: { [`${RISC}account-disabled`]: {} }, sub_id: { format: 'opaque', id: 'u-5' } })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'secevent+jwt' }).setIssuer(server.issuer).setAudience(RECEIVER.id).setIssuedAt().setJti('5').sign(stranger.privateKey);
    for (const [set, err] of [
      [(await signer('https://evil.example.test').sign(streamId, RECEIVER.id, event('2'))).set, 'invalid_issuer'],
      [(await signer().sign(streamId, OTHER_RECEIVER.id, event('3'))).set, 'invalid_audience'],
      [withTyp, 'invalid_request'],
      [forged, 'invalid_key'],
      ['not a SET', 'invalid_request'],
    ] as const) {
      const res = await post(set);
      expect(res.status, err).to.equal(400);
      expect(res.type).to.match(/^application\/json/);
      expect(res.body.err).to.equal(err);
      expect(res.body.description).to.be.a('string');
    }
    for (const id of ['u-2', 'u-3', 'u-4', 'u-5']) expect(await revoked(id), id).to.equal(false);

    // Not application/secevent+jwt: 400. Without this stream's credential: 401, which the transmitter retries.
    expect((await post(good.set, { 'content-type': 'application/json' })).body.err).to.equal('invalid_request');
    for (const wrong of ['', 'Bearer push-test-credential-0123456788']) {
      const res = await post(good.set, { authorization: wrong });
      expect([res.status, res.body.err]).to.deep.equal([401, 'authentication_failed']);
    }
    // A key the issuer does not publish (yet): 503, retried, never a final 400 that would drop the event.
    const unknownKey = await new SignJWT({ events: {}, sub_id: { format: 'opaque', id: 'x' } })
      .setProtectedHeader({ alg: 'RS256', kid: 'not-published', typ: 'secevent+jwt' }).setIssuer(server.issuer).setAudience(RECEIVER.id).setIssuedAt().sign(stranger.privateKey);
    expect((await post(unknownKey)).status).to.equal(503);
    expect((await fetch(url)).status).to.equal(405);
  });
});
