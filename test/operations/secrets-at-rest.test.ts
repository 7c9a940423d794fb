import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { digest } from '../../server/crypto/tokens.js';
import { ORDERS_API, SERVICE, USER, WEB, baseSeed, basic, postForm } from '../support/fixtures.js';
import { CookieJar, authorize, exchangeCode, expectLoginRefused, isActive, refresh } from '../support/code-flow.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * Nothing a client or a person presents as a credential may be readable in storage or in the logs:
 * the database and Redis keep digests of bearer values, argon2 hashes of passwords, and logs never
 * carry request bodies, query strings, cookies or Authorization headers. A dump of storage plus the
 * logs must yield nothing that can be presented (RFC 6819 §5.1.4.1.3, §5.1.6; RFC 9700 §4.14).
 *
 * The test handles every kind of secret once (a failed and a successful login, two code flows, a
 * refresh, userinfo, introspection, revocation, client credentials with both client auth methods),
 * snapshots storage while interactions are open and at the end, and searches everything for them.
 */

interface Secret {
  label: string;
  value: string;
}

/** The forms a value travels in: as is, in a URL or a form body, and inside a Basic header. */
function spellings(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)])];
}

async function dumpDatabase(server: TestServer): Promise<string> {
  const db = server.runtime.db;
  const { rows: tables } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  expect(tables.map((t) => t.table_name)).to.include.members(['oidc_artifacts', 'users', 'client_secrets']);
  const out: string[] = [];
  for (const { table_name } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table_name.replace(/"/g, '""')}" t`);
    for (const { row } of rows) out.push(`${table_name}: ${row}`);
  }
  return out.join('\n');
}

/** Every key and value in Redis: SCAN (never KEYS, the server is shared), then read by type. */
async function dumpRedis(redis: Redis): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
      else value = `(${type})`;
      out.push(`${key} = ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return out.join('\n');
}

const variants: { name: string; redisUrl: string | null }[] = [
  { name: process.env.DATABASE_URL ? 'Postgres only' : 'embedded PGlite', redisUrl: null },
  ...(process.env.REDIS_URL ? [{ name: 'with Redis', redisUrl: process.env.REDIS_URL }] : []),
];

for (const variant of variants) {
  describe(`secrets at rest and in logs (${variant.name})`, function () {
    this.timeout(60_000);
    let server: TestServer;
    let redis: Redis | undefined;
    const logs: string[] = [];

    before(async () => {
      // Everything the server logs, at every level, goes to `logs` instead of stdout.
      server = await startServer({ seed: baseSeed(), redisUrl: variant.redisUrl, env: { LOG_LEVEL: 'trace' } });
      const stream = (server.runtime.logger as unknown as Record<symbol, { write(s: string): unknown }>)[pino.symbols.streamSym];
      stream.write = (line: string) => {
        logs.push(line);
        return true;
      };
      if (variant.redisUrl) redis = new Redis(variant.redisUrl, { maxRetriesPerRequest: 1 });
    });
    after(async () => {
      await redis?.quit();
      await server?.destroy();
    });

    it('no credential it handled appears in the database, in Redis, or in the log', async () => {
      const snapshots: { where: string; text: string }[] = [];
      const snapshot = async (when: string) => {
        snapshots.push({ where: `database ${when}`, text: await dumpDatabase(server) });
        if (redis) snapshots.push({ where: `redis ${when}`, text: await dumpRedis(redis) });
      };

      // Anything else that prints while the flows run (libraries, console) is searched too.
      const printed: string[] = [];
      const realStdout = process.stdout.write;
      const realStderr = process.stderr.write;
      const capture = (chunk: unknown) => {
        printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
        return true;
      };
      process.stdout.write = capture as typeof process.stdout.write;
      process.stderr.write = capture as typeof process.stderr.write;

      const secrets: Secret[] = [
        { label: 'user password', value: USER.password },
        { label: 'web client secret', value: WEB.secret },
        { label: 'service client secret', value: SERVICE.secret },
        { label: 'web Basic credentials', value: basic(WEB.id, WEB.secret).slice('Basic '.length) },
        { label: 'service Basic credentials', value: basic(SERVICE.id, SERVICE.secret).slice('Basic '.length) },
      ];
      const add = (label: string, value: unknown) => {
        expect(value, label).to.be.a('string').with.length.above(7);
        secrets.push({ label, value: value as string });
      };
      const webAuth = { authorization: basic(WEB.id, WEB.secret) };

      let finalRefreshToken: string;
      try {
        // A failed sign-in: the wrong password is a secret too (often a typo of the real one).
        const wrongPassword = `${USER.password} but wrong`;
        add('wrong password', wrongPassword);
        const jar = new CookieJar();
        await expectLoginRefused(authorize(server, { client: WEB, scope: 'openid', user: { ...USER, password: wrongPassword }, jar }));

        // Flow 1: API scopes, a JWT access token, a refresh token; storage is dumped on each page.
        const flow1 = await authorize(server, {
          client: WEB,
          scope: 'openid profile email offline_access orders:read',
          jar,
          onPage: (page, uid) => snapshot(`on the ${page} page of ${uid}`),
        });
        add('code 1', flow1.code);
        add('PKCE verifier 1', flow1.verifier);
        const tokens1 = await exchangeCode(server, WEB, flow1);
        expect(tokens1.status, tokens1.text).to.equal(200);
        add('access token 1 (JWT)', tokens1.json.access_token);
        add('refresh token 1', tokens1.json.refresh_token);
        add('id token 1', tokens1.json.id_token);
        const refreshed = await refresh(server, WEB, tokens1.json.refresh_token as string);
        expect(refreshed.status, refreshed.text).to.equal(200);
        add('access token 2 (JWT, refreshed)', refreshed.json.access_token);
        add('refresh token 2 (rotated)', refreshed.json.refresh_token);
        finalRefreshToken = refreshed.json.refresh_token as string;

        // Flow 2, same browser (the session signs the user in): an opaque access token for userinfo.
        const flow2 = await authorize(server, {
          client: WEB,
          scope: 'openid email offline_access',
          jar,
          onPage: (page, uid) => snapshot(`on the ${page} page of ${uid}`),
        });
        add('code 2', flow2.code);
        add('PKCE verifier 2', flow2.verifier);
        const tokens2 = await exchangeCode(server, WEB, flow2);
        expect(tokens2.status, tokens2.text).to.equal(200);
        add('access token 3 (opaque)', tokens2.json.access_token);
        add('refresh token 3', tokens2.json.refresh_token);
        add('id token 2', tokens2.json.id_token);
        const userinfo = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens2.json.access_token}` } });
        expect(userinfo.status).to.equal(200);
        expect(await isActive(server, WEB, tokens2.json.access_token as string)).to.equal(true);
        const revoked = await postForm(`${server.url}/oauth/revoke`, { token: tokens2.json.refresh_token as string }, webAuth);
        expect(revoked.status).to.equal(200);

        for (const c of jar.seen) add(`cookie ${c.name}`, c.value);
        for (const value of [...flow1.csrf, ...flow2.csrf]) add('csrf token', value);

        // Client credentials, with the secret in the Authorization header and in the body.
        const cc1 = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
        expect(cc1.status, cc1.text).to.equal(200);
        add('client credentials access token', cc1.json.access_token);
        const cc2 = await postForm(`${server.url}/oauth/token`, {
          grant_type: 'client_credentials',
          resource: ORDERS_API,
          client_id: WEB.id,
          client_secret: WEB.secret,
        });
        // The web client may not use client credentials; its secret was still sent in the body.
        expect(cc2.status).to.be.within(400, 401);

        await snapshot('at the end');
      } finally {
        process.stdout.write = realStdout;
        process.stderr.write = realStderr;
      }

      // The search below would pass on empty dumps; make sure they hold what the flows stored.
      const all = snapshots.map((s) => s.text).join('\n');
      expect(all).to.include(digest(finalRefreshToken), 'refresh tokens are stored under their digest');
      expect(all).to.include(digest(WEB.secret), 'client secrets are stored as digests');
      expect(logs.join('')).to.include('"path":"/oauth/token"');

      const places = [
        ...snapshots,
        { where: 'log', text: logs.join('') },
        { where: 'stdout/stderr', text: printed.join('') },
      ];
      const found: string[] = [];
      for (const secret of secrets) {
        for (const spelling of spellings(secret.value)) {
          for (const place of places) {
            const at = place.text.indexOf(spelling);
            if (at < 0) continue;
            const end = place.text.indexOf('\n', at);
            const line = place.text.slice(place.text.lastIndexOf('\n', at) + 1, end < 0 ? undefined : end);
            found.push(`${secret.label} in ${place.where}: ${line.slice(0, 400)}`);
          }
        }
      }
      expect(found.length, `secrets found:\n${[...new Set(found)].join('\n')}\n`).to.equal(0);
    });
  });
}

/** Every file under a folder, as bytes: what a copy of an embedded DATA_DIR gives whoever takes it. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => ({ path: join(e.parentPath, e.name), bytes: readFileSync(join(e.parentPath, e.name)) }));
}

/**
 * The private signing keys are sealed (AES-GCM under KEY_ENCRYPTION_SECRET) before they are stored:
 * whoever holds a dump of the database, or a copy of the embedded data folder, holds no key that can
 * sign a token (ASVS 6.4.1). Searched for: each private JWK member as stored in JSON (base64url), its
 * raw bytes (as DER or a binary column would hold them), and standard base64 (as PEM would).
 */
describe(`sealed signing keys in a database dump (${process.env.DATABASE_URL ? 'pg_dump' : 'the PGlite folder'})`, function () {
  this.timeout(60_000);
  let server: TestServer;
  after(async () => server?.destroy());

  it('no private key member is in the dump, and the dump does hold the keys', async () => {
    server = await startServer({ seed: baseSeed() });
    const privateJwks = server.runtime.keys.providerJwks().keys;
    expect(privateJwks.map((k) => k.kty).sort()).to.deep.equal(['EC', 'RSA']);
    const members = privateJwks.flatMap((jwk) =>
      ['d', 'p', 'q', 'dp', 'dq', 'qi'].flatMap((m) => (typeof (jwk as Record<string, unknown>)[m] === 'string' ? [{ label: `${jwk.kid} ${m}`, value: (jwk as Record<string, string>)[m] }] : [])),
    );
    expect(members.length).to.be.at.least(7); // RSA: d p q dp dq qi; EC: d
    const kids = privateJwks.map((k) => k.kid as string);
    const secret = server.runtime.config.keyEncryptionSecret;

    const dumps: { where: string; bytes: Buffer }[] = [{ where: 'every table, row by row', bytes: Buffer.from(await dumpDatabase(server)) }];
    if (server.databaseUrl) {
      const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', server.databaseUrl], { maxBuffer: 64 * 1024 * 1024 });
      dumps.push({ where: 'pg_dump', bytes: Buffer.from(stdout) });
      await server.stop();
    } else {
      // PGlite writes its pages to the folder as it goes; closing flushes the rest.
      await server.stop();
      for (const file of filesUnder(join(server.dataDir, 'pg'))) dumps.push({ where: file.path, bytes: file.bytes });
    }

    // Guards: the dumps hold the signing keys (sealed), so the search below searches something.
    const all = Buffer.concat(dumps.map((d) => d.bytes));
    for (const kid of kids) expect(all.includes(kid), `kid ${kid} in the dump`).to.equal(true);
    expect(all.includes('private_jwk_sealed')).to.equal(true);

    const found: string[] = [];
    for (const { label, value } of members) {
      const raw = Buffer.from(value, 'base64url');
      for (const needle of [Buffer.from(value), raw, Buffer.from(raw.toString('base64'))]) {
        for (const dump of dumps) if (dump.bytes.includes(needle)) found.push(`${label} in ${dump.where}`);
      }
    }
    for (const dump of dumps) if (dump.bytes.includes(secret)) found.push(`KEY_ENCRYPTION_SECRET in ${dump.where}`);
    expect(found, found.join('\n')).to.deep.equal([]);
  });
});
