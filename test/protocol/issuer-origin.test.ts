import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { pkcePair } from '../support/code-flow.js';
import { SERVICE, WEB, baseSeed, basic } from '../support/fixtures.js';
import { adminClientSeed } from '../support/management.js';
import { type Reply, send } from '../support/raw-http.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Where this server is and whether it is reached over TLS come from ISSUER alone. A foreign Host,
 * X-Forwarded-Host or X-Forwarded-Proto (trusted proxy or not), or an absolute-form request target,
 * never reaches a URL in a response; with an https ISSUER every cookie is Secure and every response
 * carries Strict-Transport-Security (RFC 6797), whatever TRUST_PROXY says. The test servers listen on
 * plain http, as nodes behind a TLS-terminating proxy do.
 */

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const EVIL = 'evil.example';

interface Seen {
  what: string;
  reply: Reply;
}

/**
 * A browser that adds the given headers to every request, keeps cookies by name (paths and domains
 * do not matter to one server) and records every reply and every Set-Cookie header.
 */
class RawBrowser {
  readonly cookies = new Map<string, string>();
  readonly setCookies: string[] = [];
  readonly seen: Seen[] = [];
  constructor(
    private readonly server: TestServer,
    private readonly extra: Record<string, string>,
  ) {}

  async request(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    const all: Record<string, string> = { ...BROWSER, ...this.extra, ...headers, ...(form ? FORM : {}) };
    if (this.cookies.size) all.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const reply = await send(this.server.url, { method, path, headers: all, body: form ? new URLSearchParams(form).toString() : undefined });
    for (const header of [reply.headers['set-cookie'] ?? []].flat()) {
      this.setCookies.push(header);
      const [pair] = header.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (!value || /expires=Thu, 01 Jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.seen.push({ what: `${method} ${path}`, reply });
    return reply;
  }
}

const formOf = (html: string, action: RegExp) => {
  const form = [...html.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].find(([, a]) => action.test(a));
  if (!form) return undefined;
  const fields = Object.fromEntries([...form[2].matchAll(/<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"/g)].map(([, n, v]) => [n, v]));
  return { action: form[1].replace(/&amp;/g, '&'), fields };
};

/** The path and query of a Location or form action, whichever host it names: we always ask our node. */
const localPath = (target: string, issuer: string) => {
  const url = new URL(target, issuer);
  return `${url.pathname}${url.search}`;
};

/**
 * Signs USER in to WEB and consents, as a browser would, then signs out (RP-initiated logout):
 * every page, redirect and form of the browser flows.
 */
async function browserFlows(b: RawBrowser, issuer: string) {
  const { challenge } = pkcePair();
  const query = new URLSearchParams({
    client_id: WEB.id, response_type: 'code', redirect_uri: WEB.redirect, scope: 'openid orders:read', state: 'st', code_challenge: challenge, code_challenge_method: 'S256',
  });
  let res = await b.request('GET', `/oauth/authorize?${query}`);
  let landed: URL | undefined;
  for (let step = 0; step < 12 && !landed; step++) {
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(String(res.headers.location), issuer);
      if (`${location.origin}${location.pathname}` === WEB.redirect) landed = location;
      else res = await b.request('GET', localPath(String(res.headers.location), issuer));
      continue;
    }
    expect(res.status, res.text.slice(0, 300)).to.be.oneOf([200, 401]);
    const login = formOf(res.text, /\/login$/);
    const consent = formOf(res.text, /\/confirm$/);
    if (login) res = await b.request('POST', localPath(login.action, issuer), { ...login.fields, login: 'ada@example.test', password: 'correct horse battery staple' });
    else if (consent) res = await b.request('POST', localPath(consent.action, issuer), consent.fields);
    else throw new Error(`no form on ${res.status} ${res.text.slice(0, 300)}`);
  }
  expect(landed, 'the flow reached the redirect URI').to.not.equal(undefined);
  expect(landed!.searchParams.get('code')).to.be.a('string');
  expect(landed!.searchParams.get('iss')).to.equal(issuer);

  const logout = await b.request('GET', '/oauth/logout');
  expect(logout.status, logout.text.slice(0, 300)).to.equal(200);
  const form = formOf(logout.text, /logout\/confirm$/);
  expect(form, 'the logout confirmation form').to.not.equal(undefined);
  const confirmed = await b.request('POST', localPath(form!.action, issuer), { ...form!.fields, logout: 'yes' });
  expect(confirmed.status).to.equal(303);
  const done = await b.request('GET', localPath(String(confirmed.headers.location), issuer));
  expect(done.status).to.equal(200);
}

/** The other entry points: discovery, JWKS, token, the console, the Management API, health, errors. */
async function otherRoutes(b: RawBrowser, issuer: string) {
  const json = { accept: 'application/json' };
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const res = await b.request('GET', path, undefined, json);
    expect(res.status).to.equal(200);
    const doc = JSON.parse(res.text) as Record<string, unknown>;
    expect(doc.issuer).to.equal(issuer);
    expect(doc.jwks_uri).to.equal(`${issuer}/oauth/jwks`);
    for (const [name, value] of Object.entries(doc)) {
      if (name.endsWith('_endpoint') || name.endsWith('_uri')) expect(String(value), name).to.match(new RegExp(`^${issuer.replace(/[.:/]/g, '\\$&')}/`));
    }
  }
  await b.request('GET', '/oauth/jwks', undefined, json);
  const token = await b.request('POST', '/oauth/token', { grant_type: 'client_credentials', resource: `${issuer}/api/v1`, scope: 'clients:read' }, { ...json, authorization: basic('ops-automation', 'ops-automation-secret-0123456789abcdef') });
  expect(token.status, token.text).to.equal(200);
  const accessToken = JSON.parse(token.text).access_token as string;
  expect(decodeJwt(accessToken)).to.include({ iss: issuer, aud: `${issuer}/api/v1` });
  expect((await b.request('POST', '/oauth/token', { grant_type: 'client_credentials' }, { ...json, authorization: basic(SERVICE.id, 'wrong') })).status).to.equal(401);
  expect((await b.request('GET', '/oauth/userinfo', undefined, { ...json, authorization: 'Bearer nothing' })).status).to.equal(401);
  expect((await b.request('GET', '/api/v1/clients', undefined, json)).status).to.equal(401);
  expect((await b.request('GET', '/api/v1/clients', undefined, { ...json, authorization: `Bearer ${accessToken}` })).status).to.equal(200);
  expect((await b.request('GET', '/api/v1/clients?cursor=%ZZ', undefined, { ...json, authorization: `Bearer ${accessToken}` })).status).to.equal(400);
  const openapi = await b.request('GET', '/api/v1/openapi.json', undefined, json);
  expect(JSON.parse(openapi.text).servers[0].url).to.equal(`${issuer}/api/v1`);
  expect((await b.request('GET', '/console')).status).to.equal(301);
  await b.request('GET', '/console/');
  await b.request('GET', '/console/credentials');
  expect((await b.request('GET', '/healthz', undefined, json)).status).to.equal(200);
  await b.request('GET', '/readyz', undefined, json);
  expect((await b.request('GET', '/no/such/page')).status).to.equal(404);
  expect((await b.request('GET', '/no/such/endpoint', undefined, json)).status).to.equal(404);
  expect((await b.request('GET', '/interaction/unknown')).status).to.equal(400);
  expect((await b.request('GET', `/oauth/authorize?client_id=${WEB.id}&response_type=code&redirect_uri=https%3A%2F%2Fnot-registered.example`)).status).to.equal(400);
  expect((await b.request('PUT', '/oauth/token', undefined, json)).status).to.equal(405);
}

/** Nothing the caller said about host or scheme is in a reply: every URL naming our host is ISSUER's. */
function expectOnlyIssuer(seen: Seen[], issuer: string) {
  const { host, protocol } = new URL(issuer);
  for (const { what, reply } of seen) {
    const everything = `${JSON.stringify(reply.headers)}\n${reply.text}`;
    expect(everything, `${what} (${reply.status})`).not.to.include(EVIL);
    for (const [found] of everything.matchAll(/\bhttps?:\/\/[^\s"'<>\\]+/g)) {
      const url = URL.parse(found);
      if (url?.host === host) expect(url.protocol, `${what}: ${found}`).to.equal(protocol);
    }
  }
}

const hostile = (issuerScheme: 'http' | 'https') => ({
  host: EVIL,
  'x-forwarded-host': `proxy.${EVIL}`,
  // The other scheme than ISSUER's: neither may win.
  'x-forwarded-proto': issuerScheme === 'https' ? 'http' : 'https',
  'x-forwarded-for': '203.0.113.9',
});

const seed = () => ({ ...baseSeed(), clients: [...baseSeed().clients, adminClientSeed(['clients:read'])] });

for (const trustProxy of [false, true]) {
  describe(`a foreign Host never reaches a response (http ISSUER, TRUST_PROXY=${trustProxy})`, function () {
    let server: TestServer;
    before(async () => {
      server = await startServer({ seed: seed(), env: { TRUST_PROXY: String(trustProxy) } });
    });
    after(async () => server?.destroy());

    it('builds every URL of the browser flows (authorize, login, consent, resume, logout) from ISSUER', async () => {
      const b = new RawBrowser(server, hostile('http'));
      await browserFlows(b, server.issuer);
      expectOnlyIssuer(b.seen, server.issuer);
      // Plain http ISSUER: no HSTS (RFC 6797 §7.2) and no Secure cookie, which a browser would not send back.
      for (const { reply } of b.seen) expect(reply.headers['strict-transport-security']).to.equal(undefined);
      expect(b.setCookies.filter((c) => /;\s*secure/i.test(c))).to.deep.equal([]);
    });

    it('builds every URL of discovery, the token endpoint, the console, the Management API and error pages from ISSUER', async () => {
      const b = new RawBrowser(server, hostile('http'));
      await otherRoutes(b, server.issuer);
      expectOnlyIssuer(b.seen, server.issuer);
    });

    it('ignores the authority of an absolute-form request target (RFC 9112 §3.2.2)', async () => {
      const res = await send(server.url, { path: `http://${EVIL}/.well-known/openid-configuration`, headers: { accept: 'application/json', host: EVIL } });
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.text).token_endpoint).to.equal(`${server.issuer}/oauth/token`);
      expectOnlyIssuer([{ what: 'absolute-form discovery', reply: res }], server.issuer);
      const page = await send(server.url, { path: `https://${EVIL}:8443?x=1`, headers: { accept: 'application/json' } });
      expect(page.status).to.equal(404);
    });

    it('still refuses a Host header that is not one (RFC 9112 §3.2)', async () => {
      const res = await send(server.url, { path: '/healthz', headers: { host: 'a b[' } });
      expect(res.status).to.equal(400);
    });
  });
}

for (const trustProxy of [false, true]) {
  describe(`an https ISSUER (TRUST_PROXY=${trustProxy})`, function () {
    const issuer = 'https://id.example.test';
    let server: TestServer;
    before(async () => {
      server = await startServer({ seed: seed(), env: { ISSUER: issuer, TRUST_PROXY: String(trustProxy), HSTS_INCLUDE_SUBDOMAINS: String(trustProxy) } });
    });
    after(async () => server?.destroy());

    const hsts = trustProxy ? 'max-age=31536000; includeSubDomains' : 'max-age=31536000';

    it('marks every cookie of sign-in, consent and logout Secure and HttpOnly, even when the proxy says http', async () => {
      const b = new RawBrowser(server, trustProxy ? { 'x-forwarded-proto': 'http' } : {});
      await browserFlows(b, issuer);
      const names = new Set(b.setCookies.map((c) => c.slice(0, c.indexOf('='))));
      // oidc-provider's session, interaction and resume cookies and their signatures.
      expect([...names]).to.include.members(['gh_session', 'gh_session.sig', 'gh_interaction', 'gh_interaction.sig', 'gh_resume', 'gh_resume.sig']);
      for (const cookie of b.setCookies) {
        expect(cookie, cookie).to.match(/;\s*secure(;|$)/i);
        expect(cookie, cookie).to.match(/;\s*httponly(;|$)/i);
      }
      expectOnlyIssuer(b.seen, issuer);
    });

    it(`sends Strict-Transport-Security: ${hsts} on every response, errors included`, async () => {
      const b = new RawBrowser(server, trustProxy ? hostile('https') : {});
      await browserFlows(b, issuer);
      await otherRoutes(b, issuer);
      expect(b.seen.length).to.be.above(25);
      for (const { what, reply } of b.seen) expect(reply.headers['strict-transport-security'], `${what} (${reply.status})`).to.equal(hsts);
      expectOnlyIssuer(b.seen, issuer);
    });
  });
}
