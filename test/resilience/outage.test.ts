import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { createTestDatabase, dropTestDatabase, startServer, type TestServer } from '../support/server.js';
import { SERVICE, WEB, baseSeed, basic } from '../support/fixtures.js';
import { CookieJar, authorize, type FlowClient } from '../support/code-flow.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { StorageUnavailableError } from '../../server/db/errors.js';

/**
 * Postgres and Redis go away (through a TCP proxy that resets every connection) and come back, with
 * the server left running. While a store is away the requests that need it answer 503
 * temporarily_unavailable with Retry-After (RFC 6749 §5.2, RFC 9110 §10.2.3) within a few seconds,
 * those that do not need it keep working, and once it is back everything works again without a
 * restart, grants and refresh tokens included.
 */

const enabled = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const title = 'outages of Postgres and Redis';

/** No request may hang while a store is away: give up well before mocha's own timeout. */
const REQUEST_LIMIT_MS = 5_000;
/** How long reconnecting may take once a store is back (ioredis retries at most every 2 s). */
const HEAL_LIMIT_MS = 15_000;

const web: FlowClient = { id: WEB.id, redirect: WEB.redirect, secret: WEB.secret };
const SCOPE = 'openid offline_access orders:read';
const API = { accept: 'application/json' };
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* a page, not JSON */
  }
  return { status: res.status, headers: res.headers, text, json };
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams(fields),
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});

function expectUnavailable(res: Reply, what: string) {
  const summary = `${what}: ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, summary).to.equal(503);
  expect(res.headers.get('retry-after'), summary).to.match(/^\d+$/);
  expect(res.headers.get('content-type'), summary).to.match(/^application\/json/);
  expect(res.json.error, summary).to.equal('temporarily_unavailable');
  expect(res.json.error_description, summary).to.be.a('string');
}

function expectUnavailablePage(res: Reply, what: string) {
  const summary = `${what}: ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, summary).to.equal(503);
  expect(res.headers.get('retry-after'), summary).to.match(/^\d+$/);
  expect(res.headers.get('content-type'), summary).to.match(/^text\/html/);
  expect(res.text, summary).to.include('Temporarily unavailable');
  expect(res.text, summary).not.to.match(/\n\s*at \S|node_modules|\/work\//);
}

(enabled ? describe : describe.skip)(enabled ? title : `${title} (skipped: set DATABASE_URL and REDIS_URL to run)`, function () {
  this.timeout(60_000);

  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let directDatabaseUrl: string;
  let server: TestServer;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  // Issued while all is well, presented after each outage.
  let refreshToken: string;

  const clientCredentials = () =>
    call(`${server.url}/oauth/token`, form({ grant_type: 'client_credentials' }, { ...API, authorization: basic(SERVICE.id, SERVICE.secret) }));
  const authorizeUrl = () =>
    `${server.url}/oauth/authorize?client_id=${WEB.id}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(WEB.redirect)}` +
    `&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
  const ready = () => call(`${server.url}/readyz`, { headers: API });

  /** RFC 6749 §4.1.3, bounded like every request here (the flow helper's exchangeCode is not). */
  const redeem = (flow: { code: string; verifier: string; redirectUri: string }) =>
    call(
      `${server.url}/oauth/token`,
      form(
        { grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
        { ...API, authorization: basic(WEB.id, WEB.secret) },
      ),
    );
  const useRefresh = () =>
    call(`${server.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken }, { ...API, authorization: basic(WEB.id, WEB.secret) }));

  async function useRefreshToken() {
    const res = await useRefresh();
    expect(res.status, res.text).to.equal(200);
    expect(res.json.refresh_token).to.be.a('string');
    // Rotation (RFC 9700 §2.2.2): the next use needs the new one.
    refreshToken = res.json.refresh_token as string;
  }

  async function fullFlowWorks() {
    const res = await redeem(await authorize(server, { client: web, scope: SCOPE }));
    expect(res.status, res.text).to.equal(200);
  }

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    const db = new URL(process.env.DATABASE_URL!);
    const redis = new URL(process.env.REDIS_URL!);
    pgProxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
    redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    // The database is created directly; only the server's own connections go through the proxy.
    directDatabaseUrl = (await createTestDatabase())!;
    server = await startServer({
      seed: baseSeed(),
      databaseUrl: pgProxy.through(directDatabaseUrl),
      redisUrl: redisProxy.through(process.env.REDIS_URL!),
    });

    const tokens = await redeem(await authorize(server, { client: web, scope: SCOPE }));
    expect(tokens.status, tokens.text).to.equal(200);
    refreshToken = tokens.json.refresh_token as string;
    expect(refreshToken).to.be.a('string');
  });

  after(async () => {
    process.removeListener('unhandledRejection', onUnhandled);
    await server?.stop();
    await pgProxy?.close();
    await redisProxy?.close();
    if (directDatabaseUrl) await dropTestDatabase(directDatabaseUrl);
  });

  // Made before the Redis cut: a code not yet redeemed, and a browser halfway through signing in.
  let pendingCode: Awaited<ReturnType<typeof authorize>>;

  describe('while Redis is unreachable', () => {
    let jar: CookieJar;
    let interactionPath: string;

    before(async () => {
      pendingCode = await authorize(server, { client: web, scope: SCOPE });
      jar = new CookieJar();
      const start = await jar.fetch(new URL(authorizeUrl()));
      interactionPath = start.headers.get('location') ?? '';
      expect(interactionPath).to.match(/^\/interaction\//);
      redisProxy.cut();
    });

    it('/healthz still answers 200: the process is alive', async () => {
      const res = await call(`${server.url}/healthz`);
      expect(res.status).to.equal(200);
    });

    it('/readyz answers 503 naming Redis, not the database', async () => {
      const res = await ready();
      expect(res.status).to.equal(503);
      expect(res.json.checks).to.deep.equal({ database: 'ok', redis: 'unavailable' });
    });

    it('client credentials still get tokens: they need only Postgres', async () => {
      const res = await clientCredentials();
      expect(res.status, res.text).to.equal(200);
      expect(res.json.access_token).to.be.a('string');
    });

    it('the authorization endpoint answers 503 temporarily_unavailable (JSON for an API caller)', async () => {
      expectUnavailable(await call(authorizeUrl(), { headers: API }), 'authorize');
    });

    it('the authorization endpoint shows a browser a 503 page', async () => {
      expectUnavailablePage(await call(authorizeUrl(), { headers: BROWSER }), 'authorize');
    });

    it('a login page halfway through answers a 503 page', async () => {
      const url = new URL(interactionPath, server.url);
      const res = await call(url.href, { headers: { ...BROWSER, cookie: jar.header(url) } });
      expectUnavailablePage(res, 'interaction');
    });

    it('redeeming an authorization code answers 503 temporarily_unavailable', async () => {
      expectUnavailable(await redeem(pendingCode), 'code exchange');
    });
  });

  describe('once Redis is back', () => {
    before(async () => {
      redisProxy.restore();
      await eventually('the server to heal', async () => {
        expect((await ready()).status).to.equal(200);
      }, HEAL_LIMIT_MS);
    });

    it('the code issued before the outage is redeemed', async () => {
      // The attempt during the outage could not reach it, so it was never consumed.
      const res = await redeem(pendingCode);
      expect(res.status, res.text).to.equal(200);
    });

    it('the refresh token issued before the outage still works', useRefreshToken);

    it('a whole sign-in works again', fullFlowWorks);
  });

  // A partition rather than a crash: the connection stays open and Redis just never answers. Without
  // a command timeout every request needing Redis would wait for TCP keepalive, for minutes.
  describe('while Redis does not answer', () => {
    before(() => redisProxy.stall());

    it('the authorization endpoint answers 503 temporarily_unavailable instead of waiting', async () => {
      expectUnavailable(await call(authorizeUrl(), { headers: API }), 'authorize');
    });

    it('/readyz answers 503 naming Redis', async () => {
      const res = await ready();
      expect(res.status).to.equal(503);
      expect(res.json.checks).to.deep.equal({ database: 'ok', redis: 'unavailable' });
    });

    it('client credentials still get tokens', async () => {
      expect((await clientCredentials()).status).to.equal(200);
    });
  });

  describe('once Redis answers again', () => {
    before(async () => {
      redisProxy.restore();
      await eventually('the server to heal', async () => {
        expect((await ready()).status).to.equal(200);
      }, HEAL_LIMIT_MS);
    });

    it('a whole sign-in works', fullFlowWorks);

    it('the refresh token still works', useRefreshToken);
  });

  describe('while Postgres is unreachable', () => {
    it('losing the connection inside a transaction fails it with StorageUnavailableError, not a crash', async () => {
      // pg emits 'error' on a checked-out client whose socket dies; unheard, that would kill the process.
      const attempt = server.runtime.db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        pgProxy.cut();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.query('SELECT 1');
      });
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(StorageUnavailableError);
    });

    it('/healthz still answers 200', async () => {
      expect((await call(`${server.url}/healthz`)).status).to.equal(200);
    });

    it('/readyz answers 503 naming the database', async () => {
      const res = await ready();
      expect(res.status).to.equal(503);
      expect(res.json.checks).to.deep.equal({ database: 'unavailable', redis: 'ok' });
    });

    it('client credentials answer 503 temporarily_unavailable', async () => {
      expectUnavailable(await clientCredentials(), 'client credentials');
    });

    it('a refresh answers 503 temporarily_unavailable', async () => {
      expectUnavailable(await useRefresh(), 'refresh');
    });

    it('the authorization endpoint answers 503 temporarily_unavailable', async () => {
      expectUnavailable(await call(authorizeUrl(), { headers: API }), 'authorize');
    });
  });

  describe('once Postgres is back', () => {
    before(async () => {
      pgProxy.restore();
      await eventually('the server to heal', async () => {
        expect((await ready()).status).to.equal(200);
      }, HEAL_LIMIT_MS);
    });

    it('client credentials get tokens again', async () => {
      const res = await clientCredentials();
      expect(res.status, res.text).to.equal(200);
    });

    it('the refresh token issued before the outage still works', useRefreshToken);

    it('a whole sign-in works again', fullFlowWorks);
  });

  // A describe of its own: mocha runs a suite's own tests before its nested suites.
  describe('afterwards', () => {
    it('nothing was left unhandled: no unhandled rejection during either outage', () => {
      expect(unhandled.map(String)).to.deep.equal([]);
    });
  });
});
