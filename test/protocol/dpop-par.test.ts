import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { accessTokenCheck } from '../../examples/resource-server.js';
import { newKey, newPerson } from '../support/accounts.js';
import { AuthorizationError, authorize, type FlowClient } from '../support/code-flow.js';
import { ORDERS_API, SERVICE, SPA, WEB, basic, postForm } from '../support/fixtures.js';
import type { TestServer } from '../support/server.js';
import { type ManagementApi, useServer } from '../support/setup.js';

/**
 * Issue 12: pushed authorization requests (RFC 9126) and DPoP (RFC 9449), driven by openid-client as
 * an application uses them, with the per-client settings that make them mandatory; token exchange
 * bound to a DPoP key; and the README's resource-server check (examples/resource-server.ts), which
 * refuses a bound token presented as a plain Bearer token.
 */

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const GATEWAY = { id: 'dpop-gateway', secret: 'dpop-gateway-secret-0123456789abcdef' };
const REDIRECT = 'http://127.0.0.1:8080/par-callback';

const insecure = { execute: [oidc.allowInsecureRequests] };

/** openid-client as the application holding these credentials. */
const rpFor = (server: TestServer, id: string, auth: oidc.ClientAuth) => oidc.discovery(new URL(server.url), id, undefined, auth, insecure);

/** A DPoP proof made by hand (RFC 9449 §4.2), to send what openid-client never would. */
async function handMadeProof(claims: { htm: string; htu: string }) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ ...claims, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(privateKey);
  return { proof, thumbprint: await calculateJwkThumbprint(jwk) };
}

/** A resource server running examples/resource-server.ts: 200 with what it accepted, or 401. */
async function startResourceServer(issuer: string): Promise<{ url: string; close(): Promise<void> }> {
  const authenticate = accessTokenCheck(issuer, ORDERS_API);
  const server: Server = createServer((req, res) => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`;
    authenticate({ method: req.method!, url, authorization: req.headers.authorization, dpop: req.headers.dpop as string | undefined }).then(
      (who) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(who)),
      (err: Error) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('DPoP (RFC 9449) and pushed authorization requests (RFC 9126), with openid-client', () => {
  let server: TestServer;
  let api: ManagementApi;
  useServer(
    {
      admin: true,
      seed: (seed) => {
        seed.clients.push({
          client_id: GATEWAY.id, client_secret: GATEWAY.secret, client_name: 'DPoP gateway', grant_types: [TOKEN_EXCHANGE], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic',
        } as never);
      },
    },
    (s) => ({ server, admin: api } = s),
  );

  const webApp = async (extra: Record<string, unknown> = {}): Promise<FlowClient & { secret: string }> => {
    const res = await api.post('/clients', { client_name: 'PAR app', type: 'web', redirect_uris: [REDIRECT], scope: 'openid orders:read', ...extra });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { id: res.body.client_id, secret: res.body.client_secret, redirect: REDIRECT };
  };

  describe('pushed authorization requests', () => {
    it('openid-client pushes the request to /oauth/par and the code flow completes from its request_uri', async () => {
      const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery.pushed_authorization_request_endpoint).to.equal(`${server.issuer}/oauth/par`);
      const client = await webApp();
      const config = await rpFor(server, client.id, oidc.ClientSecretBasic(client.secret));
      const state = oidc.randomState();
      const url = await oidc.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: 'openid orders:read', resource: ORDERS_API, state });
      // Only the request_uri travels through the browser (RFC 9126 §4).
      expect([...url.searchParams.keys()].sort()).to.deep.equal(['client_id', 'request_uri']);
      const person = await newPerson(api, []);
      const flow = await authorize(server, { client, scope: 'openid', user: person, start: { url, state } });
      const tokens = await oidc.authorizationCodeGrant(config, flow.callback, { expectedState: state, idTokenExpected: true });
      expect(decodeJwt(tokens.access_token)).to.include({ aud: ORDERS_API, scope: 'orders:read', client_id: client.id });
    });

    it('require_pushed_authorization_requests refuses a plain authorization request and accepts a pushed one; PATCH turns it off', async () => {
      const client = await webApp({ require_pushed_authorization_requests: true });
      expect((await api.get(`/clients/${client.id}`)).body.require_pushed_authorization_requests).to.equal(true);
      const person = await newPerson(api, []);
      const plain = await authorize(server, { client, scope: 'openid', user: person }).then(() => undefined, (err: unknown) => err);
      expect(plain).to.be.instanceOf(AuthorizationError);
      expect((plain as AuthorizationError).error).to.equal('invalid_request');
      expect((plain as AuthorizationError).description).to.match(/pushed authorization request/i);

      const config = await rpFor(server, client.id, oidc.ClientSecretPost(client.secret));
      const state = oidc.randomState();
      const url = await oidc.buildAuthorizationUrlWithPAR(config, { redirect_uri: REDIRECT, scope: 'openid', state });
      const flow = await authorize(server, { client, scope: 'openid', user: person, start: { url, state } });
      expect((await oidc.authorizationCodeGrant(config, flow.callback, { expectedState: state, idTokenExpected: true })).id_token).to.be.a('string');

      const off = await api.patch(`/clients/${client.id}`, { require_pushed_authorization_requests: false });
      expect([off.status, off.body.require_pushed_authorization_requests]).to.deep.equal([200, false]);
      await authorize(server, { client, scope: 'openid', user: person });
    });

    it('refuses require_pushed_authorization_requests on a client that signs nobody in (400)', async () => {
      const res = await api.post('/clients', { client_name: 'No users', type: 'service', scope: 'orders:read', require_pushed_authorization_requests: true });
      expect([res.status, res.body.field]).to.deep.equal([400, 'require_pushed_authorization_requests']);
    });
  });

  describe('DPoP-bound tokens', () => {
    let resource: Awaited<ReturnType<typeof startResourceServer>>;
    before(async () => {
      resource = await startResourceServer(server.issuer);
    });
    after(async () => resource?.close());

    it('code flow and refresh of a public client: the access token carries cnf.jkt and the refresh token is bound to the key', async () => {
      const spa = { ...SPA, redirect: SPA.redirect };
      const config = await rpFor(server, SPA.id, oidc.None());
      const keyPair = await oidc.randomDPoPKeyPair();
      const DPoP = oidc.getDPoPHandle(config, keyPair);
      const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));

      const flow = await authorize(server, { client: spa, scope: 'openid orders:read', resource: ORDERS_API });
      const tokens = await oidc.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, idTokenExpected: true }, undefined, { DPoP });
      expect(tokens.token_type).to.equal('dpop');
      expect(decodeJwt(tokens.access_token).cnf).to.deep.equal({ jkt });
      expect(tokens.refresh_token).to.be.a('string');

      // RFC 9449 §5: a public client's refresh token needs a proof of the same key.
      const withoutProof = await oidc.refreshTokenGrant(config, tokens.refresh_token!).then(() => undefined, (err: { error?: string }) => err.error);
      expect(withoutProof).to.equal('invalid_grant');
      const otherKey = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
      const withOtherKey = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: otherKey }).then(() => undefined, (err: { error?: string }) => err.error);
      expect(withOtherKey).to.equal('invalid_grant');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
      expect(decodeJwt(refreshed.access_token).cnf).to.deep.equal({ jkt });

      // The README's resource server: with the proof, accepted; as a plain Bearer token, refused (RFC 9449 §7.1).
      const ok = await oidc.fetchProtectedResource(config, refreshed.access_token, new URL(resource.url), 'GET', undefined, undefined, { DPoP });
      expect(ok.status).to.equal(200);
      expect(await ok.json()).to.include({ boundTo: jkt, clientId: SPA.id });
      const asBearer = await fetch(resource.url, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      expect(asBearer.status).to.equal(401);
      expect(((await asBearer.json()) as { error: string }).error).to.match(/DPoP/);
      // A proof made for another URL is refused too.
      const elsewhere = await handMadeProof({ htm: 'GET', htu: 'https://elsewhere.example/orders' });
      const misdirected = await fetch(resource.url, { headers: { authorization: `DPoP ${refreshed.access_token}`, dpop: elsewhere.proof } });
      expect(misdirected.status).to.equal(401);
    });

    it('client credentials with a proof: a bound token that introspection describes with cnf and token_type DPoP', async () => {
      const config = await rpFor(server, SERVICE.id, oidc.ClientSecretBasic(SERVICE.secret));
      const keyPair = await oidc.randomDPoPKeyPair();
      const DPoP = oidc.getDPoPHandle(config, keyPair);
      const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read', resource: ORDERS_API }, { DPoP });
      expect(tokens.token_type).to.equal('dpop');
      expect(decodeJwt(tokens.access_token).cnf).to.deep.equal({ jkt });

      // The service client is also the Orders API's resource server (support/fixtures.ts).
      const described = await oidc.tokenIntrospection(config, tokens.access_token);
      expect(described).to.include({ active: true, token_type: 'DPoP', client_id: SERVICE.id });
      expect(described.cnf).to.deep.equal({ jkt });
      const plain = await oidc.clientCredentialsGrant(config, { scope: 'orders:read', resource: ORDERS_API });
      const plainDescribed = await oidc.tokenIntrospection(config, plain.access_token);
      expect(plainDescribed).to.include({ active: true, token_type: 'Bearer' });
      expect(plainDescribed).not.to.have.property('cnf');

      const ok = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(resource.url), 'GET', undefined, undefined, { DPoP });
      expect(ok.status).to.equal(200);
      expect((await fetch(resource.url, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).to.equal(401);
      // An unbound token is a plain Bearer token there.
      expect((await fetch(resource.url, { headers: { authorization: `Bearer ${plain.access_token}` } })).status).to.equal(200);
    });

    it('dpop_bound_access_tokens makes the proof mandatory at the token endpoint', async () => {
      const created = await api.post('/clients', { client_name: 'Bound service', type: 'service', scope: 'orders:read', dpop_bound_access_tokens: true });
      expect([created.status, created.body.dpop_bound_access_tokens], JSON.stringify(created.body)).to.deep.equal([201, true]);
      const config = await rpFor(server, created.body.client_id, oidc.ClientSecretBasic(created.body.client_secret));
      const refused = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' }).then(() => undefined, (err: { error?: string }) => err);
      // oidc-provider keeps the reason ("DPoP proof JWT not provided") in error_detail, for the logs.
      expect(refused?.error).to.equal('invalid_grant');
      const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
      expect((await oidc.clientCredentialsGrant(config, { scope: 'orders:read' }, { DPoP })).token_type).to.equal('dpop');
      const off = await api.patch(`/clients/${created.body.client_id}`, { dpop_bound_access_tokens: false });
      expect([off.status, off.body.dpop_bound_access_tokens]).to.deep.equal([200, false]);
      expect((await oidc.clientCredentialsGrant(config, { scope: 'orders:read' })).token_type).to.equal('bearer');
    });

    it('a code flow of a confidential client with a proof binds its access token too', async () => {
      const config = await rpFor(server, WEB.id, oidc.ClientSecretBasic(WEB.secret));
      const keyPair = await oidc.randomDPoPKeyPair();
      const DPoP = oidc.getDPoPHandle(config, keyPair);
      const flow = await authorize(server, { client: WEB, scope: 'openid orders:read', resource: ORDERS_API });
      const tokens = await oidc.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, idTokenExpected: true }, undefined, { DPoP });
      expect(decodeJwt(tokens.access_token).cnf).to.deep.equal({ jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) });
      // A confidential client authenticates at every refresh, so its refresh token is not bound (RFC 9449 §5).
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.token_type).to.equal('bearer');
    });
  });

  describe('token exchange of an API key with a DPoP proof', () => {
    const exchangeForm = (key: string) => ({ subject_token: key, subject_token_type: ACCESS_TOKEN_TYPE, resource: ORDERS_API, scope: 'orders:read' });

    it('binds the exchanged token to the proof’s key (cnf.jkt, token_type DPoP); without a proof it stays a Bearer token, unless the client requires DPoP', async () => {
      const person = await newPerson(api, []);
      const { key } = await newKey(api, person.id, ['orders:read']);
      const config = await rpFor(server, GATEWAY.id, oidc.ClientSecretBasic(GATEWAY.secret));
      const keyPair = await oidc.randomDPoPKeyPair();
      const DPoP = oidc.getDPoPHandle(config, keyPair);
      const bound = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, exchangeForm(key), { DPoP });
      expect(bound.token_type).to.equal('dpop');
      expect(decodeJwt(bound.access_token)).to.deep.include({ sub: person.id, cnf: { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) } });

      const plain = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, exchangeForm(key));
      expect(plain.token_type).to.equal('bearer');
      expect(decodeJwt(plain.access_token)).not.to.have.property('cnf');

      // A gateway registered with dpop_bound_access_tokens must send a proof here too.
      expect((await api.patch(`/clients/${GATEWAY.id}`, { dpop_bound_access_tokens: true })).status).to.equal(200);
      try {
        const refused = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, exchangeForm(key)).then(() => undefined, (err: { error?: string }) => err.error);
        expect(refused).to.equal('invalid_grant');
        expect((await oidc.genericGrantRequest(config, TOKEN_EXCHANGE, exchangeForm(key), { DPoP })).token_type).to.equal('dpop');
      } finally {
        await api.patch(`/clients/${GATEWAY.id}`, { dpop_bound_access_tokens: false });
      }
    });

    it('refuses a proof for another URL (invalid_dpop_proof) and the same proof twice (RFC 9449 §11.1)', async () => {
      const person = await newPerson(api, []);
      const { key } = await newKey(api, person.id, ['orders:read']);
      const send = (proof: string) => postForm(`${server.url}/oauth/token`, { grant_type: TOKEN_EXCHANGE, ...exchangeForm(key) }, { authorization: basic(GATEWAY.id, GATEWAY.secret), dpop: proof });

      const misdirected = await handMadeProof({ htm: 'POST', htu: 'https://elsewhere.example/oauth/token' });
      const refused = await send(misdirected.proof);
      expect([refused.status, refused.json.error], refused.text).to.deep.equal([400, 'invalid_dpop_proof']);

      const good = await handMadeProof({ htm: 'POST', htu: `${server.issuer}/oauth/token` });
      const first = await send(good.proof);
      expect(first.status, first.text).to.equal(200);
      expect(decodeJwt(first.json.access_token as string).cnf).to.deep.equal({ jkt: good.thumbprint });
      const replayed = await send(good.proof);
      // invalid_grant, as oidc-provider answers a replayed proof at its own grants ("DPoP proof JWT Replay detected").
      expect([replayed.status, replayed.json.error], replayed.text).to.deep.equal([400, 'invalid_grant']);
    });
  });
});
