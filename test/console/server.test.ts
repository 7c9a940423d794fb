import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import Koa from 'koa';
import { CONSOLE_CLIENT_ID } from '../../server/services/console-client.js';
import { consoleRoutes } from '../../server/console/static.js';
import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { newKey, newPerson } from '../support/accounts.js';
import { authorize, exchangeCode, refresh } from '../support/code-flow.js';
import { ORDERS_API, SERVICE, SPA, basic, baseSeed, postForm } from '../support/fixtures.js';
import { adminClientSeed, ALL_MANAGEMENT_SCOPES, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * What the console stands on, without a browser: its built-in client, signing in without a consent
 * page and with no more than the user's roles, /api/v1/me, and how /console is served.
 */
describe('console: server side', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  let consoleClient: { id: string; redirect: string };
  const SCOPE = ['openid', 'profile', 'email', ...Object.keys(MANAGEMENT_SCOPES)].join(' ');

  before(async () => {
    const seed = baseSeed();
    server = await startServer({ seed: { ...seed, clients: [...seed.clients, adminClientSeed()] } });
    admin = managementApi(server, await managementToken(server));
    consoleClient = { id: CONSOLE_CLIENT_ID, redirect: `${server.issuer}/console/callback` };
  });
  after(async () => server?.destroy());

  describe('the built-in console client', () => {
    it('is registered at start as a public browser app, and the Management API will not change it', async () => {
      const got = await admin.get(`/clients/${CONSOLE_CLIENT_ID}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.include({ builtin: true, type: 'spa', token_endpoint_auth_method: 'none', status: 'active' });
      expect(got.body.redirect_uris).to.deep.equal([consoleClient.redirect]);
      for (const res of [
        await admin.patch(`/clients/${CONSOLE_CLIENT_ID}`, { client_name: 'Renamed' }),
        await admin.patch(`/clients/${CONSOLE_CLIENT_ID}`, { enabled: false }),
        await admin.delete(`/clients/${CONSOLE_CLIENT_ID}`),
        await admin.post(`/clients/${CONSOLE_CLIENT_ID}/secrets`, {}),
      ]) {
        expect(res.status, JSON.stringify(res.body)).to.equal(403);
        expect(res.body.error_description).to.match(/built in/);
      }
      expect((await admin.get(`/clients/${CONSOLE_CLIENT_ID}`)).body).to.include({ client_name: 'Gatehouse console', enabled: true });
    });

    it('signs a user in without a consent page; the token holds only what their roles allow, and its refresh token rotates', async () => {
      const viewer = await newPerson(admin, ['viewer']);
      const pages: string[] = [];
      const flow = await authorize(server, { client: consoleClient, scope: SCOPE, user: viewer, resource: `${server.issuer}/api/v1`, onPage: async (p) => void pages.push(p) });
      expect(pages).to.deep.equal(['login']);
      const tokens = await exchangeCode(server, consoleClient, flow);
      expect(tokens.status, tokens.text).to.equal(200);
      const viewerRole = (await admin.get('/roles/viewer')).body.permissions as string[];
      const expected = viewerRole.filter((p) => p in MANAGEMENT_SCOPES).sort();
      expect(String(decodeJwt(tokens.json.access_token as string).scope).split(' ').sort()).to.deep.equal(expected);
      expect(expected).to.not.include('clients:write');

      const me = await managementApi(server, tokens.json.access_token as string).get('/me');
      expect(me.status).to.equal(200);
      expect(me.body).to.include({ kind: 'user', id: viewer.id });
      expect(me.body.user).to.include({ email: viewer.email });
      expect(me.body.permissions).to.deep.equal(expected);

      const renewed = await refresh(server, consoleClient, tokens.json.refresh_token as string);
      expect(renewed.status, renewed.text).to.equal(200);
      expect(renewed.json.refresh_token).to.be.a('string').and.not.equal(tokens.json.refresh_token);
      // RFC 9700 §2.2.2: the rotated refresh token is spent.
      expect((await refresh(server, consoleClient, tokens.json.refresh_token as string)).status).to.equal(400);
    });
  });

  describe('GET /api/v1/me', () => {
    it('answers for an API key (bounded by the owner’s roles) and a client, and 401 without a credential', async () => {
      const dev = await newPerson(admin, ['developer']);
      const key = await newKey(admin, dev.id, ['clients:read', 'api-keys:read']);
      const me = await managementApi(server, key.key).get('/me');
      expect(me.status).to.equal(200);
      expect(me.body).to.deep.include({ kind: 'api_key', id: key.id, permissions: ['api-keys:read', 'clients:read'] });
      expect(me.body.user.id).to.equal(dev.id);

      const asClient = await admin.get('/me');
      expect(asClient.body).to.deep.include({ kind: 'client', id: 'ops-automation', user: null });
      expect(asClient.body.permissions).to.deep.equal([...ALL_MANAGEMENT_SCOPES].sort());

      const anonymous = await managementApi(server, undefined).get('/me');
      expect(anonymous.status).to.equal(401);
      expect(anonymous.headers.get('www-authenticate')).to.match(/^Bearer /);
    });
  });

  describe('GET /api/v1/api-keys?user=all', () => {
    it('lists every user’s keys for users:write, and names the missing permission otherwise', async () => {
      const a = await newPerson(admin, ['developer']);
      const b = await newPerson(admin, ['developer']);
      const keyA = await newKey(admin, a.id, ['clients:read']);
      const keyB = await newKey(admin, b.id, ['clients:read']);
      const all = await admin.get('/api-keys?user=all&limit=200');
      expect(all.status).to.equal(200);
      expect(all.body.data.map((k: { id: string }) => k.id)).to.include.members([keyA.id, keyB.id]);

      const developerKey = await newKey(admin, a.id, ['api-keys:read']);
      const refused = await managementApi(server, developerKey.key).get('/api-keys?user=all');
      expect(refused.status).to.equal(403);
      expect(refused.body).to.include({ error: 'insufficient_scope', scope: 'users:write' });
    });
  });

  describe('CORS at the token endpoint', () => {
    it('is allowed for the origin a browser app redirects to, and for no other origin', async () => {
      const flow = await authorize(server, { client: SPA, scope: 'openid orders:read', resource: ORDERS_API });
      const body = new URLSearchParams({ grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier, client_id: SPA.id });
      const allowed = await fetch(`${server.url}/oauth/token`, { method: 'POST', body, headers: { origin: new URL(SPA.redirect).origin } });
      expect(allowed.status).to.equal(200);
      expect(allowed.headers.get('access-control-allow-origin')).to.equal(new URL(SPA.redirect).origin);

      const other = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', resource: ORDERS_API }, { authorization: basic(SERVICE.id, SERVICE.secret), origin: 'https://elsewhere.example' });
      expect(other.status).to.equal(400);
      expect(other.json.error).to.equal('invalid_request');
    });
  });

  describe('serving /console', () => {
    it('serves the page with a strict CSP at every console path, and its hashed assets for a year', async () => {
      const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
      expect(redirect.status).to.equal(301);
      expect(redirect.headers.get('location')).to.equal('/console/');
      for (const path of ['/console/', '/console/credentials/some-client/scopes', '/console/callback?code=x&state=y']) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status, path).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^text\/html/);
        expect(res.headers.get('cache-control')).to.equal('no-store');
        const csp = res.headers.get('content-security-policy')!;
        expect(csp).to.include("script-src 'self'").and.include("default-src 'none'").and.include("frame-ancestors 'none'");
        expect(csp).to.not.include('unsafe');
        const html = await res.text();
        expect(html).to.not.match(/<script>|<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
        const script = /<script[^>]+src="([^"]+)"/.exec(html)![1];
        const asset = await fetch(`${server.url}${script}`);
        expect(asset.status).to.equal(200);
        expect(asset.headers.get('content-type')).to.match(/^text\/javascript/);
        expect(asset.headers.get('cache-control')).to.include('immutable');
      }
      expect((await fetch(`${server.url}/console/assets/missing-123.js`)).status).to.equal(404);
      const post = await fetch(`${server.url}/console/`, { method: 'POST' });
      expect(post.status).to.equal(405);
      expect(post.headers.get('allow')).to.equal('GET, HEAD');
    });

    it('says how to build the console when it has not been built', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-console-'));
      const app = new Koa();
      app.use(consoleRoutes(join(dir, 'missing')));
      const http: Server = createServer(app.callback());
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      try {
        const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/console/`);
        expect(res.status).to.equal(503);
        expect(await res.text()).to.include('npm run build');
      } finally {
        http.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
