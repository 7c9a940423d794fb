import { expect } from 'chai';
import { type TestServer } from '../support/server.js';
import { SERVICE, SPA, USER, WEB, basic } from '../support/fixtures.js';
import { CookieJar, authorize } from '../support/code-flow.js';
import { useServer } from '../support/setup.js';
import { type Reply, type Req, send, sendRaw } from '../support/raw-http.js';

/**
 * Malformed, oversized and hostile requests at every endpoint. Whatever arrives, the answer is never
 * a 5xx: protocol endpoints answer an RFC 6749 §5.2 JSON error with a 4xx, browser pages an HTML
 * page, and neither shows a stack trace or a path on the server.
 */

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const API = { accept: 'application/json' };
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const SERVICE_AUTH = { authorization: basic(SERVICE.id, SERVICE.secret) };
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const webAuthorize = `client_id=${WEB.id}&response_type=code&redirect_uri=${encodeURIComponent(WEB.redirect)}`;
const challenge = `code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
const MB = 1024 * 1024;

/** RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E only. */
const ERROR_CHARSET = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/** What the answer must be, beyond "not a 5xx and no internals". */
type Expect =
  /** A protocol error: JSON {error, error_description} with this status (and code, if given). */
  | { oauth: number; error?: string; allow?: string }
  /** A page for a person: HTML with this status. */
  | { page: number }
  /** Sent back to the client's registered redirect_uri with ?error= (RFC 6749 §4.1.2.1). */
  | { redirect: string; error: string }
  /** Refused by Node's HTTP parser before the application sees it. */
  | { parser: number }
  /** Not an error: the odd part is ignored, as RFC 6749 §3.1 says unknown parameters are. */
  | { accepted: number };

interface Case extends Req {
  what: string;
  expect: Expect;
}

function checkNoInternals(res: Reply) {
  expect(res.status, res.text.slice(0, 300)).to.be.below(500);
  expect(res.text).not.to.match(/\n\s*at \S/, 'a stack frame');
  expect(res.text).not.to.match(/\/work\/|node_modules|file:\/\/|\.[jt]s:\d+/, 'a server path');
  expect(res.text).not.to.match(/\b(TypeError|RangeError|SyntaxError|URIError|ReferenceError)\b/, 'an exception name');
}

function checkExpectation(res: Reply, expected: Expect) {
  const type = String(res.headers['content-type'] ?? '');
  const summary = `${res.status} ${type} ${res.text.slice(0, 300)}`;
  if ('oauth' in expected) {
    expect(res.status, summary).to.equal(expected.oauth);
    expect(type, summary).to.match(/^application\/json/);
    const body = JSON.parse(res.text) as { error?: unknown; error_description?: unknown };
    expect(body.error, summary).to.be.a('string').and.match(ERROR_CHARSET);
    expect(body.error_description, summary).to.be.a('string').and.match(ERROR_CHARSET);
    if (expected.error) expect(body.error, summary).to.equal(expected.error);
    if (expected.allow) expect(res.headers.allow, summary).to.equal(expected.allow);
  } else if ('page' in expected) {
    expect(res.status, summary).to.equal(expected.page);
    expect(type, summary).to.match(/^text\/html/);
    expect(res.text, summary).to.match(/^<!doctype html>/i);
  } else if ('redirect' in expected) {
    expect(res.status, summary).to.equal(303);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}${location.pathname}`, summary).to.equal(expected.redirect);
    expect(location.searchParams.get('error'), summary).to.equal(expected.error);
  } else if ('parser' in expected) {
    expect(res.status, summary).to.equal(expected.parser);
  } else {
    expect(res.status, summary).to.equal(expected.accepted);
  }
}

const cases: Case[] = [
  // Authorization endpoint (RFC 6749 §4.1.1): a person's browser, or a script.
  { what: 'authorize: invalid percent-encoding (browser)', path: '/oauth/authorize?client_id=%E0%A4%A', headers: BROWSER, expect: { page: 400 } },
  { what: 'authorize: invalid percent-encoding (API)', path: '/oauth/authorize?client_id=%E0%A4%A', headers: API, expect: { oauth: 400, error: 'invalid_client' } },
  { what: 'authorize: unknown client_id (browser)', path: '/oauth/authorize?client_id=nobody&response_type=code', headers: BROWSER, expect: { page: 400 } },
  { what: 'authorize: unknown client_id (API)', path: '/oauth/authorize?client_id=nobody&response_type=code', headers: API, expect: { oauth: 400, error: 'invalid_client' } },
  { what: 'authorize: two client_id', path: `/oauth/authorize?${webAuthorize}&client_id=other&scope=openid`, headers: API, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'authorize: two scope', path: `/oauth/authorize?${webAuthorize}&scope=openid&scope=profile&${challenge}`, headers: BROWSER, expect: { redirect: WEB.redirect, error: 'invalid_request' } },
  { what: 'authorize: scope[] (an unknown parameter)', path: `/oauth/authorize?${webAuthorize}&scope[]=openid&${challenge}`, headers: BROWSER, expect: { accepted: 303 } },
  // RFC 6749 §4.1.2.1: never redirect to an unregistered redirect_uri.
  { what: 'authorize: unregistered redirect_uri', path: `/oauth/authorize?client_id=${WEB.id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb`, headers: BROWSER, expect: { page: 400 } },
  { what: 'authorize: redirect_uri that is not a URL', path: `/oauth/authorize?client_id=${WEB.id}&response_type=code&scope=openid&redirect_uri=not%20a%20url`, headers: API, expect: { oauth: 400, error: 'invalid_redirect_uri' } },
  { what: 'authorize: NUL in client_id', path: '/oauth/authorize?client_id=web%00app&response_type=code', headers: BROWSER, expect: { page: 400 } },
  { what: 'authorize: NUL in client_id (API)', path: '/oauth/authorize?client_id=web%00app&response_type=code', headers: API, expect: { oauth: 400, error: 'invalid_request' } },
  // A NUL in state cannot be stored (Postgres text) and is no VSCHAR (RFC 6749 Appendix A.5).
  { what: 'authorize: NUL in state and nonce', path: `/oauth/authorize?${webAuthorize}&scope=openid&state=a%00b&nonce=%00&${challenge}`, headers: API, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'authorize: percent-encoded non-UTF-8 bytes', path: '/oauth/authorize?client_id=%FF%FE&response_type=code', headers: BROWSER, expect: { page: 400 } },
  // A UTF-16 surrogate spelt in UTF-8 (CESU-8) is no character: decoding turns it into U+FFFD, never a lone surrogate.
  { what: 'authorize: an encoded surrogate in client_id', path: '/oauth/authorize?client_id=%ED%A0%80&response_type=code', headers: BROWSER, expect: { page: 400 } },
  { what: 'authorize: an encoded surrogate in state', path: `/oauth/authorize?${webAuthorize}&scope=openid&state=%ED%A0%80&${challenge}`, headers: BROWSER, expect: { accepted: 303 } },
  { what: 'authorize: raw non-UTF-8 bytes in the query', path: '/oauth/authorize?client_id=\xff\xfe', headers: BROWSER, expect: { parser: 400 } },
  { what: 'authorize: very long client_id', path: `/oauth/authorize?client_id=${'c'.repeat(12_000)}&response_type=code`, headers: API, expect: { oauth: 400, error: 'invalid_client' } },
  { what: 'authorize: code_challenge too short', path: `/oauth/authorize?client_id=${SPA.id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(SPA.redirect)}&code_challenge=abc&code_challenge_method=S256`, headers: BROWSER, expect: { redirect: SPA.redirect, error: 'invalid_request' } },
  { what: 'authorize: 100 KB query string', path: `/oauth/authorize?${webAuthorize}&x=${'a'.repeat(100_000)}`, headers: BROWSER, expect: { parser: 431 } },
  { what: 'authorize: 10 KB header values', path: `/oauth/authorize?${webAuthorize}&scope=openid&${challenge}`, headers: { ...BROWSER, 'x-filler': 'x'.repeat(10_240), cookie: `gh_session=${'s'.repeat(5_000)}` }, expect: { accepted: 303 } },
  { what: 'authorize: cookies with invalid percent-encoding', path: `/oauth/authorize?${webAuthorize}&scope=openid&${challenge}`, headers: { ...BROWSER, cookie: 'gh_session=%E0%A4%A; gh_session.sig=%ZZ; =; ;;' }, expect: { accepted: 303 } },
  { what: 'authorize: POST (not enabled)', method: 'POST', path: '/oauth/authorize', headers: { ...API, ...FORM }, body: webAuthorize, expect: { oauth: 405, allow: 'GET, HEAD' } },
  { what: 'authorize: resume with invalid percent-encoding', path: '/oauth/authorize/%ZZ', headers: BROWSER, expect: { page: 400 } },

  // Token endpoint (RFC 6749 §3.2, §5.2).
  { what: 'token: two grant_type', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: two client_id', method: 'POST', path: '/oauth/token', headers: FORM, body: `grant_type=client_credentials&client_id=${SERVICE.id}&client_id=${SERVICE.id}&client_secret=${SERVICE.secret}`, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: two scope', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&scope=orders:read&scope=orders:read', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: scope[] (an unknown parameter)', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&scope[]=nothing', expect: { accepted: 200 } },
  { what: 'token: 1 MB body', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: `grant_type=client_credentials&x=${'a'.repeat(MB)}`, expect: { oauth: 413, error: 'invalid_request' } },
  // Without Content-Length the size is only known while reading; oidc-provider stops at 56 KiB.
  { what: 'token: 1 MB chunked body', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: `grant_type=client_credentials&x=${'a'.repeat(MB)}`, chunked: true, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: 100 KB query string', method: 'POST', path: `/oauth/token?x=${'a'.repeat(100_000)}`, headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials', expect: { parser: 431 } },
  { what: 'token: 10 KB Authorization header', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: `Basic ${'A'.repeat(10_240)}` }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: JSON body', method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/json', ...SERVICE_AUTH }, body: '{"grant_type":"client_credentials"}', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: truncated JSON body', method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/json', ...SERVICE_AUTH }, body: '{"grant_type', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: no content-type', method: 'POST', path: '/oauth/token', headers: SERVICE_AUTH, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  // An unknown charset parameter is ignored: the body is still a form.
  { what: 'token: unknown charset', method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=nonsense', ...SERVICE_AUTH }, body: 'grant_type=client_credentials', expect: { accepted: 200 } },
  { what: 'token: PUT', method: 'PUT', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials', expect: { oauth: 405, error: 'invalid_request', allow: 'POST' } },
  { what: 'token: GET', path: '/oauth/token?grant_type=client_credentials', headers: SERVICE_AUTH, expect: { oauth: 405, allow: 'POST' } },
  { what: 'token: unknown grant_type', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=urn:example:nothing', expect: { oauth: 400, error: 'unsupported_grant_type' } },
  { what: 'token: empty Basic credentials', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: 'Basic ' }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: Basic that is not base64', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: 'Basic !!!not*base64' }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: Basic without a colon', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: `Basic ${b64(SERVICE.id)}` }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: Basic with invalid percent-encoding', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: `Basic ${b64('%E0%A4%A:secret')}` }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: Basic with a NUL', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: `Basic ${b64('svc%00orders:secret')}` }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  // RFC 6749 Appendix B: the encoded id and secret are VSCHARs, so these are malformed rather than wrong.
  { what: 'token: Basic with non-UTF-8 bytes', method: 'POST', path: '/oauth/token', headers: { ...FORM, authorization: `Basic ${b64('\xff\xfe:\xff')}` }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: unknown client_id', method: 'POST', path: '/oauth/token', headers: FORM, body: 'grant_type=client_credentials&client_id=nobody&client_secret=x', expect: { oauth: 401, error: 'invalid_client' } },
  { what: 'token: NUL in client_id', method: 'POST', path: '/oauth/token', headers: FORM, body: 'grant_type=client_credentials&client_id=svc%00orders&client_secret=x', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'token: NUL in resource', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&resource=https%3A%2F%2Forders.example.test%00', expect: { oauth: 400 } },
  { what: 'token: NUL in scope', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&scope=orders%00read', expect: { oauth: 400, error: 'invalid_scope' } },
  { what: 'token: raw non-UTF-8 bytes in the body', method: 'POST', path: '/oauth/token', headers: FORM, body: Buffer.concat([Buffer.from('grant_type=client_credentials&client_id='), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('&client_secret=x')]), expect: { oauth: 401, error: 'invalid_client' } },
  { what: 'token: percent-encoded non-UTF-8 bytes', method: 'POST', path: '/oauth/token', headers: FORM, body: 'grant_type=client_credentials&client_id=%FF%FE&client_secret=%C0', expect: { oauth: 401, error: 'invalid_client' } },
  { what: 'token: an encoded surrogate in client_id', method: 'POST', path: '/oauth/token', headers: FORM, body: 'grant_type=client_credentials&client_id=%ED%A0%80&client_secret=%ED%B0%80', expect: { oauth: 401, error: 'invalid_client' } },
  { what: 'token: an encoded surrogate in scope', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials&scope=orders%3Aread%ED%A0%80', expect: { oauth: 400, error: 'invalid_scope' } },
  { what: 'introspect: an encoded surrogate as the token', method: 'POST', path: '/oauth/introspect', headers: { ...FORM, ...SERVICE_AUTH }, body: 'token=ak_live_%ED%A0%80', expect: { accepted: 200 } },
  { what: 'token: very long client_id', method: 'POST', path: '/oauth/token', headers: FORM, body: `grant_type=client_credentials&client_id=${'c'.repeat(50_000)}&client_secret=x`, expect: { oauth: 401, error: 'invalid_client' } },
  { what: 'token: invalid percent-encoding in the path', method: 'POST', path: '/oauth/%ZZ', headers: { ...FORM, ...SERVICE_AUTH }, body: 'grant_type=client_credentials', expect: { oauth: 404 } },
  { what: 'token: unknown code, wrong redirect_uri', method: 'POST', path: '/oauth/token', headers: FORM, body: `grant_type=authorization_code&client_id=${SPA.id}&code=nothing&redirect_uri=https%3A%2F%2Fevil.example&code_verifier=${'v'.repeat(43)}`, expect: { oauth: 400, error: 'invalid_grant' } },
  { what: 'token: 10 KB refresh_token', method: 'POST', path: '/oauth/token', headers: FORM, body: `grant_type=refresh_token&client_id=${SPA.id}&refresh_token=${'r'.repeat(10_240)}`, expect: { oauth: 400, error: 'invalid_grant' } },
  { what: 'token: Host that does not parse', method: 'POST', path: '/oauth/token', headers: { ...FORM, ...SERVICE_AUTH, host: '[' }, body: 'grant_type=client_credentials', expect: { oauth: 400, error: 'invalid_request' } },

  // The other protocol endpoints.
  { what: 'introspect: empty Basic credentials', method: 'POST', path: '/oauth/introspect', headers: { ...FORM, authorization: 'Basic' }, body: 'token=x', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'introspect: two token', method: 'POST', path: '/oauth/introspect', headers: { ...FORM, ...SERVICE_AUTH }, body: 'token=a&token=b', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'introspect: GET', path: '/oauth/introspect?token=x', headers: SERVICE_AUTH, expect: { oauth: 405, allow: 'POST' } },
  { what: 'revoke: JSON body', method: 'POST', path: '/oauth/revoke', headers: { 'content-type': 'application/json', ...SERVICE_AUTH }, body: '{"token":"x"}', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'revoke: 1 MB body', method: 'POST', path: '/oauth/revoke', headers: { ...FORM, ...SERVICE_AUTH }, body: `token=${'t'.repeat(MB)}`, expect: { oauth: 413 } },
  { what: 'userinfo: non-UTF-8 bearer token', path: '/oauth/userinfo', headers: { authorization: 'Bearer \xff\xfe\x80' }, expect: { oauth: 401, error: 'invalid_token' } },
  { what: 'userinfo: 10 KB bearer token', path: '/oauth/userinfo', headers: { authorization: `Bearer ${'t'.repeat(10_240)}` }, expect: { oauth: 401, error: 'invalid_token' } },
  { what: 'userinfo: Bearer without a token', path: '/oauth/userinfo', headers: { authorization: 'Bearer' }, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'userinfo: two access_token', path: '/oauth/userinfo?access_token=a&access_token=b', expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'userinfo: PUT', method: 'PUT', path: '/oauth/userinfo', expect: { oauth: 405, allow: 'GET, POST, HEAD' } },
  { what: 'logout: invalid percent-encoding (browser)', path: '/oauth/logout?id_token_hint=%E0%A4%A', headers: BROWSER, expect: { page: 400 } },
  { what: 'logout: id_token_hint that is no JWT', path: '/oauth/logout?id_token_hint=a.b.c', headers: API, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'logout confirm: invalid percent-encoding', method: 'POST', path: '/oauth/logout/confirm', headers: { ...FORM, ...BROWSER }, body: 'xsrf=%ZZ&logout=yes', expect: { page: 400 } },
  { what: 'jwks: PUT', method: 'PUT', path: '/oauth/jwks', headers: API, expect: { oauth: 405, allow: 'GET, HEAD' } },
  { what: 'jwks: trailing slash, DELETE', method: 'DELETE', path: '/oauth/jwks/', headers: API, expect: { oauth: 405, allow: 'GET, HEAD' } },
  { what: 'discovery: invalid percent-encoding in the query', path: '/.well-known/openid-configuration?%E0%A4%A=%ZZ', headers: API, expect: { accepted: 200 } },
  { what: 'discovery: Host that does not parse', path: '/.well-known/openid-configuration', headers: { ...API, host: '[' }, expect: { oauth: 400, error: 'invalid_request' } },
  { what: 'discovery: POST', method: 'POST', path: '/.well-known/oauth-authorization-server', headers: API, expect: { oauth: 405, allow: 'GET, HEAD' } },
  { what: 'unknown path with invalid percent-encoding', path: '/%ZZ/%E0%A4%A', headers: API, expect: { oauth: 404 } },
  { what: 'unknown path with invalid percent-encoding (browser)', path: '/%ZZ/%E0%A4%A', headers: BROWSER, expect: { page: 404 } },
  { what: 'health: 10 KB X-Request-Id', path: '/healthz', headers: { 'x-request-id': 'r'.repeat(10_240) }, expect: { accepted: 200 } },

  // Interaction pages without a live interaction (no cookie, or a uid that does not decode).
  { what: 'interaction: invalid percent-encoding in the uid', path: '/interaction/%ZZ', headers: BROWSER, expect: { page: 400 } },
  { what: 'interaction: NUL in the uid', path: '/interaction/%00', headers: BROWSER, expect: { page: 400 } },
  { what: 'interaction: raw non-UTF-8 bytes in the uid', path: '/interaction/\xff\xfe', headers: BROWSER, expect: { parser: 400 } },
  { what: 'interaction: very long uid', path: `/interaction/${'u'.repeat(12_000)}`, headers: BROWSER, expect: { page: 400 } },
  { what: 'interaction: login with invalid percent-encoding in the uid', method: 'POST', path: '/interaction/%E0%A4%A/login', headers: { ...FORM, ...BROWSER }, body: 'csrf=x&login=a&password=b', expect: { page: 400 } },
  { what: 'interaction: PUT', method: 'PUT', path: '/interaction/abc/login', headers: BROWSER, expect: { page: 405 } },
];

describe('malformed requests never get a 5xx', function () {
  let server: TestServer;
  useServer({}, (s) => ({ server } = s));

  for (const c of cases) {
    it(c.what, async () => {
      const res = await send(server.url, c);
      checkNoInternals(res);
      checkExpectation(res, c.expect);
    });
  }

  it('a NUL in the request line is refused by the HTTP parser', async () => {
    const res = await sendRaw(server.url, Buffer.from('GET /oauth/authorize?client_id=a\0b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'));
    expect(res.status).to.equal(400);
    checkNoInternals(res);
  });

  describe('code_verifier of a real code (RFC 7636 §4.1: 43 to 128 unreserved characters)', () => {
    for (const [what, verifier] of [
      ['too short', 'v'.repeat(42)],
      ['too long', 'v'.repeat(129)],
      ['with characters outside the unreserved set', `${'v'.repeat(42)}%00`],
      ['with non-ASCII characters', `${'v'.repeat(42)}%C3%A9`],
    ] as const) {
      it(`refuses one ${what} with invalid_request`, async () => {
        const flow = await authorize(server, { client: { id: SPA.id, redirect: SPA.redirect }, scope: 'openid' });
        const body = `grant_type=authorization_code&client_id=${SPA.id}&code=${flow.code}&redirect_uri=${encodeURIComponent(SPA.redirect)}&code_verifier=${verifier}`;
        const res = await send(server.url, { method: 'POST', path: '/oauth/token', headers: FORM, body });
        checkNoInternals(res);
        checkExpectation(res, { oauth: 400, error: 'invalid_request' });
      });
    }
  });

  describe('forms of a live interaction', () => {
    let jar: CookieJar;
    let uid: string;
    let csrf: string;

    before(async () => {
      jar = new CookieJar();
      const start = await jar.fetch(new URL(`/oauth/authorize?${webAuthorize}&scope=openid&${challenge}`, server.url));
      const location = start.headers.get('location') ?? '';
      uid = /^\/interaction\/([^/?]+)$/.exec(location)?.[1] ?? '';
      expect(uid, `authorize answered ${start.status} ${location}`).not.to.equal('');
      const page = await (await jar.fetch(new URL(location, server.url), { headers: BROWSER })).text();
      csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      expect(csrf).not.to.equal('');
    });

    const login = (body: string | Buffer, headers: Record<string, string> = FORM, chunked = false) => {
      const path = `/interaction/${uid}/login`;
      return send(server.url, { method: 'POST', path, headers: { ...BROWSER, ...headers, cookie: jar.header(new URL(path, server.url)) }, body, chunked });
    };

    for (const [what, body, expected] of [
      ['a repeated csrf field', () => `csrf=${csrf}&csrf=${csrf}&login=a&password=b`, 400],
      ['a repeated password field', () => `csrf=${csrf}&login=a&password=b&password=c`, 400],
      ['no csrf field', () => 'login=a&password=b', 400],
      ['invalid percent-encoding', () => `csrf=${csrf}&login=%E0%A4%A&password=%ZZ`, 401],
      ['a NUL in the login', () => `csrf=${csrf}&login=ada%00@example.test&password=b`, 400],
      ['an encoded surrogate in the login', () => `csrf=${csrf}&login=%ED%A0%80@example.test&password=%ED%B0%80`, 401],
      ['a 10 KB login', () => `csrf=${csrf}&login=${'l'.repeat(10_240)}&password=b`, 401],
      ['non-UTF-8 bytes', () => Buffer.concat([Buffer.from(`csrf=${csrf}&login=`), Buffer.from([0xff, 0xfe]), Buffer.from('&password=\x80')]), 401],
      ['a 1 MB body', () => `csrf=${csrf}&login=a&password=${'p'.repeat(MB)}`, 413],
    ] as const) {
      it(`answers a login form with ${what} with a ${expected} page`, async () => {
        const res = await login(body());
        checkNoInternals(res);
        checkExpectation(res, { page: expected });
      });
    }

    it('answers a 1 MB chunked login form with a 413 page', async () => {
      const res = await login(`csrf=${csrf}&login=a&password=${'p'.repeat(MB)}`, FORM, true);
      checkNoInternals(res);
      checkExpectation(res, { page: 413 });
    });

    it('answers a JSON login with a 400 page', async () => {
      const res = await login(JSON.stringify({ csrf, login: 'a', password: 'b' }), { 'content-type': 'application/json' });
      checkNoInternals(res);
      checkExpectation(res, { page: 400 });
    });

    it('answers a login without content-type with a 400 page', async () => {
      const res = await login(`csrf=${csrf}&login=a&password=b`, {});
      checkNoInternals(res);
      checkExpectation(res, { page: 400 });
    });

    it('still signs the user in after all that', async () => {
      // None of the malformed posts above used up or broke the interaction.
      const res = await login(new URLSearchParams({ csrf, login: USER.email, password: USER.password }).toString());
      expect(res.status, res.text.slice(0, 300)).to.equal(303);
    });
  });
});
