import { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createEmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createPostgresDatabase } from './db/postgres.js';
import { createSealer } from './crypto/seal.js';
import type { Logger } from './logger.js';
import { PostgresArtifactStore } from '../adapters/postgres.js';
import { RedisArtifactStore } from '../adapters/redis.js';
import type { ArtifactRouting } from './oidc/adapter.js';
import { createProvider } from './oidc/provider.js';
import { applySeed, readSeedFile } from './seed.js';
import { KeyRing } from './oidc/keyring.js';
import { KeyMaintenance } from './oidc/key-rotation.js';
import { ensureManagementApi } from './services/management-api.js';
import { ensureConsoleClient } from './services/console-client.js';
import { createProtection, type Protection } from './services/protection/index.js';
import { applyProtectionSettings } from './services/protection/settings.js';

/** Everything a node holds: connections, stores, and the oidc-provider instance built on them. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  redis: Redis | undefined;
  routing: ArtifactRouting;
  keys: KeyRing;
  /** Signing-key reloads and rotation; holds the provider instance. */
  keyMaintenance: KeyMaintenance;
  /** Limits on guessing and audit folding (server/services/protection). */
  protection: Protection;
  /**
   * The oidc-provider instance serving requests now. A getter: it is replaced when the signing keys
   * change (server/oidc/key-rotation.ts), so read it per request and never keep it.
   */
  readonly provider: Provider;
  close(): Promise<void>;
}

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    // Fail commands at once while disconnected (the request gets a 503) instead of queueing them
    // behind a reconnect that may take long; reconnect forever in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    // A Redis that stops answering on an open connection (a partition, a stuck server) is otherwise
    // only noticed by TCP keepalive, minutes later; fail each command after 2 s instead (a 503).
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 250, 2000),
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger.warn({ err: err.message }, 'redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  return redis;
}

async function waitForRedis(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  applyProtectionSettings(config);
  const db = config.databaseUrl
    ? createPostgresDatabase(config.databaseUrl, { onError: (err) => logger.warn({ err: err.message }, 'postgres client error') })
    : await createEmbeddedDatabase(config.dataDir);
  const applied = await migrate(db);
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  if (redis) await waitForRedis(redis, 5000);

  const durable = new PostgresArtifactStore(db);
  const routing: ArtifactRouting = { durable, shortLived: redis ? new RedisArtifactStore(redis) : durable };

  if (config.seedFile) {
    const counts = await applySeed(db, readSeedFile(config.seedFile));
    logger.info({ seed: config.seedFile, ...counts }, 'seed applied');
  }

  await ensureManagementApi(db, config.issuer);
  await ensureConsoleClient(db, config.issuer);
  const protection = createProtection(db, redis, config.issuer, config.protection, logger);
  const sealer = createSealer(config.keyEncryptionSecret);
  const keys = new KeyRing(db, sealer);
  const keyMaintenance = new KeyMaintenance({
    db,
    sealer,
    keys,
    logger,
    activationDelay: config.keyActivationDelay,
    rotationDays: config.keyRotationDays,
    buildProvider: (jwks) => createProvider({ config, db, routing, jwks, keys, logger, protection }),
  });
  await keyMaintenance.reload();
  keyMaintenance.start();

  // Postgres has no TTL: sweep expired artifacts now and then (a no-op for what Redis holds).
  const sweep = setInterval(() => {
    durable.sweepExpired().catch((err) => logger.warn({ err: err.message }, 'expired-artifact sweep failed'));
  }, 10 * 60 * 1000);
  sweep.unref();

  return {
    config,
    logger,
    db,
    redis,
    routing,
    keys,
    keyMaintenance,
    protection,
    get provider() {
      return keyMaintenance.current;
    },
    async close() {
      clearInterval(sweep);
      await keyMaintenance.stop();
      await protection.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await db.close();
    },
  };
}
