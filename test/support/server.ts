import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../../server/app.js';
import { answerClientErrors } from '../../server/http/client-errors.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, type Runtime } from '../../server/runtime.js';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { migrate, readMigrations } from '../../server/db/migrate.js';
import { afterMigrations } from '../../server/services/two-factor-policy.js';
import { applySeed, seedSchema, type Seed } from '../../server/seed.js';
import { deleteKeysWithPrefix, withRedis } from './redis.js';

/**
 * Test servers run in-process on a random port against real backends: with DATABASE_URL/REDIS_URL
 * set (CI's first pass) a fresh Postgres database per server and the shared Redis; otherwise the
 * embedded default (PGlite in a temporary DATA_DIR, no Redis).
 *
 * In Redis each server writes under a key prefix of its own (REDIS_PREFIX), named after its database,
 * so that the nodes of one database share it (as a deployment's nodes do) and destroy() can delete
 * exactly what the test wrote, never the production prefix `gatehouse:` nor anyone else's keys.
 */
export const usingRealServices = Boolean(process.env.DATABASE_URL);

export interface TestServer {
  /** Where this node listens. Equal to issuer unless env.ISSUER named one (several nodes, one issuer). */
  url: string;
  issuer: string;
  runtime: Runtime;
  databaseUrl: string | undefined;
  dataDir: string;
  /** REDIS_PREFIX of this node (used only when it has a Redis). */
  redisPrefix: string;
  /**
   * Changes rows directly, as psql would behind the Management API's back, then waits until this
   * node's cache has applied the change (the notification travels on its own connection, so the
   * next request could otherwise be answered from before it), as the Management API does.
   */
  writeBehindTheApi(text: string, params?: unknown[]): Promise<{ rowCount: number }>;
  /** Stops the HTTP server and closes connections; the database is kept for restart(). */
  stop(): Promise<void>;
  /** Stops, then drops the database, data dir and Redis keys it created (not those of a database it was given). */
  destroy(): Promise<void>;
}

export async function createTestDatabase(): Promise<string | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `gatehouse_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The Redis key prefix of the servers of a database: the nodes of one test share it, as a deployment's do. */
export const redisPrefixOf = (databaseUrl: string | undefined, dataDir: string) =>
  `gatehouse-test:${databaseUrl ? new URL(databaseUrl).pathname.slice(1) : basename(dataDir)}:`;

/** Drops a test database, and the Redis keys its servers wrote (the last node of a test may only have been stopped). */
export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  if (process.env.REDIS_URL) await withRedis(process.env.REDIS_URL, (redis) => deleteKeysWithPrefix(redis, redisPrefixOf(url, '')));
}

export interface StartOptions {
  seed?: unknown;
  env?: Record<string, string | undefined>;
  /** Reuse the database (and data dir) of an earlier server: a restart, or a second node. */
  databaseUrl?: string;
  dataDir?: string;
  redisUrl?: string | null;
  /** The embedded default (PGlite, no Redis) even when the run has DATABASE_URL and REDIS_URL. */
  embedded?: boolean;
  /**
   * Issuer http://localhost:<port> instead of 127.0.0.1: WebAuthn needs a domain as its relying-party
   * id, never an IP address. The server's url is then the issuer.
   */
  localhost?: boolean;
  /**
   * Keep what a new installation starts with: two factors required for the admin role. Off by
   * default, so that tests about other things sign administrators in with a password alone.
   */
  adminTwoFactors?: boolean;
}

let migratedFolder: Promise<string> | undefined;

/**
 * An embedded data folder with every migration applied, made once per test process with the steps
 * the server takes on a first start (migrate, then afterMigrations) and nothing after them: no keys,
 * no built-in clients, no issuer. A new embedded test server starts from a copy of it, which the
 * server then finds as it would after any restart with nothing to migrate. Creating the database and
 * migrating it was about 3 of the 3.5 s an embedded start took, many times over in a run.
 */
function migratedDataDir(): Promise<string> {
  migratedFolder ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-migrated-'));
    const db = await createEmbeddedDatabase(dir, 'the tests’ migrated template');
    try {
      const applied = await migrate(db);
      await afterMigrations(db, applied, readMigrations()[0]?.version);
    } finally {
      await db.close();
    }
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return migratedFolder;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const databaseUrl = options.embedded ? undefined : (options.databaseUrl ?? (await createTestDatabase()));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  if (!databaseUrl && !options.dataDir) cpSync(await migratedDataDir(), dataDir, { recursive: true });
  const redisUrl = options.redisUrl === null || options.embedded ? undefined : (options.redisUrl ?? process.env.REDIS_URL);
  const redisPrefix = options.env?.REDIS_PREFIX ?? redisPrefixOf(databaseUrl, dataDir);
  const env: Record<string, string | undefined> = {
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Test receivers (webhooks, Shared Signals push, jwks_uri, back-channel logout) listen on
    // 127.0.0.1; the guard itself is tested with this set to false (test/management/webhooks.test.ts).
    OUTBOUND_PRIVATE_ADDRESSES: 'true',
    COOKIE_SECRETS: 'test-cookie-secret-0123456789abcdef0123456789',
    KEY_ENCRYPTION_SECRET: 'test-key-encryption-secret-0123456789abcdef',
    ...options.env,
  };
  /** What this call created, and only that: a database, data dir or key prefix handed in belongs to the caller. */
  const removeWhatWeCreated = async () => {
    if (databaseUrl && !options.databaseUrl) await dropTestDatabase(databaseUrl);
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    // Keys are deleted through the test run's own REDIS_URL: the server's may point at a proxy that is
    // down. (dropTestDatabase has deleted those under the database's prefix already; REDIS_PREFIX may differ.)
    const direct = process.env.REDIS_URL ?? redisUrl;
    if (direct && !options.databaseUrl) await withRedis(direct, (redis) => deleteKeysWithPrefix(redis, redisPrefix));
  };

  // Bind first to learn the port, since the issuer must name it.
  const probe = await listenOnFreePort();
  let runtime: Runtime | undefined;
  let issuer: string;
  try {
    issuer = env.ISSUER ?? `http://${options.localhost ? 'localhost' : '127.0.0.1'}:${probe.port}`;
    const config = loadConfig({ ...env, ISSUER: issuer });
    runtime = await createRuntime(config, createLogger(config.logLevel));
    if (!options.adminTwoFactors && !options.databaseUrl && !options.dataDir) {
      await runtime.db.query("UPDATE roles SET require_two_factors = false WHERE name = 'admin'");
    }
    if (options.seed) await applySeed(runtime.db, seedSchema.parse(options.seed) as Seed);
  } catch (err) {
    // A start that fails (a bad seed in a test, a backend that is down) leaves no port, runtime,
    // database or keys behind: the next test starts clean and the run can exit.
    probe.server.close();
    await runtime?.close().catch(() => undefined);
    await removeWhatWeCreated().catch(() => undefined);
    throw err;
  }
  const started = runtime;
  const app = buildApp(started);
  probe.server.on('request', app.callback());
  answerClientErrors(probe.server);
  const url = options.localhost ? issuer : `http://127.0.0.1:${probe.port}`;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => {
      probe.server.close(() => resolve());
      probe.server.closeAllConnections();
    });
    await started.close();
  };
  return {
    url,
    issuer,
    runtime: started,
    databaseUrl,
    dataDir,
    redisPrefix,
    stop,
    async writeBehindTheApi(text, params) {
      const { rowCount } = await started.db.query(text, params);
      await started.cache.sync();
      return { rowCount };
    },
    async destroy() {
      await stop();
      await removeWhatWeCreated();
    },
  };
}

/** A port nothing listens on now (for a server in another process, which must be told its port). */
export async function freePort(): Promise<number> {
  const { server, port } = await listenOnFreePort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listenOnFreePort(): Promise<{ server: Server; port: number }> {
  const { createServer } = await import('node:http');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
