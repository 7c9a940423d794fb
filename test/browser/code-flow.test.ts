import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import {
  authorizationRequest,
  exchangeCode,
  heading,
  isConsentPage,
  isLoginPage,
  listedPermissions,
  newPage,
  person,
  signIn,
  skipWithoutChromium,
  startHarness,
  waitForRelyingParty,
  type BrowserHarness,
} from '../support/browser.js';
import { ORDERS_API, SPA, USER, WEB } from '../support/fixtures.js';

describe('browser: authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636)', function () {
  this.timeout(60_000);
  let h: BrowserHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startHarness({ people: 4 });
  });
  after(async () => h?.close());

  const verifyAccessToken = async (jwt: string, clientId: string) => {
    expect(decodeProtectedHeader(jwt).typ).to.equal('at+jwt');
    const jwks = createRemoteJWKSet(new URL(`${h.server.url}/oauth/jwks`));
    const { payload } = await jwtVerify(jwt, jwks, { issuer: h.server.url, audience: ORDERS_API, typ: 'at+jwt' });
    expect(payload.client_id).to.equal(clientId);
    return payload;
  };

  it('signs in on a labelled form, shows plain-words consent for "Shop", and the confidential client gets verifiable tokens', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid profile orders:read orders:write' });
      await page.goto(pending.url.href);

      expect(await isLoginPage(page)).to.equal(true);
      expect(new URL(page.url()).pathname).to.match(/^\/interaction\/[\w-]+$/);
      // The fields are found by their labels (a screen reader's way), and carry the names forms expect.
      expect(await page.getByLabel('Email').getAttribute('name')).to.equal('login');
      expect(await page.getByLabel('Password').getAttribute('name')).to.equal('password');
      expect(await page.getByLabel('Password').getAttribute('type')).to.equal('password');
      expect(await page.locator('.lead').textContent()).to.contain('Shop');

      await signIn(page);
      expect(await isConsentPage(page)).to.equal(true);
      expect(await heading(page)).to.equal('Allow Shop to access your account?');
      expect(await page.locator('main').textContent()).to.contain(USER.email);
      const permissions = await listedPermissions(page);
      expect(permissions).to.include.members(['Read your orders', 'Create and change your orders', 'See your name']);

      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.pathname).to.equal(new URL(h.webRedirect).pathname);
      expect(callback.searchParams.get('state')).to.equal(pending.state);
      expect(callback.searchParams.get('code')).to.be.a('string');
      // RFC 9207: the issuer is named in the response, so a mix-up is detectable.
      expect(callback.searchParams.get('iss')).to.equal(h.server.url);

      const tokens = await exchangeCode(h.web, pending, callback, true);
      const at = await verifyAccessToken(tokens.access_token, WEB.id);
      expect(at.sub).to.equal(tokens.claims()!.sub);
      expect(String(at.scope).split(' ')).to.have.members(['orders:read', 'orders:write']);
      const claims = tokens.claims()!;
      expect(claims.aud).to.equal(WEB.id);
      expect(claims.iss).to.equal(h.server.url);
      expect(claims.nonce).to.equal(pending.nonce);
      // Registered with the refresh_token grant: a refresh token, bound to this browser session since
      // offline_access was not asked for (issue 12; test/protocol/documented-flow.test.ts).
      expect(tokens.refresh_token).to.be.a('string');
    } finally {
      await context.close();
    }
  });

  it('an openid-only request gets an access token for userinfo instead of an API', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid email profile' });
      await page.goto(pending.url.href);
      await signIn(page, person(1));
      expect(await isConsentPage(page)).to.equal(true);
      expect(await listedPermissions(page)).to.include.members(['See your email address', 'See your name']);
      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await waitForRelyingParty(page, h.rp);

      const tokens = await exchangeCode(h.web, pending, callback, true);
      const sub = tokens.claims()!.sub;
      const info = await oidc.fetchUserInfo(h.web, tokens.access_token, sub);
      expect(info).to.include({ sub, email: person(1).email, name: person(1).name });

      // An access token for the Orders API is not a userinfo token (its audience is the API).
      const api = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:read' });
      await page.goto(api.url.href);
      if (await isConsentPage(page)) await page.getByRole('button', { name: 'Allow' }).click();
      const apiTokens = await exchangeCode(h.web, api, await waitForRelyingParty(page, h.rp), true);
      await verifyAccessToken(apiTokens.access_token, WEB.id);
      let refused: unknown;
      await oidc.fetchUserInfo(h.web, apiTokens.access_token, sub).catch((err) => (refused = err));
      expect(refused, 'userinfo must refuse an API access token').to.be.instanceOf(Error);
    } finally {
      await context.close();
    }
  });

  it('the public SPA client completes the flow with PKCE and no secret', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.spa, h.spaRedirect, { scope: 'openid orders:read' });
      await page.goto(pending.url.href);
      expect(await isLoginPage(page)).to.equal(true);
      expect(await page.locator('.lead').textContent()).to.contain('Shop SPA');
      await signIn(page, person(2));
      expect(await heading(page)).to.equal('Allow Shop SPA to access your account?');
      expect(await listedPermissions(page)).to.include('Read your orders');
      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.searchParams.get('state')).to.equal(pending.state);

      const tokens = await exchangeCode(h.spa, pending, callback, true);
      const at = await verifyAccessToken(tokens.access_token, SPA.id);
      expect(at.scope).to.equal('orders:read');
      expect(tokens.claims()!.aud).to.equal(SPA.id);
    } finally {
      await context.close();
    }
  });

  it('a code exchanged with the wrong PKCE verifier is refused (RFC 7636 §4.6)', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.spa, h.spaRedirect, { scope: 'openid orders:read' });
      await page.goto(pending.url.href);
      await signIn(page, person(3));
      expect(await isConsentPage(page)).to.equal(true);
      await page.getByRole('button', { name: 'Allow' }).click();
      const callback = await waitForRelyingParty(page, h.rp);
      const wrong = { ...pending, codeVerifier: oidc.randomPKCECodeVerifier() };
      const err = await exchangeCode(h.spa, wrong, callback, true).then(
        () => undefined,
        (e: unknown) => e as { error?: string },
      );
      expect(err?.error).to.equal('invalid_grant');
    } finally {
      await context.close();
    }
  });

  it('Deny sends the application error=access_denied with its state (RFC 6749 §4.1.2.1)', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid orders:write' });
      await page.goto(pending.url.href);
      await signIn(page, person(4));
      expect(await isConsentPage(page)).to.equal(true);
      await page.getByRole('button', { name: 'Deny' }).click();
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.pathname).to.equal(new URL(h.webRedirect).pathname);
      expect(callback.searchParams.get('error')).to.equal('access_denied');
      expect(callback.searchParams.get('state')).to.equal(pending.state);
      expect(callback.searchParams.has('code')).to.equal(false);
    } finally {
      await context.close();
    }
  });

  it('Cancel on the login page also returns access_denied with the state', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const pending = await authorizationRequest(h.web, h.webRedirect, { scope: 'openid' });
      await page.goto(pending.url.href);
      await page.getByRole('button', { name: /^Cancel and return to Shop$/ }).click();
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.searchParams.get('error')).to.equal('access_denied');
      expect(callback.searchParams.get('state')).to.equal(pending.state);
    } finally {
      await context.close();
    }
  });

  it('the public client must use PKCE: without code_challenge the app gets error=invalid_request (RFC 9700 §2.1.1)', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const url = oidc.buildAuthorizationUrl(h.spa, {
        redirect_uri: h.spaRedirect,
        response_type: 'code',
        scope: 'openid',
        state: 'no-pkce-state',
      });
      await page.goto(url.href);
      const callback = await waitForRelyingParty(page, h.rp);
      expect(callback.searchParams.get('error')).to.equal('invalid_request');
      expect(callback.searchParams.get('error_description')).to.match(/PKCE/);
      expect(callback.searchParams.get('state')).to.equal('no-pkce-state');
      expect(callback.searchParams.has('code')).to.equal(false);
    } finally {
      await context.close();
    }
  });

  it('an unregistered redirect_uri gets our error page and the browser is never sent there (RFC 6749 §4.1.2.1)', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const evil = `${h.rp.origin}/not-registered`;
      const pending = await authorizationRequest(h.web, evil, { scope: 'openid' });
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      const res = await page.goto(pending.url.href);
      expect(res!.status()).to.equal(400);
      expect(new URL(page.url()).origin).to.equal(h.server.url);
      expect(await heading(page)).to.equal('This application is misconfigured');
      expect(await page.locator('main').textContent()).to.contain('invalid_redirect_uri');
      expect(requested.filter((u) => u.startsWith(h.rp.origin))).to.deep.equal([]);
      expect(h.rp.hits.some((u) => u.pathname === '/not-registered')).to.equal(false);
    } finally {
      await context.close();
    }
  });

  it('an unknown client gets our error page, not a redirect', async () => {
    const { context, page } = await newPage(h.browser);
    try {
      const url = new URL(h.spa.serverMetadata().authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: 'nobody-here', redirect_uri: h.webRedirect, response_type: 'code', scope: 'openid' }).toString();
      const res = await page.goto(url.href);
      expect(res!.status()).to.equal(400);
      expect(new URL(page.url()).origin).to.equal(h.server.url);
      expect(await heading(page)).to.equal('Unknown application');
    } finally {
      await context.close();
    }
  });
});
