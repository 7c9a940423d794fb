import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCredential } from '../../server/crypto/credentials.js';
import { digest } from '../../server/crypto/tokens.js';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { createPostgresDatabase } from '../../server/db/postgres.js';
import type { Database } from '../../server/db/database.js';
import { CLI, type ProcessResult, requireBuild, runProcess } from '../support/process.js';
import { ORDERS_API, baseSeed, basic, jwksOf, postForm } from '../support/fixtures.js';
import { managementApi } from '../support/management.js';
import { createTestDatabase, dropTestDatabase, startServer, usingRealServices, type TestServer } from '../support/server.js';

/**
 * The `gatehouse` command, run as operators run it: the built bin (dist/, what package.json "bin"
 * points at) in child processes, on the configured database: a temporary DATA_DIR in embedded mode,
 * a fresh Postgres database with DATABASE_URL.
 */
const BIN = CLI;

type Run = ProcessResult;

const SECRETS = {
  COOKIE_SECRETS: 'cli-test-cookie-secret-0123456789abcdef0123',
  KEY_ENCRYPTION_SECRET: 'cli-test-key-encryption-secret-0123456789ab',
};

describe('gatehouse CLI', function () {
  this.timeout(120_000);
  let dataDir: string;
  let databaseUrl: string | undefined;
  let env: Record<string, string>;

  before(async () => {
    requireBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    databaseUrl = await createTestDatabase();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'REDIS_URL', 'SEED_FILE', 'ISSUER'].includes(k))) as Record<string, string>;
    env = { ...base, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...SECRETS, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  });
  after(async () => {
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  function run(args: string[], options: { input?: string; env?: Record<string, string | undefined>; command?: string; prefix?: string[] } = {}): Promise<Run> {
    return runProcess(options.command ?? BIN, [...(options.prefix ?? []), ...args], { env: { ...env, ...options.env }, input: options.input });
  }

  /** Opens the database the CLI works on (after the CLI has exited: PGlite belongs to one process). */
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = databaseUrl ? createPostgresDatabase(databaseUrl, { max: 1 }) : await createEmbeddedDatabase(dataDir);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  async function withServer<T>(fn: (server: TestServer) => Promise<T>): Promise<T> {
    const server = await startServer({ databaseUrl, dataDir, env: { ...SECRETS, REDIS_URL: undefined } });
    try {
      return await fn(server);
    } finally {
      await server.stop();
    }
  }

  describe('usage', () => {
    it('prints help listing every command, and exits 0', async () => {
      const res = await run(['--help']);
      expect(res.code).to.equal(0);
      for (const c of ['migrate', 'seed FILE', 'clients create', 'clients list', 'clients revoke CLIENT_ID', 'users create', 'api-keys create', 'keys rotate']) {
        expect(res.stdout).to.include(c);
      }
      const sub = await run(['clients', 'create', '--help']);
      expect(sub.code).to.equal(0);
      expect(sub.stdout).to.include('--scope SCOPE').and.include('--json');
    });

    it('runs on Node.js 22 or newer whatever node is first on PATH', async () => {
      const res = await run(['--version', '--json']);
      expect(res.code, res.stderr).to.equal(0);
      expect(Number(res.json.node.slice(1).split('.')[0])).to.be.at.least(22);
    });

    it('re-runs itself with the bundled Node.js when started by an older one', async function () {
      const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
        if (!existsSync(p)) return false;
        return Number(execFileSync(p, ['-p', 'process.versions.node']).toString().split('.')[0]) < 22;
      });
      if (!old) this.skip(); // no older node on this machine to start it with
      const res = await run(['--version', '--json'], { command: old, prefix: [BIN] });
      expect(res.code, res.stderr).to.equal(0);
      expect(Number(res.json.node.slice(1).split('.')[0])).to.be.at.least(22);
      // ...and passes the exit status through.
      expect((await run(['no-such-command'], { command: old, prefix: [BIN] })).code).to.equal(2);
    });

    it('works through npx, as package.json "bin"', async () => {
      const res = await run(['--offline', '--yes', 'gatehouse', '--version', '--json'], { command: 'npx' });
      expect(res.code, res.stderr).to.equal(0);
      expect(res.json.version).to.match(/^\d+\.\d+\.\d+/);
    });

    for (const [args, message] of [
      [[], 'Usage: gatehouse'],
      [['frobnicate'], "unknown command 'frobnicate'"],
      [['clients', 'frobnicate'], 'clients create, clients list, clients revoke'],
      [['clients', 'create', '--scopes', 'orders:read'], 'unknown option --scopes'],
      [['clients', 'create', '--name'], '--name needs a value'],
      [['clients', 'revoke'], 'expected CLIENT_ID'],
      [['users', 'create', '--email', 'a@example.test'], '--name is required'],
      [['keys', 'rotate', '--activate-in', 'soon'], '--activate-in is a whole number'],
    ] as const) {
      it(`exits 2 for \`gatehouse ${args.join(' ')}\``, async () => {
        const res = await run([...args]);
        expect(res.code).to.equal(2);
        expect(res.stdout + res.stderr).to.include(message);
      });
    }

    it('refuses an invalid configuration with exit 1, naming the variable', async () => {
      const res = await run(['clients', 'list'], { env: { KEY_ENCRYPTION_SECRET: 'short' } });
      expect(res.code).to.equal(1);
      expect(res.stderr).to.include('KEY_ENCRYPTION_SECRET');
    });
  });

  describe('on the configured database', () => {
    const seedFile = () => {
      const file = join(dataDir, 'seed.json');
      writeFileSync(file, JSON.stringify({ ...baseSeed(), roles: [{ name: 'orders-ops', permissions: ['orders:read', 'apis:read'] }] }));
      return file;
    };
    let client: { client_id: string; client_secret: string };
    let apiKey: string;

    it('asks for migrate before anything else on a new database', async () => {
      const res = await run(['clients', 'list']);
      expect(res.code).to.equal(1);
      expect(res.stderr).to.include("run 'gatehouse migrate' first");
    });

    it('migrate applies every migration once', async () => {
      const first = await run(['migrate', '--json']);
      expect(first.code, first.stderr + first.stdout).to.equal(0);
      expect(first.json.applied).to.include.members(['001_initial', '002_management']);
      expect(first.json.applied).to.have.length(first.json.known);
      const again = await run(['migrate']);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.include('up to date');
    });

    it('seed FILE applies a seed and is safe to repeat', async () => {
      const file = seedFile();
      const first = await run(['seed', file, '--json']);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.json).to.include({ apis: 2, roles: 1, users: 1, clients: 3 });
      const count = () => withDb(async (db) => (await db.query<{ n: number }>('SELECT (SELECT count(*) FROM clients) + (SELECT count(*) FROM users) + (SELECT count(*) FROM roles) AS n')).rows[0].n);
      const before = await count();
      expect((await run(['seed', file])).code).to.equal(0);
      expect(await count()).to.equal(before);

      const bad = join(dataDir, 'bad-seed.json');
      writeFileSync(bad, JSON.stringify({ roles: [{ name: 'admin', permissions: [] }] }));
      const refused = await run(['seed', bad]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('roles.0.name: is a built-in role');
      const missing = await run(['seed', join(dataDir, 'nope.json')]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include('nope.json');
    });

    it('users create reads the password from stdin, grants roles, and refuses a duplicate', async () => {
      const res = await run(['users', 'create', '--email', 'ops@example.test', '--name', 'Ops', '--role', 'admin', '--password-stdin', '--json'], {
        input: 'a long enough operator password\n',
      });
      expect(res.code, res.stderr).to.equal(0);
      expect(res.json).to.include({ email: 'ops@example.test', active: true });
      expect(res.json.roles).to.deep.equal(['admin']);
      expect(res.json).not.to.have.property('password');

      const generated = await run(['users', 'create', '--email', 'dev@example.test', '--name', 'Dev', '--role', 'orders-ops']);
      expect(generated.code, generated.stderr).to.equal(0);
      expect(generated.stdout).to.match(/password\s+\S{20,}/).and.include('shown only this once');

      const dup = await run(['users', 'create', '--email', 'OPS@example.test', '--name', 'Again', '--password-stdin', '--json'], { input: 'another long password' });
      expect(dup.code).to.equal(1);
      expect(JSON.parse(dup.stderr)).to.include({ error: 'failed' });
      expect(JSON.parse(dup.stderr).error_description).to.include('already exists');
      // NIST SP 800-63B §5.1.1.2: the same password rules as the Management API, saying which failed.
      const short = await run(['users', 'create', '--email', 'short@example.test', '--name', 'Short', '--password-stdin', '--json'], { input: 'elevenchars' });
      expect(short.code).to.equal(1);
      expect(JSON.parse(short.stderr).error_description).to.equal('password: passwords need at least 12 characters');
      const common = await run(['users', 'create', '--email', 'common@example.test', '--name', 'Common', '--password-stdin', '--json'], { input: 'qwerty123456' });
      expect(JSON.parse(common.stderr).error_description).to.match(/list of common or breached passwords/);
      const longer = await run(['users', 'create', '--email', 'longer@example.test', '--name', 'Longer', '--password-stdin', '--json'], { input: 'fourteen chars', env: { PASSWORD_MIN_LENGTH: '16' } });
      expect(JSON.parse(longer.stderr).error_description).to.equal('password: passwords need at least 16 characters');
      const unknownRole = await run(['users', 'create', '--email', 'x@example.test', '--name', 'X', '--role', 'wizard']);
      expect(unknownRole.code).to.equal(1);
      expect(unknownRole.stderr).to.include('unknown role wizard');
    });

    it('clients create registers a private_key_jwt client from a JWK Set file, and refuses a private key in it', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-jwks-'));
      try {
        const file = join(dir, 'jwks.json');
        writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
        const res = await run(['clients', 'create', '--name', 'Keyed', '--scope', 'orders:read', '--auth-method', 'private_key_jwt', '--jwks-file', file, '--json']);
        expect(res.code, res.stderr).to.equal(0);
        expect(res.json).to.not.have.property('client_secret');
        expect(res.json).to.include({ token_endpoint_auth_method: 'private_key_jwt' });
        expect(res.json.keys).to.deep.equal([{ kid: 'k1', kty: 'EC', alg: 'ES256' }]);
        writeFileSync(file, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
        const leaked = await run(['clients', 'create', '--name', 'Leaky', '--auth-method', 'private_key_jwt', '--jwks-file', file]);
        expect(leaked.code).to.equal(1);
        expect(leaked.stderr).to.include('private or symmetric key');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('clients create prints a checksummed secret once and stores only its digest', async () => {
      const res = await run(['clients', 'create', '--name', 'Nightly export', '--scope', 'orders:read', '--json']);
      expect(res.code, res.stderr).to.equal(0);
      client = res.json;
      expect(client.client_secret).to.match(/^sk_live_/);
      expect(parseCredential(client.client_secret)).to.include({ kind: 'sk', environment: 'live' });
      expect(res.json).to.include({ scope: 'orders:read', token_endpoint_auth_method: 'client_secret_basic' });
      await withDb(async (db) => {
        const { rows } = await db.query<{ secret_hash: string }>('SELECT secret_hash FROM client_secrets WHERE client_id = $1', [client.client_id]);
        expect(rows.map((r) => r.secret_hash)).to.deep.equal([digest(client.client_secret)]);
        const dump = JSON.stringify((await db.query('SELECT * FROM clients c JOIN client_secrets s USING (client_id)')).rows);
        expect(dump).not.to.include(client.client_secret);
        const audit = JSON.stringify((await db.query('SELECT * FROM audit_events')).rows);
        expect(audit).not.to.include(client.client_secret);
      });

      const test = await run(['clients', 'create', '--environment', 'test', '--public', '--grant-type', 'authorization_code', '--redirect-uri', 'http://127.0.0.1:9/cb', '--scope', 'openid orders:read', '--json']);
      expect(test.code, test.stderr).to.equal(0);
      expect(test.json).not.to.have.property('client_secret');
      expect(test.json).to.include({ environment: 'test', token_endpoint_auth_method: 'none', require_pkce: true });


      for (const [args, message] of [
        [['--scope', 'nothing:here'], 'nothing:here is not a scope of any registered API'],
        [['--scope', 'openid'], 'identity scopes'],
        [['--public'], 'a public client (token_endpoint_auth_method "none") can only use authorization_code, refresh_token and device_code'],
        [['--ip-allowlist', '10.0.0.0/33'], 'prefix length'],
        [['--client-id', 'svc-orders'], 'already exists'],
        [['--expires-in', 'forever'], '--expires-in'],
      ] as const) {
        const refused = await run(['clients', 'create', ...args]);
        expect(refused.code, `${args.join(' ')}: ${refused.stderr}`).to.be.oneOf([1, 2]);
        expect(refused.stderr).to.include(message);
      }
    });

    it('clients create --require-pkce --require-par --dpop makes a client that must use PKCE, PAR and DPoP (issue 12)', async () => {
      const strict = await run(['clients', 'create', '--grant-type', 'authorization_code', '--redirect-uri', 'http://127.0.0.1:9/strict', '--scope', 'openid', '--require-pkce', '--require-par', '--dpop', '--json']);
      expect(strict.code, strict.stderr).to.equal(0);
      expect(strict.json).to.include({ require_pkce: true, require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
      expect(client).to.include({ require_pkce: false, require_pushed_authorization_requests: false, dpop_bound_access_tokens: false });
    });

    it('clients list shows clients without any secret', async () => {
      const res = await run(['clients', 'list', '--json']);
      expect(res.code).to.equal(0);
      const mine = (res.json as { client_id: string; secrets: number; client_name: string }[]).find((c) => c.client_id === client.client_id);
      expect(mine).to.include({ client_name: 'Nightly export', secrets: 1 });
      expect(res.stdout).not.to.include(client.client_secret);
      const text = await run(['clients', 'list']);
      expect(text.stdout).to.match(/^CLIENT_ID\s+CLIENT_NAME/);
      expect(text.stdout).to.include(client.client_id);
    });

    it('api-keys create prints a checksummed key once for a user', async () => {
      const res = await run(['api-keys', 'create', '--user', 'ops@example.test', '--name', 'deploy bot', '--scope', 'apis:read,audit:read', '--expires-in', '30d', '--json']);
      expect(res.code, res.stderr).to.equal(0);
      apiKey = res.json.key;
      expect(parseCredential(apiKey)).to.include({ kind: 'ak', environment: 'live' });
      expect(res.json.scopes).to.deep.equal(['apis:read', 'audit:read']);
      expect(Date.parse(res.json.expires_at) - Date.now()).to.be.within(29 * 86400_000, 30 * 86400_000 + 60_000);
      await withDb(async (db) => {
        const dump = JSON.stringify((await db.query('SELECT * FROM api_keys')).rows);
        expect(dump).not.to.include(apiKey);
      });
      const nobody = await run(['api-keys', 'create', '--user', 'nobody@example.test', '--name', 'x', '--scope', 'apis:read']);
      expect(nobody.code).to.equal(1);
      expect(nobody.stderr).to.include('no user nobody@example.test');
    });

    it('keys rotate adds pending keys that a starting server publishes', async () => {
      // The server creates the first keys; rotate after that.
      const initial = await withServer(async (server) => jwksOf(server));
      const res = await run(['keys', 'rotate', '--json']);
      expect(res.code, res.stderr).to.equal(0);
      const created = res.json.keys as { kid: string; status: string; activates_at: string }[];
      expect(created).to.have.length(2);
      for (const k of created) expect(k.status).to.equal('pending');
      // KEY_ACTIVATION_DELAY, 10 minutes by default.
      expect(Date.parse(created[0].activates_at) - Date.now()).to.be.within(540_000, 601_000);
      expect(res.json.retiring).to.include.members(initial.keys.map((k) => k.kid));
      const listed = await run(['keys', 'list', '--json']);
      expect(listed.json.filter((k: { status: string }) => k.status === 'pending')).to.have.length(2);
      expect(listed.stdout).not.to.match(/"(d|p|q|dp|dq|qi)"/);
    });

    it('what the CLI created works against a running server, and revoke stops it', async () => {
      // Listed before the server starts: on the embedded database the CLI cannot run beside it.
      const pending = (await run(['keys', 'list', '--json'], {})).json;
      await withServer(async (server) => {
        const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read', resource: ORDERS_API }, { authorization: basic(client.client_id, client.client_secret) });
        expect(token.status, token.text).to.equal(200);
        const kids = (await jwksOf(server)).keys.map((k) => k.kid);
        expect(kids).to.include.members(pending.filter((k: { status: string }) => k.status === 'pending').map((k: { kid: string }) => k.kid));

        const api = managementApi(server, apiKey);
        const keys = await api.get('/keys');
        expect(keys.status, JSON.stringify(keys.body)).to.equal(200);
        const events = await api.get('/audit-events?type=client.created');
        expect(events.status).to.equal(200);
        const created = events.body.data.find((e: { target: { id: string } }) => e.target.id === client.client_id);
        expect(created.actor).to.deep.equal({ type: 'system', id: 'cli', ip: null });
      });

      const revoked = await run(['clients', 'revoke', client.client_id, '--json']);
      expect(revoked.code, revoked.stderr).to.equal(0);
      expect(revoked.json.client_id).to.equal(client.client_id);
      const again = await run(['clients', 'revoke', client.client_id, '--json']);
      expect(again.code).to.equal(1);
      expect(JSON.parse(again.stderr).error_description).to.include(`client ${client.client_id} not found`);

      await withServer(async (server) => {
        const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read', resource: ORDERS_API }, { authorization: basic(client.client_id, client.client_secret) });
        expect(token.status).to.equal(401);
        expect(token.json.error).to.equal('invalid_client');
        const events = await managementApi(server, apiKey).get(`/audit-events?type=client.revoked`);
        expect(events.body.data[0]).to.deep.include({ target: { type: 'client', id: client.client_id } });
      });
    });
  });

  it(`runs against ${usingRealServices ? 'Postgres (DATABASE_URL)' : 'the embedded database (DATA_DIR)'}`, async () => {
    await withDb(async (db) => expect(db.kind).to.equal(usingRealServices ? 'postgres' : 'embedded'));
  });
});
