import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  newPage,
  person,
  skipWithoutChromium,
  startHarness,
  type BrowserHarness,
  type PendingAuthorization,
  refusal,
} from '../support/browser.js';
import { ORDERS_API, USER } from '../support/fixtures.js';

describe('browser: refresh token rotation and code reuse', function () {
  this.timeout(60_000);
  let h: BrowserHarness;
  let page: Page;
  let closeContext: () => Promise<void>;

  before(async function () {
    skipWithoutChromium(this);
    h = await startHarness({ people: 1 });
    // One signed-in browser session for the whole file: these tests are about what the app does next.
    const opened = await newPage(h.browser);
    page = opened.page;
    closeContext = () => opened.context.close();
  });
  after(async () => {
    await closeContext?.();
    await h?.close();
  });

  /**
   * A code for `scope`. offline_access is only honoured together with prompt=consent (OIDC Core
   * §11), so those requests ask for it.
   */
  async function authorize(config: oidc.Configuration, redirectUri: string, scope: string): Promise<{ pending: PendingAuthorization; callback: URL }> {
    const pending = await authorizationRequest(config, redirectUri, { scope, ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}) });
    const { callback } = await authorizeInBrowser(page, h.rp, pending.url, USER);
    expect(callback.searchParams.has('code'), callback.href).to.equal(true);
    return { pending, callback };
  }

  it('rotates the refresh token on every use; a rotated one presented again revokes the whole family (RFC 9700 §4.14.2)', async () => {
    const { pending, callback } = await authorize(h.web, h.webRedirect, 'openid offline_access orders:read');
    const first = await exchangeCode(h.web, pending, callback, true);
    expect(first.refresh_token).to.be.a('string');
    const sub = first.claims()!.sub;

    const second = await oidc.refreshTokenGrant(h.web, first.refresh_token!);
    expect(second.refresh_token).to.be.a('string').and.not.equal(first.refresh_token);
    // The refreshed access token is again an RFC 9068 JWT for the Orders API, for the same user.
    const jwks = createRemoteJWKSet(new URL(`${h.server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(second.access_token, jwks, { issuer: h.server.url, audience: ORDERS_API, typ: 'at+jwt' });
    expect(payload).to.include({ sub, scope: 'orders:read' });

    const third = await oidc.refreshTokenGrant(h.web, second.refresh_token!);
    expect(third.refresh_token).to.be.a('string').and.not.equal(second.refresh_token);

    // The old one again: refused, and the newest one of the family stops working with it.
    expect(await refusal(oidc.refreshTokenGrant(h.web, first.refresh_token!))).to.equal('invalid_grant');
    expect(await refusal(oidc.refreshTokenGrant(h.web, third.refresh_token!))).to.equal('invalid_grant');
    const introspected = await oidc.tokenIntrospection(h.web, third.refresh_token!);
    expect(introspected.active).to.equal(false);
  });

  it('the public client rotates too, and reuse revokes its family', async () => {
    const { pending, callback } = await authorize(h.spa, h.spaRedirect, 'openid offline_access orders:read');
    const first = await exchangeCode(h.spa, pending, callback, true);
    expect(first.refresh_token).to.be.a('string');
    const second = await oidc.refreshTokenGrant(h.spa, first.refresh_token!);
    expect(second.refresh_token).to.be.a('string').and.not.equal(first.refresh_token);
    expect(await refusal(oidc.refreshTokenGrant(h.spa, first.refresh_token!))).to.equal('invalid_grant');
    expect(await refusal(oidc.refreshTokenGrant(h.spa, second.refresh_token!))).to.equal('invalid_grant');
  });

  it('a reused authorization code is refused and what it issued stops working (RFC 6749 §4.1.2, §10.5)', async () => {
    // openid-only, so the access token is a userinfo token that Gatehouse itself can revoke.
    const { pending, callback } = await authorize(h.web, h.webRedirect, 'openid email offline_access');
    const first = await exchangeCode(h.web, pending, callback, true);
    const sub = first.claims()!.sub;
    expect(first.refresh_token).to.be.a('string');
    expect(await oidc.fetchUserInfo(h.web, first.access_token, sub)).to.include({ sub, email: USER.email });

    expect(await refusal(exchangeCode(h.web, pending, callback, true))).to.equal('invalid_grant');

    expect(await refusal(oidc.refreshTokenGrant(h.web, first.refresh_token!))).to.equal('invalid_grant');
    expect(await refusal(oidc.fetchUserInfo(h.web, first.access_token, sub))).to.equal('invalid_token');
    expect((await oidc.tokenIntrospection(h.web, first.access_token)).active).to.equal(false);
  });

  it('a new authorization after a revoked family works again without asking for consent', async () => {
    const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
    const result = await authorizeInBrowser(page, h.rp, pending.url, USER);
    expect(result).to.include({ sawLogin: false, sawConsent: false });
    const tokens = await exchangeCode(h.web, pending, result.callback, true);
    expect(tokens.access_token).to.be.a('string');
  });

  it('a code can only be redeemed by the client it was issued to', async () => {
    const { pending, callback } = await authorize(h.spa, h.spaRedirect, 'openid orders:read');
    // The confidential client presents the SPA's code with the right verifier and redirect URI.
    const stolen = await refusal(
      oidc.authorizationCodeGrant(h.web, callback, { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state }),
    );
    expect(stolen).to.equal('invalid_grant');
    // …and the rightful owner can still redeem it.
    const tokens = await exchangeCode(h.spa, pending, callback, true);
    expect(tokens.access_token).to.be.a('string');
  });

  it('another person in a fresh session gets their own tokens', async () => {
    const { context, page: other } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid email' });
      const { callback, sawLogin } = await authorizeInBrowser(other, h.rp, pending.url, person(1));
      expect(sawLogin).to.equal(true);
      const tokens = await exchangeCode(h.web, pending, callback, true);
      const info = await oidc.fetchUserInfo(h.web, tokens.access_token, tokens.claims()!.sub);
      expect(info.email).to.equal(person(1).email);
    } finally {
      await context.close();
    }
  });
});
