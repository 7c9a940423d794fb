import { expect } from 'chai';
import { SignJWT, generateKeyPair } from 'jose';
import { SERVICE, baseSeed, basic, postForm } from '../support/fixtures.js';
import { adminClientSeed, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';
import { freshAddress } from '../support/sign-in.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const GATEWAY = { id: 'api-gateway', secret: 'api-gateway-secret-0123456789abcdef' };

/**
 * Guessing client secrets, API keys and tokens at the token, introspection and token exchange
 * endpoints and at /api/v1, from outside: small limits (3 per client and address, 6 per address)
 * and addresses set with X-Forwarded-For behind TRUST_PROXY.
 */
const LIMITS = { TRUST_PROXY: 'true', CLIENT_AUTH_MAX_FAILURES: '3', CLIENT_AUTH_ADDRESS_MAX_FAILURES: '6', CREDENTIAL_MAX_FAILURES: '3', BLOCK_SECONDS: '60' };

describe('limits on guessing credentials at the protocol endpoints and the Management API', () => {
  let server: TestServer;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never, {
      client_id: GATEWAY.id,
      client_secret: GATEWAY.secret,
      client_name: 'Gateway',
      grant_types: [TOKEN_EXCHANGE],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    } as never);
    server = await startServer({ seed, env: LIMITS });
  });
  after(() => server?.destroy());

  const token = (address: string, id: string, secret: string, post = false) =>
    postForm(
      `${server.url}/oauth/token`,
      { grant_type: 'client_credentials', ...(post ? { client_id: id, client_secret: secret } : {}) },
      { 'x-forwarded-for': address, ...(post ? {} : { authorization: basic(id, secret) }) },
    );

  const expectTooMany = (res: Awaited<ReturnType<typeof postForm>>) => {
    expect(res.status, res.text).to.equal(429);
    expect(Number(res.headers.get('retry-after'))).to.be.within(1, 60);
    expect(res.json.error).to.equal('too_many_requests');
    expect(res.json.error_description).to.match(/retry after \d+ seconds/);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  };

  it('token endpoint: wrong secrets for one client from one address get 429, and then so does the right secret; another address is not affected', async () => {
    const address = freshAddress();
    for (let i = 0; i < 3; i++) expect((await token(address, SERVICE.id, `wrong-secret-${i}`)).json.error).to.equal('invalid_client');
    expectTooMany(await token(address, SERVICE.id, 'wrong-secret-again'));
    // Refused before the secret is compared, so a right guess cannot be told from a wrong one.
    expectTooMany(await token(address, SERVICE.id, SERVICE.secret));
    expectTooMany(await token(address, SERVICE.id, SERVICE.secret, true));
    expect((await token(freshAddress(), SERVICE.id, SERVICE.secret)).status).to.equal(200);
  });

  it('token endpoint: a client_id that does not exist gets the same answers as one that does (Basic or client_secret_post)', async () => {
    for (const post of [false, true]) {
      const address = freshAddress();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await token(address, 'no-such-client', `guess-${i}`, post)).status);
      expect(statuses).to.deep.equal([401, 401, 401, 429]);
    }
  });

  it('token endpoint: one address guessing across many clients is refused for every client, the right secret included', async () => {
    const address = freshAddress();
    for (let i = 0; i < 6; i++) expect((await token(address, `client-${i}`, 'guess')).status).to.equal(401);
    expectTooMany(await token(address, 'client-7', 'guess'));
    expectTooMany(await token(address, SERVICE.id, SERVICE.secret));
    expect((await token(freshAddress(), SERVICE.id, SERVICE.secret)).status).to.equal(200);
  });

  it('introspection: API keys and JWTs that were never issued are counted per address; expired-or-real ones are not guesses', async () => {
    const address = freshAddress();
    const introspect = (tokenValue: string) =>
      postForm(`${server.url}/oauth/introspect`, { token: tokenValue }, { authorization: basic(SERVICE.id, SERVICE.secret), 'x-forwarded-for': address });
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ scope: 'orders:read', client_id: SERVICE.id }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).setIssuer(server.issuer).setSubject(SERVICE.id).sign(privateKey);
    // A real token of ours, introspected as often as a resource server likes, is never a guess.
    const real = (await token(freshAddress(), SERVICE.id, SERVICE.secret)).json.access_token as string;
    for (let i = 0; i < 5; i++) expect((await introspect(real)).json.active).to.equal(true);
    expect((await introspect('ak_live_notarealkey0000000000000000')).json).to.deep.equal({ active: false });
    expect((await introspect(forged)).json).to.deep.equal({ active: false });
    expect((await introspect('ak_test_another_guess_111111111111')).json).to.deep.equal({ active: false });
    expectTooMany(await introspect(real));
  });

  it('token exchange: subject tokens that are not API keys are counted per address', async () => {
    const address = freshAddress();
    const exchange = (subject: string) =>
      postForm(
        `${server.url}/oauth/token`,
        { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE, subject_token: subject, resource: 'https://orders.example.test' },
        { authorization: basic(GATEWAY.id, GATEWAY.secret), 'x-forwarded-for': address },
      );
    for (let i = 0; i < 3; i++) expect((await exchange(`ak_live_guess${i}`)).json.error).to.equal('invalid_grant');
    expectTooMany(await exchange('ak_live_guess4'));
  });

  it('Management API: bad bearer tokens and API keys from one address get 429, then a valid token from there too; other addresses are served', async () => {
    const address = freshAddress();
    const call = (bearer: string, from = address) =>
      fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${bearer}`, 'x-forwarded-for': from, accept: 'application/json' } });
    const good = await managementToken(server);
    expect((await call('ak_live_guess_one')).status).to.equal(401);
    expect((await call('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).status).to.equal(401);
    expect((await call('ak_live_guess_two')).status).to.equal(401);
    const refused = await call(good);
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.match(/^\d+$/);
    expect(await refused.json()).to.include({ error: 'too_many_requests' });
    expect((await call(good, freshAddress())).status).to.equal(200);
  });
});
