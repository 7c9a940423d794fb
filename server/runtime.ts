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
import { BackchannelDelivery } from './oidc/backchannel.js';
import { applySeed, readSeedFile } from './seed.js';
import { KeyRing } from './services/keyring.js';
import { KeyMaintenance } from './oidc/key-rotation.js';
import { ensureManagementApi } from './services/management-api.js';
import { ensureConsoleClient } from './services/console-client.js';
import { StoreCache } from './store/cache.js';
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
  /** This node's copy of what the token path reads, kept true by change notifications. */
  cache: StoreCache;
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
    : await createEmbeddedDatabase(config.dataDir, `the Gatehouse server (${config.issuer})`);
  let redis: Redis | undefined;
  let keyMaintenance: KeyMaintenance | undefined;
  let startedCache: StoreCache | undefined;
  let startedProtection: Protection | undefined;
  let startedBackchannel: BackchannelDelivery | undefined;
  try {
    const applied = await migrate(db);
    if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

    redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
    if (redis) await waitForRedis(redis, 5000);

    const durable = new PostgresArtifactStore(db);
    const routing: ArtifactRouting = { durable, shortLived: redis ? new RedisArtifactStore(redis, config.redisPrefix) : durable };

    // The Management API first: a seed's roles and clients may name its permissions.
    await ensureManagementApi(db, config.issuer);
    await ensureConsoleClient(db, config.issuer);

    if (config.seedFile) {
      const counts = await applySeed(db, readSeedFile(config.seedFile));
      logger.info({ seed: config.seedFile, ...counts }, 'seed applied');
    }
    const protection = createProtection(db, redis, config.issuer, config.protection, logger, config.redisPrefix);
    startedProtection = protection;
    const sealer = createSealer(config.keyEncryptionSecret);
    const keys = new KeyRing(db, sealer);
    // Signing keys are cached by the KeyRing (the provider is built with them); a key change on any
    // node reloads them here at once rather than at the next minute's check.
    let keyReload: Promise<unknown> = Promise.resolve();
    const cache = new StoreCache(db, (table) => {
      if (table === 'backchannel_logouts') startedBackchannel?.kick();
      if (table !== 'signing_keys') return;
      keyReload = keyReload
        .then(() => maintenance.reload())
        .catch((err) => logger.warn({ err: err.message }, 'signing-key reload after a change failed; the timer retries'));
    });
    const maintenance = new KeyMaintenance({
      db,
      sealer,
      keys,
      logger,
      activationDelay: config.keyActivationDelay,
      rotationDays: config.keyRotationDays,
      buildProvider: (jwks) => createProvider({ config, db, routing, jwks, keys, logger, reads: cache, protection }),
    });
    keyMaintenance = maintenance;
    startedCache = cache;
    await cache.start();
    // The first load creates the keys on a new database, and its inserts notify this very node: the
    // reloads they ask for queue behind it, or two loads would each see no key and each create one
    // (PGlite's advisory locks do not serialize callers within one process).
    keyReload = keyReload.then(() => maintenance.reload());
    await keyReload;
    maintenance.start();
    const backchannel = new BackchannelDelivery({ db, logger, provider: () => maintenance.current });
    startedBackchannel = backchannel;
    backchannel.start();

    // Postgres has no TTL: sweep expired artifacts now and then (a no-op for what Redis holds).
    const sweep = setInterval(() => {
      durable.sweepExpired().catch((err) => logger.warn({ err: err.message }, 'expired-artifact sweep failed'));
    }, 10 * 60 * 1000);
    sweep.unref();

    const connectedRedis = redis;
    return {
      config,
      logger,
      db,
      redis,
      routing,
      keys,
      cache,
      protection,
      keyMaintenance: maintenance,
      get provider() {
        return maintenance.current;
      },
      async close() {
        clearInterval(sweep);
        await backchannel.stop();
        await maintenance.stop();
        await cache.stop();
        await protection.close();
        if (connectedRedis) await connectedRedis.quit().catch(() => connectedRedis.disconnect());
        await db.close();
      },
    };
  } catch (err) {
    // A start that fails half-way (a bad seed, a migration error) leaves nothing open behind it:
    // no timer, no connection, and no lock on an embedded data folder.
    await startedBackchannel?.stop().catch(() => undefined);
    await keyMaintenance?.stop().catch(() => undefined);
    await startedCache?.stop().catch(() => undefined);
    await startedProtection?.close().catch(() => undefined);
    redis?.disconnect();
    await db.close().catch(() => undefined);
    throw err;
  }
}
