import { expect } from 'chai';
import { SignJWT, errors as joseErrors, importJWK, type JWK, type JWTPayload } from 'jose';
import type { TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';

/**
 * KeyRing.verifyAccessToken remembers the tokens whose signature it has checked (issue 10), so what
 * must still be decided on every use is tested here on a token seen before: expiry, audience, issuer,
 * and a token that differs by one character. (That a key dropped from the key set stops verifying at
 * once, remembered or not, is in keys.test.ts.)
 */
describe('access tokens verified once per key set (KeyRing.verifyAccessToken)', () => {
  let server: TestServer;
  useServer({}, (s) => {
    server = s.server;
  });

  const AUDIENCE = 'https://orders.example.test';

  /** An RFC 9068 token signed with the node's own RSA key, as the provider signs them. */
  async function token(claims: JWTPayload, expiresAt: number, typ = 'at+jwt'): Promise<string> {
    const jwk = server.runtime.keys.providerJwks().keys.find((k) => k.kty === 'RSA') as JWK;
    const key = await importJWK(jwk, 'RS256');
    return new SignJWT({ client_id: 'orders-service', ...claims })
      .setProtectedHeader({ alg: 'RS256', typ, kid: jwk.kid })
      .setIssuer(server.issuer)
      .setSubject('orders-service')
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(key);
  }

  const verify = (t: string, audience?: string, issuer = server.issuer) => server.runtime.keys.verifyAccessToken(t, { issuer, audience });
  const refusal = (t: string, audience?: string, issuer?: string) =>
    verify(t, audience, issuer).then(
      () => undefined,
      (err: Error) => err,
    );

  it('refuses a remembered token once it expires, as jose would', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const t = await token({}, expiresAt);
    expect((await verify(t, AUDIENCE)).exp).to.equal(expiresAt);
    expect((await verify(t, AUDIENCE)).exp).to.equal(expiresAt);
    while (Math.floor(Date.now() / 1000) < expiresAt) await new Promise((r) => setTimeout(r, 100));
    expect(await refusal(t, AUDIENCE)).to.be.instanceOf(joseErrors.JWTExpired);
    // ...and again, now that it is forgotten.
    expect(await refusal(t, AUDIENCE)).to.be.instanceOf(joseErrors.JWTExpired);
  });

  it('checks the audience on every use, not only the first', async () => {
    const t = await token({}, Math.floor(Date.now() / 1000) + 300);
    await verify(t, AUDIENCE);
    const err = await refusal(t, 'https://other.example.test');
    expect(err).to.be.instanceOf(joseErrors.JWTClaimValidationFailed);
    expect((err as joseErrors.JWTClaimValidationFailed).claim).to.equal('aud');
    expect(await verify(t)).to.include({ aud: AUDIENCE });
  });

  it('does not answer for another issuer from memory', async () => {
    const t = await token({}, Math.floor(Date.now() / 1000) + 300);
    await verify(t);
    expect(await refusal(t, undefined, 'https://elsewhere.example.test')).to.be.instanceOf(joseErrors.JWTClaimValidationFailed);
  });

  it('verifies a token that differs by one character afresh, and refuses it', async () => {
    const t = await token({ scope: 'orders:read' }, Math.floor(Date.now() / 1000) + 300);
    await verify(t);
    const [header, payload, signature] = t.split('.');
    // The same signature over a payload that claims more.
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'orders:read orders:write' })).toString('base64url')}.${signature}`;
    expect(await refusal(forged)).to.be.instanceOf(joseErrors.JWSSignatureVerificationFailed);
    const flipped = `${t.slice(0, -2)}${t.at(-2) === 'A' ? 'B' : 'A'}${t.at(-1)}`;
    expect(await refusal(flipped)).to.be.instanceOf(Error);
  });

  it('refuses a token of another type (an ID token), remembered or not', async () => {
    const t = await token({}, Math.floor(Date.now() / 1000) + 300, 'JWT');
    expect(await refusal(t)).to.be.instanceOf(joseErrors.JWTClaimValidationFailed);
    expect(await refusal(t)).to.be.instanceOf(joseErrors.JWTClaimValidationFailed);
  });
});
