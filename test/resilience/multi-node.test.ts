import { expect } from 'chai';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { readMigrations } from '../../server/db/migrate.js';
import { authorize, exchangeCode, refresh } from '../support/code-flow.js';
import { ORDERS_API, SERVICE, WEB, baseSeed, basic, jwksOf, postForm } from '../support/fixtures.js';
import { createTestDatabase, dropTestDatabase, startServer, usingRealServices, type TestServer } from '../support/server.js';

/**
 * Several nodes behind one name: they share Postgres and Redis and nothing else. PGlite is owned by
 * one process, so these need the real services (the CI's first pass sets DATABASE_URL and REDIS_URL).
 */
const ISSUER = 'http://gatehouse.test';
const realServices = usingRealServices && Boolean(process.env.REDIS_URL);


describe('several nodes on one database and Redis (needs DATABASE_URL and REDIS_URL; skipped in embedded mode)', () => {
  before(function () {
    if (!realServices) this.skip();
  });

  describe('two nodes serving one issuer', () => {
    let a: TestServer;
    let b: TestServer;
    before(async function () {
      if (!realServices) this.skip();
      a = await startServer({ seed: baseSeed(), env: { ISSUER } });
      b = await startServer({ databaseUrl: a.databaseUrl, env: { ISSUER } });
    });
    after(async () => {
      await b?.stop();
      await a?.destroy();
    });

    it('publish the same JWKS, and the same issuer in discovery', async () => {
      const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)]);
      expect(ja.keys.length).to.be.greaterThan(0);
      expect(jb).to.deep.equal(ja);
      for (const node of [a, b]) {
        const meta = (await (await fetch(`${node.url}/.well-known/openid-configuration`)).json()) as { issuer: string };
        expect(meta.issuer).to.equal(ISSUER);
      }
    });

    it('a client-credentials JWT from node A verifies with node B’s JWKS', async () => {
      const res = await postForm(`${a.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
      expect(res.status).to.equal(200);
      const jwt = res.json.access_token as string;
      const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${b.url}/oauth/jwks`)), {
        issuer: ISSUER,
        audience: ORDERS_API,
        typ: 'at+jwt',
      });
      expect(payload.client_id).to.equal(SERVICE.id);
      expect((await jwksOf(b)).keys.map((k) => k.kid)).to.include(protectedHeader.kid);
    });

    it('a refresh token issued via node A refreshes at node B, and the rotated-out one is refused at A', async () => {
      const flow = await authorize(a, { client: WEB, scope: 'openid offline_access orders:read' });
      const issued = await exchangeCode(a, WEB, flow);
      expect(issued.status, issued.text).to.equal(200);
      const first = issued.json.refresh_token as string;
      expect(first).to.be.a('string');

      const rotated = await refresh(b, WEB, first);
      expect(rotated.status, rotated.text).to.equal(200);
      const second = rotated.json.refresh_token as string;
      expect(second).to.be.a('string').and.not.equal(first);
      // The access token node B minted is good for a resource server that only knows node A's JWKS.
      await jwtVerify(rotated.json.access_token as string, createRemoteJWKSet(new URL(`${a.url}/oauth/jwks`)), {
        issuer: ISSUER,
        audience: ORDERS_API,
        typ: 'at+jwt',
      });

      const replayed = await refresh(a, WEB, first);
      expect(replayed.status).to.equal(400);
      expect(replayed.json.error).to.equal('invalid_grant');
      // RFC 9700 §4.14.2: presenting a rotated-out token revokes the grant, on every node.
      const afterReuse = await refresh(b, WEB, second);
      expect(afterReuse.status).to.equal(400);
      expect(afterReuse.json.error).to.equal('invalid_grant');
    });

    it('a code minted through node A is redeemed at node B exactly once', async () => {
      const flow = await authorize(a, { client: WEB, scope: 'openid orders:read' });
      const redeemed = await exchangeCode(b, WEB, flow);
      expect(redeemed.status, redeemed.text).to.equal(200);
      const idToken = redeemed.json.id_token as string;
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(await jwksOf(a)), { issuer: ISSUER, audience: WEB.id });
      expect(payload.sub).to.be.a('string');
      expect(decodeProtectedHeader(idToken).alg).to.equal('RS256');

      const again = await exchangeCode(a, WEB, flow);
      expect(again.status).to.equal(400);
      expect(again.json.error).to.equal('invalid_grant');
    });
  });

  describe('nodes starting together on an empty database', () => {
    let databaseUrl: string | undefined;
    const nodes: TestServer[] = [];
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      if (databaseUrl) await dropTestDatabase(databaseUrl);
    });

    it('all migrate without error and agree on one key set', async function () {
      if (!realServices) this.skip();
      databaseUrl = await createTestDatabase();
      // Started in the same tick, each with its own connection pool: the advisory locks are what
      // keep them from migrating twice or each generating a key set of their own.
      const started = await Promise.allSettled([1, 2, 3].map(() => startServer({ databaseUrl, env: { ISSUER } })));
      for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
      const failures = started.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason));
      expect(failures).to.deep.equal([]);

      const sets = await Promise.all(nodes.map(jwksOf));
      for (const set of sets) expect(set).to.deep.equal(sets[0]);

      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const keys = await client.query<{ alg: string; n: number }>('SELECT alg, count(*)::int AS n FROM signing_keys GROUP BY alg ORDER BY alg');
        expect(keys.rows).to.deep.equal([
          { alg: 'EC', n: 1 },
          { alg: 'RSA', n: 1 },
        ]);
        expect(sets[0].keys.map((k) => k.kid).sort()).to.have.length(2);
        const migrations = await client.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
        expect(migrations.rows.map((r) => r.version)).to.deep.equal(readMigrations().map((m) => m.version));
      } finally {
        await client.end();
      }
    });
  });
});
