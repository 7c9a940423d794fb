import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { ORDERS_API, basic, postForm } from '../support/fixtures.js';
import { type ManagementApi, useServer } from '../support/setup.js';
import type { TestServer } from '../support/server.js';

/** A key pair of the client's own: the private half signs assertions, the public half is registered. */
async function clientKeys(alg: 'ES256' | 'RS256' = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicJwk, privateJwk: { ...(await exportJWK(privateKey)), kid, alg } as JWK, kid, alg };
}

/** The JWKS document a client publishes at its jwks_uri, from a real HTTP server on port 0. */
async function publishJwks(body: () => string): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** An RFC 7523 §3 client assertion, by hand, so that a test can replay it or get a claim wrong. */
function assertion(clientId: string, key: CryptoKey, kid: string, aud: string, jti = randomUUID()) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key);
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9)', () => {
  let server: TestServer;
  let admin: ManagementApi;
  useServer({ admin: true, start: { env: { OUTBOUND_PRIVATE_ADDRESSES: 'true' } } }, (s) => ({ server, admin } = s));

  const tokenEndpoint = () => `${server.issuer}/oauth/token`;
  const configFor = (clientId: string, key: CryptoKey, kid: string) =>
    oidc.discovery(new URL(server.url), clientId, undefined, oidc.PrivateKeyJwt({ key, kid }), { execute: [oidc.allowInsecureRequests] });

  async function keyedClient(keys: { publicJwk: JWK } | { jwks_uri: string }) {
    const res = await admin.post('/clients', {
      client_name: 'Keyed service',
      type: 'service',
      scope: 'orders:read',
      token_endpoint_auth_method: 'private_key_jwt',
      ...('publicJwk' in keys ? { jwks: { keys: [keys.publicJwk] } } : { jwks_uri: keys.jwks_uri }),
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  it('gets tokens with openid-client signing with its private key, and no secret is ever issued', async () => {
    const keys = await clientKeys();
    const client = await keyedClient(keys);
    expect(client).to.not.have.property('client_secret');
    expect(client.keys).to.deep.equal([{ kid: keys.kid, kty: 'EC', alg: 'ES256' }]);
    const config = await configFor(client.client_id, keys.privateKey, keys.kid);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read', resource: ORDERS_API });
    expect(tokens.access_token).to.be.a('string');
    expect((await admin.get(`/clients/${client.client_id}/secrets`)).body.data).to.deep.equal([]);
  });

  it('refuses an assertion used twice (its jti is single-use) and one for another audience', async () => {
    const keys = await clientKeys();
    const client = await keyedClient(keys);
    const form = async (jwt: string) =>
      postForm(tokenEndpoint().replace(server.issuer, server.url), {
        grant_type: 'client_credentials', client_id: client.client_id, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt,
      });
    const once = await assertion(client.client_id, keys.privateKey, keys.kid, tokenEndpoint());
    expect((await form(once)).status).to.equal(200);
    const replay = await form(once);
    expect(replay.status).to.equal(401);
    expect(replay.json.error).to.equal('invalid_client');

    // RFC 7523 §3 (3): the audience must identify this server (its issuer or token endpoint).
    const elsewhere = await form(await assertion(client.client_id, keys.privateKey, keys.kid, 'https://elsewhere.example/oauth/token'));
    expect(elsewhere.status).to.equal(401);
    expect(elsewhere.json.error).to.equal('invalid_client');
    // Signed by a key that is not registered.
    const stranger = await clientKeys();
    const forged = await form(await assertion(client.client_id, stranger.privateKey, keys.kid, tokenEndpoint()));
    expect(forged.status).to.equal(401);
    // The issuer identifier is an audience RFC 7523 allows too.
    expect((await form(await assertion(client.client_id, keys.privateKey, keys.kid, server.issuer))).status).to.equal(200);
  });

  it('takes an assertion sent many times at once exactly once (the jti check and its record are one step)', async () => {
    const keys = await clientKeys();
    const client = await keyedClient(keys);
    const once = await assertion(client.client_id, keys.privateKey, keys.kid, tokenEndpoint());
    // A captured assertion replayed concurrently with its first use: every request reads "not seen"
    // unless the check and the record are atomic (RFC 7523 §3 (7), RFC 7519 §4.1.7).
    // Six, to stay below this address's limit on failed client authentications (later tests use it).
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        postForm(tokenEndpoint().replace(server.issuer, server.url), {
          grant_type: 'client_credentials', client_id: client.client_id, client_assertion_type: ASSERTION_TYPE, client_assertion: once,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, JSON.stringify(answers.map((a) => a.json))).to.deep.equal([200, 401, 401, 401, 401, 401]);
    for (const a of answers.filter((x) => x.status === 401)) expect(a.json.error).to.equal('invalid_client');
  });

  it('fetches a jwks_uri once and caches it; a set larger than the limit is refused', async () => {
    const keys = await clientKeys();
    let document = JSON.stringify({ keys: [keys.publicJwk] });
    const published = await publishJwks(() => document);
    try {
      const client = await keyedClient({ jwks_uri: published.url });
      expect(client.jwks_uri).to.equal(published.url);
      const config = await configFor(client.client_id, keys.privateKey, keys.kid);
      await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
      await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
      expect(published.hits()).to.equal(1);

      // A second client whose jwks_uri answers with more than 64 KiB.
      document = JSON.stringify({ keys: [keys.publicJwk], padding: 'x'.repeat(70 * 1024) });
      const big = await keyedClient({ jwks_uri: `${published.url}?big` });
      const refused = await oidc.clientCredentialsGrant(await configFor(big.client_id, keys.privateKey, keys.kid), { scope: 'orders:read' }).catch((e) => e);
      expect(refused).to.be.instanceOf(oidc.ResponseBodyError);
      expect(refused.error).to.equal('invalid_client');
    } finally {
      await published.close();
    }
  });

  for (const member of ['d', 'k']) {
    it(`refuses a key set holding a private or symmetric key (${member}) with 400 naming it`, async () => {
      const keys = await clientKeys();
      const res = await admin.post('/clients', {
        client_name: 'Leaky', type: 'service', scope: 'orders:read', token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [member === 'd' ? keys.privateJwk : { ...keys.publicJwk, k: 'c2VjcmV0' }] },
      });
      expect(res.status).to.equal(400);
      expect(res.body.error_description).to.match(/private or symmetric key/);
      expect(res.body.field).to.match(/^jwks/);
    });
  }

  it('needs exactly one of jwks and jwks_uri, and keys only with private_key_jwt', async () => {
    const keys = await clientKeys();
    const none = await admin.post('/clients', { client_name: 'No keys', type: 'service', token_endpoint_auth_method: 'private_key_jwt' });
    expect(none.status).to.equal(400);
    expect(none.body.error_description).to.match(/jwks or jwks_uri/);
    const stray = await admin.post('/clients', { client_name: 'Stray', type: 'service', jwks: { keys: [keys.publicJwk] } });
    expect(stray.status).to.equal(400);
    expect(stray.body.field).to.equal('jwks');
  });

  it('switches a secret client to keys and back, audited', async () => {
    const keys = await clientKeys();
    const created = await admin.post('/clients', { client_name: 'Switcher', type: 'service', scope: 'orders:read' });
    const id = created.body.client_id;
    const switched = await admin.patch(`/clients/${id}`, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.publicJwk] } });
    expect(switched.status, JSON.stringify(switched.body)).to.equal(200);
    await oidc.clientCredentialsGrant(await configFor(id, keys.privateKey, keys.kid), { scope: 'orders:read' });
    const bySecret = () => postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(id, created.body.client_secret) });
    // Registered for keys, the secret no longer authenticates it (RFC 7591 §2: one method per client).
    expect((await bySecret()).json.error).to.equal('invalid_client');
    const back = await admin.patch(`/clients/${id}`, { token_endpoint_auth_method: 'client_secret_basic', jwks: null });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(back.body.jwks).to.equal(null);
    expect((await bySecret()).status).to.equal(200);
    const audit = await admin.get('/audit-events?type=client.updated');
    const changes = audit.body.data.filter((e: { target: { id: string } }) => e.target.id === id).map((e: { data: { fields: string[] } }) => e.data.fields);
    expect(changes).to.have.length(2);
    for (const fields of changes) expect(fields).to.have.members(['token_endpoint_auth_method', 'jwks']);
  });
});
