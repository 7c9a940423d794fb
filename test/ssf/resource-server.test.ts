import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import Koa from 'koa';
import { SignJWT, calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { ResourceServer, expressMiddleware, koaMiddleware, protect } from '../../packages/resource-server/src/index.js';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, SERVICE, WEB, basic, postForm } from '../support/fixtures.js';
import type { ManagementApi } from '../support/setup.js';
import { useServer } from '../support/setup.js';
import { newPerson, signInTokens } from '../support/accounts.js';
import { eventually } from '../support/eventually.js';
import { RECEIVER, receiverSeed, refusal } from '../support/ssf.js';

/** The resource-server library (packages/resource-server) against a real Gatehouse. */
describe('resource-server library', () => {
  let server: TestServer;
  let admin: ManagementApi;
  const started: ResourceServer[] = [];

  useServer({ admin: true, seed: (seed) => seed.clients.push(receiverSeed(RECEIVER) as never) }, (s) => ({ server, admin } = s));
  after(async () => {
    for (const rs of started) await rs.stop();
  });

  async function resourceServer(streamName: string, extra: Partial<ConstructorParameters<typeof ResourceServer>[0]> = {}) {
    const rs = new ResourceServer({
      issuer: server.issuer,
      audience: ORDERS_API,
      stream: { clientId: RECEIVER.id, clientSecret: RECEIVER.secret, streamName },
      ...extra,
    });
    started.push(rs);
    await rs.start();
    return rs;
  }

  const serviceToken = async () => {
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(res.status, res.text).to.equal(200);
    return res.json.access_token as string;
  };

  it('verifies tokens offline (issuer, audience, typ at+jwt) and refuses one once its client is suspended', async () => {
    const rs = await resourceServer('orders-a');
    const token = await serviceToken();
    expect(await rs.verify(token)).to.include({ sub: SERVICE.id, client_id: SERVICE.id });

    const other = new ResourceServer({ issuer: server.issuer, audience: 'https://elsewhere.example.test' });
    expect((await refusal(other.verify(token))).status).to.equal(401);
    const person = await newPerson(admin, []);
    const { id_token } = (await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API })) as unknown as { id_token: string };
    expect((await refusal(rs.verify(id_token))).error).to.equal('invalid_token');

    expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: false })).status).to.equal(200);
    await eventually('the suspension reaches the resource server', async () => {
      expect((await refusal(rs.verify(token))).description).to.equal('the access token has been revoked');
    });
    expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: true })).status).to.equal(200);
    // Tokens issued after the suspension are not matched by it (event_timestamp is in whole seconds).
    await eventually('a new token is accepted', async () => {
      await rs.verify(await serviceToken());
    });
    expect((await refusal(rs.verify(token))).status).to.equal(401);
  });

  it('refuses the tokens of a user who was deactivated while it was stopped, as soon as it is back (no gap)', async () => {
    const first = await resourceServer('orders-restart');
    const person = await newPerson(admin, []);
    const { access_token } = await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API });
    expect(await first.verify(access_token)).to.include({ sub: person.id });
    await first.stop();

    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    // The same stream name: the same stream, and what it had not acknowledged. start() returns once applied.
    const again = await resourceServer('orders-restart');
    expect((await refusal(again.verify(access_token))).description).to.equal('the access token has been revoked');
  });

  it('starts only once a backlog longer than one poll answer (100 SETs) is applied', async () => {
    const person = await newPerson(admin, []);
    const { access_token } = await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API });
    // More than 100 events before the one that matters: a new stream's first answer cannot hold them all.
    // Each suspension is one event.
    for (let i = 0; i < 101; i++) {
      expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: false })).status).to.equal(200);
      expect((await admin.patch(`/clients/${SERVICE.id}`, { enabled: true })).status).to.equal(200);
    }
    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    const rs = await resourceServer('orders-long-backlog');
    expect((await refusal(rs.verify(access_token))).description).to.equal('the access token has been revoked');
  });

  it('fails closed when the stream goes silent: refuses (503), or asks introspection when configured', async () => {
    const person = await newPerson(admin, []);
    const { access_token } = await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API });
    const refusing = await resourceServer('orders-stale', { staleAfterSeconds: 0.5 });
    // At once: the stream is fresh for 0.5 s after its last answer (a held poll is answered after 5 s).
    await refusing.verify(access_token);
    const introspecting = await resourceServer('orders-stale-2', {
      staleAfterSeconds: 0.5,
      whenStale: 'introspect',
      introspection: { clientId: SERVICE.id, clientSecret: SERVICE.secret },
    });
    await refusing.stop();
    await introspecting.stop();
    await eventually('the view goes stale', () => !refusing.fresh);
    const err = await refusal(refusing.verify(access_token));
    expect([err.status, err.error]).to.deep.equal([503, 'temporarily_unavailable']);

    await eventually('stale too', () => !introspecting.fresh);
    expect(await introspecting.verify(access_token)).to.include({ sub: person.id });
    expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    // The stream is stopped: introspection alone finds it revoked.
    expect((await refusal(introspecting.verify(access_token))).status).to.equal(401);
  });

  it('guards plain node:http, Express-style and Koa handlers with RFC 6750 answers', async () => {
    const rs = await resourceServer('orders-mw');
    const token = await serviceToken();
    const servers: Server[] = [];
    const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      const s = createServer(handler);
      servers.push(s);
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(s.address() as AddressInfo).port}/orders`;
    };
    const koa = new Koa();
    koa.use(koaMiddleware(rs));
    koa.use((ctx) => {
      ctx.body = { sub: (ctx.state.auth as { sub: string }).sub };
    });
    const express = expressMiddleware(rs);
    const urls = [
      await listen(protect(rs, (req, res) => res.end(JSON.stringify({ sub: req.auth.sub })))),
      await listen((req, res) => express(req, res, () => res.end(JSON.stringify({ sub: (req as { auth?: { sub: string } }).auth!.sub })))),
      await listen(koa.callback()),
    ];
    try {
      for (const url of urls) {
        const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        expect(ok.status, url).to.equal(200);
        expect(await ok.json()).to.deep.equal({ sub: SERVICE.id });
        const bad = await fetch(url, { headers: { authorization: 'Bearer nope' } });
        expect(bad.status, url).to.equal(401);
        expect(bad.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token"/);
      }
    } finally {
      for (const s of servers) s.close();
    }
  });

  it('accepts a DPoP-bound token (cnf.jkt) only with a proof from its key for this request (RFC 9449)', async () => {
    const issuerKeys = await generateKeyPair('ES256');
    const publicJwk = { ...(await exportJWK(issuerKeys.publicKey)), kid: 'k1', alg: 'ES256' };
    const rs = new ResourceServer({ issuer: 'https://as.example.test', audience: ORDERS_API, jwks: createLocalJWKSet({ keys: [publicJwk] }) });
    const holder = await generateKeyPair('ES256');
    const holderJwk = await exportJWK(holder.publicKey);
    const token = await new SignJWT({ client_id: 'c', cnf: { jkt: await calculateJwkThumbprint(holderJwk) } })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer('https://as.example.test').setAudience(ORDERS_API).setSubject('u').setIssuedAt().setExpirationTime('5m').setJti('j')
      .sign(issuerKeys.privateKey);
    const proof = (key = holder.privateKey, jwk = holderJwk, htu = 'https://api.example.test/orders') =>
      new SignJWT({ htm: 'GET', htu, ath: createHash('sha256').update(token).digest('base64url') })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().setJti(crypto.randomUUID()).sign(key);
    const request = async (p?: string) => ({ proof: p, method: 'GET', url: 'https://api.example.test/orders?page=2' });

    expect(await rs.verify(token, { dpop: await request(await proof()) })).to.include({ sub: 'u' });
    expect((await refusal(rs.verify(token))).error).to.equal('invalid_dpop_proof');
    const thief = await generateKeyPair('ES256');
    expect((await refusal(rs.verify(token, { dpop: await request(await proof(thief.privateKey, await exportJWK(thief.publicKey))) }))).error).to.equal('invalid_dpop_proof');
    expect((await refusal(rs.verify(token, { dpop: await request(await proof(undefined, undefined, 'https://api.example.test/other')) }))).error).to.equal('invalid_dpop_proof');
  });
});
