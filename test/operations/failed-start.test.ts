import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../server/config.js';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { createLogger } from '../../server/logger.js';
import { createRuntime } from '../../server/runtime.js';
import { eventually } from '../support/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../support/server.js';

/**
 * A start that fails half-way (here: a seed file with a mistake, applied after the database is open
 * and migrated and Redis is connected) leaves nothing open behind it: no lock on the data folder, no
 * database connection, no timer. The process can report the mistake and exit, and a retry starts clean.
 */
describe('a failed start closes what it opened', function () {
  this.timeout(60_000);
  let dir: string;
  let badSeed: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-failed-start-'));
    badSeed = join(dir, 'bad-seed.json');
    writeFileSync(badSeed, JSON.stringify({ apis: [{ identifier: 'not a url', name: 'Broken', scopes: [] }] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const configFor = (env: Record<string, string | undefined>) =>
    loadConfig({
      DATA_DIR: join(dir, 'data'),
      SEED_FILE: badSeed,
      LOG_LEVEL: 'silent',
      COOKIE_SECRETS: 'failed-start-cookie-secret-0123456789abcdef',
      KEY_ENCRYPTION_SECRET: 'failed-start-key-encryption-secret-0123456',
      ...env,
    });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('the start succeeded'),
      (err: Error) => err,
    );

  it('embedded: the data folder is free again at once', async () => {
    const config = configFor({});
    expect((await failure(createRuntime(config, createLogger('silent')))).message).to.match(/seed/i);
    const db = await createEmbeddedDatabase(config.dataDir, 'the test, after the failed start');
    await db.close();
  });

  const databaseUrl = process.env.DATABASE_URL;
  (databaseUrl ? it : it.skip)(
    databaseUrl ? 'Postgres (and Redis): no connection is left open' : 'Postgres: no connection is left open (skipped: set DATABASE_URL)',
    async () => {
      const url = (await createTestDatabase())!;
      try {
        const config = configFor({ DATABASE_URL: url, REDIS_URL: process.env.REDIS_URL });
        expect((await failure(createRuntime(config, createLogger('silent')))).message).to.match(/seed/i);
        const admin = new pg.Client({ connectionString: databaseUrl });
        await admin.connect();
        try {
          await eventually('the failed start to close its connections', async () => {
            const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [new URL(url).pathname.slice(1)]);
            expect(Number(rows[0].n), 'connections to the database of the failed start').to.equal(0);
          }, 5000);
        } finally {
          await admin.end();
        }
      } finally {
        await dropTestDatabase(url);
      }
    },
  );
});
