import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { type TestServer } from '../support/server.js';
import { BILLING_API, ORDERS_API, SERVICE, basic, postForm } from '../support/fixtures.js';
import { useServer } from '../support/setup.js';

describe('client credentials (RFC 6749 §4.4)', () => {
  let server: TestServer;
  useServer({}, (s) => ({ server } = s));

  const token = (form: Record<string, string>, auth = basic(SERVICE.id, SERVICE.secret)) =>
    postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', ...form }, { authorization: auth });

  it('issues an RFC 9068 JWT that a resource server verifies with nothing but the JWKS', async () => {
    const res = await token({ scope: 'orders:read' });
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ token_type: 'Bearer', scope: 'orders:read' });
    const jwt = res.json.access_token as string;
    expect(decodeProtectedHeader(jwt).typ).to.equal('at+jwt');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(jwt, jwks, { issuer: server.url, audience: ORDERS_API, typ: 'at+jwt' });
    expect(payload).to.include({ client_id: SERVICE.id, sub: SERVICE.id, scope: 'orders:read' });
    expect(payload.jti).to.be.a('string');
    expect((payload.exp as number) - (payload.iat as number)).to.be.at.most(3600);
  });

  it('defaults to every scope the client was granted when none is asked for (RFC 6749 §3.3)', async () => {
    const res = await token({});
    expect(res.status).to.equal(200);
    expect(res.json.scope).to.equal('orders:read');
  });

  for (const [what, form, error] of [
    ['a scope the client was not granted', { scope: 'orders:write' }, 'invalid_scope'],
    ['a scope no API defines', { scope: 'nothing:here' }, 'invalid_scope'],
    ['an identity scope', { scope: 'openid orders:read' }, 'invalid_scope'],
    ['a scope of another API than the resource', { scope: 'billing:read', resource: ORDERS_API }, 'invalid_scope'],
    ['an unregistered resource', { scope: 'orders:read', resource: 'https://nowhere.example' }, 'invalid_target'],
    ['a resource that is not a URI', { resource: 'not a uri' }, 'invalid_target'],
  ] as const) {
    it(`refuses ${what} with ${error}`, async () => {
      const res = await token(form as Record<string, string>);
      expect(res.status).to.equal(400);
      expect(res.json.error).to.equal(error);
      expect(res.json.error_description).to.be.a('string');
    });
  }

  it('refuses a wrong secret with invalid_client and 401', async () => {
    const res = await token({}, basic(SERVICE.id, 'not-the-secret'));
    expect(res.status).to.equal(401);
    expect(res.json.error).to.equal('invalid_client');
  });

  it('refuses an unknown client the same way as a wrong secret', async () => {
    const res = await token({}, basic('nobody', SERVICE.secret));
    expect(res.status).to.equal(401);
    expect(res.json.error).to.equal('invalid_client');
  });

  it('does not hand out tokens for the billing API to a client without its scopes', async () => {
    const res = await token({ resource: BILLING_API });
    expect(res.status).to.equal(400);
    expect(res.json.error).to.equal('invalid_scope');
  });
});
