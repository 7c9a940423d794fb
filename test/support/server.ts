import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../../server/app.js';
import { answerClientErrors } from '../../server/http/client-errors.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime, type Runtime } from '../../server/runtime.js';
import { applySeed, seedSchema, type Seed } from '../../server/seed.js';

/**
 * Test servers run in-process on a random port against real backends: with DATABASE_URL/REDIS_URL
 * set (CI's first pass) a fresh Postgres database per server and the shared Redis; otherwise the
 * embedded default (PGlite in a temporary DATA_DIR, no Redis).
 */
export const usingRealServices = Boolean(process.env.DATABASE_URL);

export interface TestServer {
  /** Where this node listens. Equal to issuer unless env.ISSUER named one (several nodes, one issuer). */
  url: string;
  issuer: string;
  runtime: Runtime;
  databaseUrl: string | undefined;
  dataDir: string;
  /** Stops the HTTP server and closes connections; the database is kept for restart(). */
  stop(): Promise<void>;
  /** Stops, then drops the database and data dir. */
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

export async function dropTestDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

export interface StartOptions {
  seed?: unknown;
  env?: Record<string, string | undefined>;
  /** Reuse the database (and data dir) of an earlier server: a restart, or a second node. */
  databaseUrl?: string;
  dataDir?: string;
  redisUrl?: string | null;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const env: Record<string, string | undefined> = {
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl === null ? undefined : (options.redisUrl ?? process.env.REDIS_URL),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    COOKIE_SECRETS: 'test-cookie-secret-0123456789abcdef0123456789',
    KEY_ENCRYPTION_SECRET: 'test-key-encryption-secret-0123456789abcdef',
    ...options.env,
  };
  // Bind first to learn the port, since the issuer must name it.
  const probe = await listenOnFreePort();
  const issuer = env.ISSUER ?? `http://127.0.0.1:${probe.port}`;
  const config = loadConfig({ ...env, ISSUER: issuer });
  const runtime = await createRuntime(config, createLogger(config.logLevel));
  if (options.seed) await applySeed(runtime.db, seedSchema.parse(options.seed) as Seed);
  const app = buildApp(runtime);
  probe.server.on('request', app.callback());
  answerClientErrors(probe.server);
  const url = `http://127.0.0.1:${probe.port}`;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => {
      probe.server.close(() => resolve());
      probe.server.closeAllConnections();
    });
    await runtime.close();
  };
  return {
    url,
    issuer,
    runtime,
    databaseUrl,
    dataDir,
    stop,
    async destroy() {
      await stop();
      if (databaseUrl && !options.databaseUrl) await dropTestDatabase(databaseUrl);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
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
