import { expect } from 'chai';
import * as oidc from 'openid-client';
import { AuthorizationError, CookieJar, authorize, logout, type FlowClient } from '../support/code-flow.js';
import { postForm } from '../support/fixtures.js';
import { auditOf, newPerson } from '../support/accounts.js';
import type { TestServer } from '../support/server.js';
import { type ManagementApi, useServer } from '../support/setup.js';

/**
 * Issue 12: the authorization code flow as API documentation writes it and integrators copy it. No
 * PKCE, no offline_access, client_id and client_secret in the form body, and a refresh_token in the
 * answer; then the refresh tokens' lifetime (the session, or offline_access), both secret methods at
 * every endpoint that authenticates clients, and PKCE per client.
 */

const REDIRECT = 'http://127.0.0.1:8080/documented-callback';

type WebClient = FlowClient & { id: string; secret: string };

/** A web credential created as a new user would: POST /api/v1/clients, type web. */
async function webCredential(api: ManagementApi, extra: Record<string, unknown> = {}): Promise<WebClient> {
  const res = await api.post('/clients', { client_name: 'Copied from the docs', type: 'web', redirect_uris: [REDIRECT], scope: 'openid profile email', ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { id: res.body.client_id, secret: res.body.client_secret, redirect: REDIRECT };
}

/** grant_type=authorization_code with client_id and client_secret in the body, as the docs say. */
const exchangeInBody = (server: TestServer, client: WebClient, code: string) =>
  postForm(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: client.redirect, client_id: client.id, client_secret: client.secret });

const refreshInBody = (server: TestServer, client: WebClient, refreshToken: string) =>
  postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id, client_secret: client.secret });

describe('integrations as documented (issue 12)', () => {
  // One server for the whole file: each test makes its own client and person.
  let server: TestServer;
  let api: ManagementApi;
  useServer({ admin: true }, (s) => ({ server, admin: api } = s));

  describe('the documented authorization code flow, verbatim', () => {

    it('a web credential from POST /api/v1/clients: no PKCE, no offline_access, secrets in the body; the answer has refresh_token, and refreshing works', async () => {
      const client = await webCredential(api);
      const person = await newPerson(api, []);
      const flow = await authorize(server, { client, scope: 'openid profile email', noPkce: true, user: person });

      const tokens = await exchangeInBody(server, client, flow.code);
      expect(tokens.status, tokens.text).to.equal(200);
      expect(tokens.json).to.include.keys('access_token', 'id_token', 'refresh_token', 'expires_in');
      expect(tokens.json.token_type).to.equal('Bearer');

      const refreshed = await refreshInBody(server, client, tokens.json.refresh_token as string);
      expect(refreshed.status, refreshed.text).to.equal(200);
      expect(refreshed.json.refresh_token).to.be.a('string').and.not.equal(tokens.json.refresh_token);
      const info = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${refreshed.json.access_token}` } });
      expect(await info.json()).to.include({ sub: person.id, email: person.email });
    });

    for (const registered of ['client_secret_basic', 'client_secret_post'] as const) {
      it(`a client registered with ${registered} may authenticate either way at the token, introspection and revocation endpoints`, async () => {
        const client = await webCredential(api, { token_endpoint_auth_method: registered });
        const person = await newPerson(api, []);
        const jar = new CookieJar();
        for (const [name, auth] of [['basic', oidc.ClientSecretBasic(client.secret)], ['post', oidc.ClientSecretPost(client.secret)]] as const) {
          const config = await oidc.discovery(new URL(server.url), client.id, undefined, auth, { execute: [oidc.allowInsecureRequests] });
          const flow = await authorize(server, { client, scope: 'openid email', noPkce: true, user: person, jar });
          const tokens = await oidc.authorizationCodeGrant(config, flow.callback, { expectedState: flow.state, idTokenExpected: true });
          expect(tokens.refresh_token, name).to.be.a('string');
          const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
          expect((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active, `introspection with ${name}`).to.equal(true);
          await oidc.tokenRevocation(config, refreshed.refresh_token!);
          expect((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active, `revoked with ${name}`).to.equal(false);
        }
      });
    }

    it('a wrong secret is still refused either way (invalid_client, 401)', async () => {
      const client = await webCredential(api, { token_endpoint_auth_method: 'client_secret_post' });
      const viaBody = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'x', client_id: client.id, client_secret: 'not-the-secret-at-all' });
      const viaHeader = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: `Basic ${Buffer.from(`${client.id}:not-the-secret-at-all`).toString('base64')}` });
      for (const res of [viaBody, viaHeader]) expect([res.status, res.json.error]).to.deep.equal([401, 'invalid_client']);
    });
  });

  describe('refresh tokens: bound to the session, or offline_access', () => {

    /** One browser session signed in for `scope`: its jar and the refresh token it got. */
    async function session(client: WebClient, person: { email: string; password: string }, scope: string) {
      const jar = new CookieJar();
      const flow = await authorize(server, { client, scope, noPkce: true, user: person, jar });
      const tokens = await exchangeInBody(server, client, flow.code);
      expect(tokens.status, tokens.text).to.equal(200);
      expect(tokens.json.refresh_token, scope).to.be.a('string');
      return { jar, refreshToken: tokens.json.refresh_token as string };
    }

    const refusedRefresh = async (client: WebClient, token: string, why: string) => {
      const res = await refreshInBody(server, client, token);
      expect([res.status, res.json.error], `${why}: ${res.text}`).to.deep.equal([400, 'invalid_grant']);
    };

    const workingRefresh = async (client: WebClient, token: string, why: string) => {
      const res = await refreshInBody(server, client, token);
      expect(res.status, `${why}: ${res.text}`).to.equal(200);
      return res.json.refresh_token as string;
    };

    it('logout ends the session-bound refresh token; an offline_access one outlives the session', async () => {
      const client = await webCredential(api, { scope: 'openid profile email offline_access' });
      const person = await newPerson(api, []);
      const bound = await session(client, person, 'openid profile email');
      const offline = await session(client, person, 'openid email offline_access');
      // Both work while their sessions last, rotating as usual.
      const boundNext = await workingRefresh(client, bound.refreshToken, 'session-bound, signed in');
      const offlineNext = await workingRefresh(client, offline.refreshToken, 'offline, signed in');

      await logout(server, bound.jar);
      await logout(server, offline.jar);

      await refusedRefresh(client, boundNext, 'session-bound, after logout');
      await workingRefresh(client, offlineNext, 'offline_access, after logout');
    });

    for (const [ending, change] of [
      ['a password change', { password: 'a brand new password for the docs' }],
      ['deactivation', { active: false }],
    ] as const) {
      it(`${ending} ends both the session-bound and the offline_access refresh tokens (services/users.ts endUserAccess)`, async () => {
        const client = await webCredential(api, { scope: 'openid profile email offline_access' });
        const person = await newPerson(api, []);
        const bound = await session(client, person, 'openid profile email');
        const offline = await session(client, person, 'openid email offline_access');

        const res = await api.patch(`/users/${person.id}`, change);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);

        await refusedRefresh(client, bound.refreshToken, `session-bound, after ${ending}`);
        await refusedRefresh(client, offline.refreshToken, `offline_access, after ${ending}`);
      });
    }
  });

  describe('PKCE per client: require_pkce (OAuth 2.1 §4.1.1, RFC 9700 §2.1.1)', () => {

    const refusedWithoutPkce = async (client: WebClient, person: { email: string; password: string }) => {
      const outcome = await authorize(server, { client, scope: 'openid', noPkce: true, user: person }).then(() => undefined, (err: unknown) => err);
      expect(outcome).to.be.instanceOf(AuthorizationError);
      expect((outcome as AuthorizationError).error).to.equal('invalid_request');
      expect((outcome as AuthorizationError).description).to.match(/PKCE/);
    };

    it('a confidential client with require_pkce needs a code_challenge; turning it off lets the documented flow through', async () => {
      const client = await webCredential(api, { require_pkce: true });
      const person = await newPerson(api, []);
      expect((await api.get(`/clients/${client.id}`)).body.require_pkce).to.equal(true);
      await refusedWithoutPkce(client, person);

      const withPkce = await authorize(server, { client, scope: 'openid', user: person });
      const tokens = await postForm(`${server.url}/oauth/token`, {
        grant_type: 'authorization_code', code: withPkce.code, redirect_uri: REDIRECT, code_verifier: withPkce.verifier, client_id: client.id, client_secret: client.secret,
      });
      expect(tokens.status, tokens.text).to.equal(200);

      const off = await api.patch(`/clients/${client.id}`, { require_pkce: false });
      expect([off.status, off.body.require_pkce]).to.deep.equal([200, false]);
      const flow = await authorize(server, { client, scope: 'openid', noPkce: true, user: person });
      expect((await exchangeInBody(server, client, flow.code)).status).to.equal(200);

      const on = await api.patch(`/clients/${client.id}`, { require_pkce: true });
      expect([on.status, on.body.require_pkce]).to.deep.equal([200, true]);
      await refusedWithoutPkce(client, person);
      expect((await auditOf(server, 'client.updated', client.id)).map((e) => e.data.fields)).to.deep.include(['require_pkce']);
    });

    it('a public client always requires PKCE: shown as true, and turning it off is refused with 400', async () => {
      const created = await api.post('/clients', { client_name: 'Docs SPA', type: 'spa', redirect_uris: [REDIRECT], scope: 'openid' });
      expect([created.status, created.body.require_pkce]).to.deep.equal([201, true]);
      const refusedAtCreation = await api.post('/clients', { client_name: 'Docs SPA', type: 'spa', redirect_uris: [REDIRECT], scope: 'openid', require_pkce: false });
      expect([refusedAtCreation.status, refusedAtCreation.body.field]).to.deep.equal([400, 'require_pkce']);
      const refusedLater = await api.patch(`/clients/${created.body.client_id}`, { require_pkce: false });
      expect([refusedLater.status, refusedLater.body.field]).to.deep.equal([400, 'require_pkce']);
      const person = await newPerson(api, []);
      await refusedWithoutPkce({ id: created.body.client_id, secret: '', redirect: REDIRECT }, person);
    });

    it('a confidential client without require_pkce shows false and still accepts PKCE when sent', async () => {
      const client = await webCredential(api);
      expect((await api.get(`/clients/${client.id}`)).body.require_pkce).to.equal(false);
      const person = await newPerson(api, []);
      const flow = await authorize(server, { client, scope: 'openid', user: person });
      const wrongVerifier = await postForm(`${server.url}/oauth/token`, {
        grant_type: 'authorization_code', code: flow.code, redirect_uri: REDIRECT, code_verifier: 'x'.repeat(43), client_id: client.id, client_secret: client.secret,
      });
      // A challenge that was sent is checked, required or not (RFC 7636 §4.6).
      expect([wrongVerifier.status, wrongVerifier.json.error]).to.deep.equal([400, 'invalid_grant']);
    });
  });
});
