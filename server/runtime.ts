import { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { createEmbeddedDatabase } from './db/embedded.js';
import { migrate, readMigrations } from './db/migrate.js';
import { afterMigrations } from './services/two-factor-policy.js';
import { createPostgresDatabase } from './db/postgres.js';
import { createSealer, type Sealer } from './crypto/seal.js';
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
import { ensureAccountClient } from './services/account-client.js';
import { type Mailer, smtpMailer } from './mail/mailer.js';
import { sweepAccountLinks } from './store/account-links.js';
import { sweepUserSessions } from './store/user-sessions.js';
import { StoreCache } from './store/cache.js';
import { createProtection, type Protection } from './services/protection/index.js';
import { applyProtectionSettings } from './services/protection/settings.js';
import { Metrics } from './telemetry/metrics.js';
import { WebhookDispatcher } from './services/webhook-dispatcher.js';
import { ensureSsfApi } from './services/ssf/api.js';
import { recordGrantRevoked } from './services/ssf/events.js';
import { Transmitter } from './services/ssf/transmitter.js';
import { ApiKeyUsage } from './services/api-key-usage.js';

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
  /** The Prometheus series of this node; undefined unless METRICS_PORT is set (server/telemetry/metrics.ts). */
  metrics: Metrics | undefined;
  /** API key requests counted in memory and written every few seconds (server/services/api-key-usage.ts). */
  apiKeyUsage: ApiKeyUsage;
  /** Seals secrets at rest under KEY_ENCRYPTION_SECRET (signing keys, webhook secrets, push receivers' credentials, TOTP secrets). */
  sealer: Sealer;
  /** Sends the outbox's webhook deliveries (server/services/webhook-dispatcher.ts). */
  webhooks: WebhookDispatcher;
  /** Shared Signals delivery: push streams and held polls (server/services/ssf). */
  transmitter: Transmitter;
  /** SMTP for reset and verification links; undefined without SMTP_URL. */
  mailer: Mailer | undefined;
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
  let startedWebhooks: WebhookDispatcher | undefined;
  let startedTransmitter: Transmitter | undefined;
  let startedUsage: ApiKeyUsage | undefined;
  try {
    const applied = await migrate(db);
    if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
    await afterMigrations(db, applied, readMigrations()[0]?.version);

    redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
    if (redis) await waitForRedis(redis, 5000);

    const durable = new PostgresArtifactStore(db);
    const routing: ArtifactRouting = {
      durable,
      shortLived: redis ? new RedisArtifactStore(redis, config.redisPrefix) : durable,
      // A refresh token spent twice at once (server/oidc/adapter.ts): resource servers hear of it.
      grantRevoked: (grantId) =>
        recordGrantRevoked(db, grantId, {}, 'refresh token reused').catch((err) =>
          logger.error({ err: err.message }, 'could not record a grant revocation for resource servers'),
        ),
    };

    // The Management API first: a seed's roles and clients may name its permissions.
    await ensureManagementApi(db, config.issuer);
    await ensureConsoleClient(db, config.issuer);
    await ensureSsfApi(db, config.issuer);
    await ensureAccountClient(db, config.issuer);

    if (config.seedFile) {
      const counts = await applySeed(db, readSeedFile(config.seedFile));
      logger.info({ seed: config.seedFile, ...counts }, 'seed applied');
    }
    const protection = createProtection(db, redis, config.issuer, config.protection, logger, config.redisPrefix);
    startedProtection = protection;
    const sealer = createSealer(config.keyEncryptionSecret);
    const apiKeyUsage = new ApiKeyUsage(db, logger);
    apiKeyUsage.start();
    startedUsage = apiKeyUsage;
    const keys = new KeyRing(db, sealer);
    // Signing keys are cached by the KeyRing (the provider is built with them); a key change on any
    // node reloads them here at once rather than at the next minute's check.
    let keyReload: Promise<unknown> = Promise.resolve();
    const webhooks = new WebhookDispatcher(db, sealer, config.webhooks, logger, config.outboundPrivateAddresses);
    const cache = new StoreCache(db, (table) => {
      // A new outbox row, or an endpoint enabled again (migration 013): deliveries may be due.
      if (table === 'outbox' || table === 'webhook_endpoints') return webhooks.wake();
      if (table === 'backchannel_logouts') return startedBackchannel?.kick();
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
      buildProvider: (jwks) => createProvider({ config, db, routing, jwks, keys, logger, reads: cache, protection, apiKeyUsage }),
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
    const metrics = config.metricsPort === undefined ? undefined : new Metrics();
    metrics?.watch({ db, redis, cache, protection, keys });
    startedWebhooks = webhooks;
    await webhooks.start();

    const transmitter = new Transmitter({ db, keys, sealer, issuer: config.issuer, logger, heartbeatSeconds: config.ssfHeartbeatSeconds, allowPrivateAddresses: config.outboundPrivateAddresses });
    startedTransmitter = transmitter;
    await transmitter.start();

    // Postgres has no TTL: sweep expired artifacts now and then (a no-op for what Redis holds).
    const sweep = setInterval(() => {
      Promise.all([durable.sweepExpired(), sweepAccountLinks(db), sweepUserSessions(db)]).catch((err) => logger.warn({ err: err.message }, 'expired-artifact sweep failed'));
    }, 10 * 60 * 1000);
    sweep.unref();

    const connectedRedis = redis;
    const mailer = config.mail ? smtpMailer(config.mail) : undefined;
    return {
      mailer,
      config,
      logger,
      db,
      redis,
      routing,
      keys,
      cache,
      protection,
      metrics,
      sealer,
      apiKeyUsage,
      webhooks,
      transmitter,
      keyMaintenance: maintenance,
      get provider() {
        return maintenance.current;
      },
      async close() {
        clearInterval(sweep);
        await backchannel.stop();
        await webhooks.stop();
        await transmitter.stop();
        // After the HTTP server has stopped taking requests, before the database closes: the last
        // few seconds of counts are written, not lost.
        await apiKeyUsage.close().catch((err) => logger.warn({ err: err.message }, 'could not write the last API key usage'));
        mailer?.close();
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
    await startedWebhooks?.stop().catch(() => undefined);
    await startedTransmitter?.stop().catch(() => undefined);
    if (startedUsage) await startedUsage.close().catch(() => undefined);
    await keyMaintenance?.stop().catch(() => undefined);
    await startedCache?.stop().catch(() => undefined);
    await startedProtection?.close().catch(() => undefined);
    redis?.disconnect();
    await db.close().catch(() => undefined);
    throw err;
  }
}
