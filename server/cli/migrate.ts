import { afterMigrations } from '../services/two-factor-policy.js';
import { ConfigError, loadConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { createEmbeddedDatabase } from '../db/embedded.js';
import { migrate, readMigrations } from '../db/migrate.js';
import { createPostgresDatabase } from '../db/postgres.js';
import { createLogger } from '../logger.js';

/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database in
 * DATA_DIR when it is unset, then exits. The server migrates on start as well; this is for deploys
 * that want the schema changed before new nodes come up. It reads the same configuration as the
 * server, so it is validated (and refused) the same way.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const db: Database = config.databaseUrl
    ? createPostgresDatabase(config.databaseUrl, { max: 1, onError: (err) => logger.warn({ err: err.message }, 'postgres client error') })
    : await createEmbeddedDatabase(config.dataDir, 'npm run migrate');
  try {
    const applied = await migrate(db);
    await afterMigrations(db, applied, readMigrations()[0]?.version);
    const target = db.kind === 'postgres' ? 'postgres' : `embedded (${config.dataDir})`;
    if (applied.length) logger.info({ database: target, applied }, `applied ${applied.length} migration(s)`);
    else logger.info({ database: target, known: readMigrations().length }, 'database is up to date');
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
