import { expect } from 'chai';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { type CookieJar, authorize, exchangeCode, refresh } from '../support/code-flow.js';
import { ORDERS_API, SERVICE, WEB, baseSeed, basic, jwksOf, postForm } from '../support/fixtures.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';

/**
 * A restart is a new process on the same database (and DATA_DIR): whatever was handed out before
 * must keep working. The issuer is fixed, as in production, because the port changes.
 */
const ISSUER = 'http://gatehouse.test';
const mode = usingRealServices ? 'Postgres and Redis' : 'embedded PGlite';

const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid).sort();

/** Runs a code flow with a browser's cookies and reports which pages it was shown. */
async function signInAgain(node: TestServer, jar: CookieJar) {
  const pages: string[] = [];
  const flow = await authorize(node, { client: WEB, scope: 'openid orders:read', jar, onPage: async (page) => void pages.push(page) });
  return { flow, pages };
}

describe(`restarting a node (${mode})`, () => {
  let original: TestServer;
  let restarted: TestServer;
  let jwksBefore: JSONWebKeySet;
  let jwtBefore: string;
  let refreshBefore: string;
  let browser: CookieJar;

  before(async () => {
    original = await startServer({ seed: baseSeed(), env: { ISSUER } });
    jwksBefore = await jwksOf(original.url);
    const cc = await postForm(`${original.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(cc.status, cc.text).to.equal(200);
    jwtBefore = cc.json.access_token as string;
    const flow = await authorize(original, { client: WEB, scope: 'openid offline_access orders:read' });
    browser = flow.jar;
    const issued = await exchangeCode(original, WEB, flow);
    expect(issued.status, issued.text).to.equal(200);
    refreshBefore = issued.json.refresh_token as string;
    expect(refreshBefore).to.be.a('string');

    await original.stop();
    restarted = await startServer({ databaseUrl: original.databaseUrl, dataDir: original.dataDir, env: { ISSUER } });
  });
  after(async () => {
    await restarted?.stop();
    await original?.destroy();
  });

  it('publishes the same keys (none regenerated)', async () => {
    const jwksAfter = await jwksOf(restarted.url);
    expect(kids(jwksAfter)).to.deep.equal(kids(jwksBefore));
    expect(jwksAfter).to.deep.equal(jwksBefore);
  });

  it('a JWT issued before the restart verifies against the JWKS served after it', async () => {
    const { payload } = await jwtVerify(jwtBefore, createRemoteJWKSet(new URL(`${restarted.url}/oauth/jwks`)), {
      issuer: ISSUER,
      audience: ORDERS_API,
      typ: 'at+jwt',
    });
    expect(payload.client_id).to.equal(SERVICE.id);
  });

  it('a refresh token issued before the restart still refreshes', async () => {
    const res = await refresh(restarted, WEB, refreshBefore);
    expect(res.status, res.text).to.equal(200);
    expect(res.json.refresh_token).to.be.a('string').and.not.equal(refreshBefore);
    await jwtVerify(res.json.access_token as string, createRemoteJWKSet(new URL(`${restarted.url}/oauth/jwks`)), { issuer: ISSUER, audience: ORDERS_API });
  });

  it('a browser signed in before the restart is still signed in', async () => {
    const { flow, pages } = await signInAgain(restarted, browser);
    expect(pages, 'neither the login nor the consent page should be shown again').to.deep.equal([]);
    expect((await exchangeCode(restarted, WEB, flow)).status).to.equal(200);
  });
});

describe('development secrets in DATA_DIR (embedded, nothing configured)', () => {
  // No COOKIE_SECRETS, no KEY_ENCRYPTION_SECRET, no DATABASE_URL: what `npm start` does on a fresh machine.
  const unconfigured = { ISSUER, DATABASE_URL: undefined, REDIS_URL: undefined, COOKIE_SECRETS: undefined, KEY_ENCRYPTION_SECRET: undefined };
  let first: TestServer;
  let second: TestServer | undefined;
  after(async () => {
    // destroy, not stop: with DATABASE_URL in the environment startServer also made each an (unused) database.
    await second?.destroy();
    await first?.destroy();
  });

  it('are generated once, kept private, and reused by the next start', async () => {
    first = await startServer({ seed: baseSeed(), env: unconfigured, redisUrl: null });
    expect(first.runtime.db.kind).to.equal('embedded');
    expect(first.runtime.config.generatedSecrets).to.deep.equal(['COOKIE_SECRETS', 'KEY_ENCRYPTION_SECRET']);
    const file = join(first.dataDir, 'dev-secrets.json');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const saved = readFileSync(file, 'utf8');
    expect(Object.keys(JSON.parse(saved)).sort()).to.deep.equal(['COOKIE_SECRETS', 'KEY_ENCRYPTION_SECRET']);
    const jwksBefore = await jwksOf(first.url);

    const signedIn = await authorize(first, { client: WEB, scope: 'openid orders:read' });

    await first.stop();
    second = await startServer({ dataDir: first.dataDir, env: unconfigured, redisUrl: null });
    // The session cookie is signed with COOKIE_SECRETS: with a new secret the login page would come back.
    const { flow, pages } = await signInAgain(second, signedIn.jar);
    expect(pages).to.deep.equal([]);
    expect((await exchangeCode(second, WEB, flow)).status).to.equal(200);

    expect(readFileSync(file, 'utf8'), 'the secrets file must not be rewritten').to.equal(saved);
    expect(second!.runtime.config.cookieSecrets).to.deep.equal(first.runtime.config.cookieSecrets);
    // The sealed private keys opened with the same KEY_ENCRYPTION_SECRET: the same keys are served.
    expect(await jwksOf(second!.url)).to.deep.equal(jwksBefore);
  });
});
