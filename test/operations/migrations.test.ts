import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from '../../server/db/database.js';
import { DataDirInUseError } from '../../server/db/data-dir-lock.js';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { type Migration, migrate, readMigrations } from '../../server/db/migrate.js';
import { createPostgresDatabase } from '../../server/db/postgres.js';
import { createTestDatabase, dropTestDatabase } from '../support/server.js';

/**
 * The migration runner on an empty database of each kind: every landed migration replays in order,
 * a second run applies nothing, an edited landed migration is refused, a failing one leaves nothing
 * behind, and (on a real Postgres) nodes that start together migrate once between them.
 */

interface Target {
  db: Database;
  /** Another connection to the same database, as a second node would have (Postgres only). */
  second?: () => Database;
  /** The embedded database's folder, which no second process may open (PGlite only). */
  dataDir?: string;
  close(): Promise<void>;
}

const sha256 = (sql: string) => createHash('sha256').update(sql).digest('hex');
const extra = (version: string, sql: string): Migration => ({ version, sql, checksum: sha256(sql) });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  return expect.fail('expected migrate() to be refused');
}

async function tableExists(db: Database, name: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`,
    [name],
  );
  return Number(rows[0].n) === 1;
}

async function recorded(db: Database): Promise<{ version: string; checksum: string }[]> {
  const { rows } = await db.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version');
  return rows;
}

describe('migration files', () => {
  it('are numbered, unique by number, and start at 001_initial', () => {
    const versions = readMigrations().map((m) => m.version);
    expect(versions[0]).to.equal('001_initial');
    expect(versions).to.deep.equal([...versions].sort());
    expect(new Set(versions.map((v) => v.split('_')[0])).size, 'two migrations share a number').to.equal(versions.length);
  });
});

function migrationSuite(name: string, open: () => Promise<Target>, nodes: 'several' | 'one') {
  describe(`migrations on ${name}`, function () {
    this.timeout(60_000);
    let landed: Migration[];
    let target: Target;
    before(async () => {
      target = await open();
    });
    after(async () => target?.close());
    // Every case starts from an empty database: a new schema is as empty as a new database, and far
    // quicker than a new PGlite.
    beforeEach(async () => {
      // Read per case: other people land migrations while this runs, and a case compares with them.
      landed = readMigrations();
      await target.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      const { rows } = await target.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(Number(rows[0].n)).to.equal(0);
    });

    it('replays every migration on an empty database, then applies nothing the second time', async () => {
      const { db } = target;
      expect(await tableExists(db, 'oidc_artifacts')).to.equal(false);

      const first = await migrate(db);
      expect(first).to.deep.equal(landed.map((m) => m.version));
      expect(await recorded(db)).to.deep.equal(landed.map((m) => ({ version: m.version, checksum: m.checksum })));
      for (const table of ['apis', 'clients', 'client_secrets', 'users', 'consents', 'oidc_artifacts', 'signing_keys']) {
        expect(await tableExists(db, table), table).to.equal(true);
      }

      expect(await migrate(db)).to.deep.equal([]);
      expect(await recorded(db)).to.have.length(landed.length);
    });

    it('applies only what is new when a migration is added later', async () => {
      const { db } = target;
      await migrate(db, landed);
      const later = extra('999_later', 'CREATE TABLE migration_probe_later (id int PRIMARY KEY);');
      expect(await migrate(db, [...landed, later])).to.deep.equal(['999_later']);
      expect(await tableExists(db, 'migration_probe_later')).to.equal(true);
      expect(await migrate(db, [...landed, later])).to.deep.equal([]);
    });

    it('refuses a landed migration whose recorded checksum no longer matches, and applies nothing after it', async () => {
      const { db } = target;
      await migrate(db, landed);
      await db.query('UPDATE schema_migrations SET checksum = $1 WHERE version = $2', ['0'.repeat(64), landed[0].version]);
      const pending = extra('999_after_edit', 'CREATE TABLE migration_probe_after_edit (id int);');

      const err = await rejection(migrate(db, [...landed, pending]));
      expect(err.message).to.equal(`migration ${landed[0].version} was edited after it was applied; add a new migration instead`);
      expect(await tableExists(db, 'migration_probe_after_edit')).to.equal(false);
      expect((await recorded(db)).map((r) => r.version)).to.not.include('999_after_edit');
    });

    it('refuses a landed migration whose file was edited', async () => {
      const { db } = target;
      await migrate(db, landed);
      const last = landed[landed.length - 1];
      const edited = { ...last, sql: `${last.sql}\n-- a harmless-looking edit\n`, checksum: sha256(`${last.sql}\n-- a harmless-looking edit\n`) };
      const err = await rejection(migrate(db, [...landed.slice(0, -1), edited]));
      expect(err.message).to.match(new RegExp(`^migration ${last.version} was edited after it was applied`));
    });

    it('rolls a failing migration back entirely and records nothing, so a fixed one can run', async () => {
      const { db } = target;
      await migrate(db, landed);
      const broken = extra('998_broken', 'CREATE TABLE migration_probe_broken (id int);\nSELECT * FROM no_such_table;');
      const err = await rejection(migrate(db, [...landed, broken]));
      expect(err.message).to.match(/^migration 998_broken failed: .*no_such_table/);
      expect(await tableExists(db, 'migration_probe_broken')).to.equal(false);
      expect((await recorded(db)).map((r) => r.version)).to.not.include('998_broken');

      const fixed = extra('998_broken', 'CREATE TABLE migration_probe_broken (id int);');
      expect(await migrate(db, [...landed, fixed])).to.deep.equal(['998_broken']);
      expect(await tableExists(db, 'migration_probe_broken')).to.equal(true);
    });

    // PGlite belongs to one process: there is no second node to race with, only one to refuse.
    if (nodes === 'one') {
      it('has one node only: another process on the folder is refused before it migrates anything', async () => {
        const err = await rejection(createEmbeddedDatabase(target.dataDir!, 'a second node'));
        expect(err).to.be.instanceOf(DataDirInUseError);
        expect(await tableExists(target.db, 'schema_migrations')).to.equal(false);
      });
      return;
    }

    it('lets nodes that start together migrate once between them', async () => {
      const nodes = [target.db, ...Array.from({ length: 3 }, () => target.second!())];
      try {
        const applied = await Promise.all(nodes.map((db) => migrate(db, landed)));
        // Under the advisory lock one node applies everything; the others find it done.
        expect(applied.flat().sort()).to.deep.equal(landed.map((m) => m.version));
        expect(applied.filter((a) => a.length > 0)).to.have.length(1);
        expect(await recorded(target.db)).to.have.length(landed.length);
      } finally {
        await Promise.all(nodes.slice(1).map((db) => db.close()));
      }
    });
  });
}

migrationSuite('PGlite (embedded)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-migrate-'));
  const db = await createEmbeddedDatabase(dir);
  return {
    db,
    dataDir: dir,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, 'one');

if (process.env.DATABASE_URL) {
  migrationSuite('Postgres (real server, fresh database)', async () => {
    const url = (await createTestDatabase())!;
    const db = createPostgresDatabase(url);
    return {
      db,
      second: () => createPostgresDatabase(url, { max: 2 }),
      async close() {
        await db.close();
        await dropTestDatabase(url);
      },
    };
  }, 'several');
} else {
  describe('migrations on Postgres', () => {
    it.skip('skipped: set DATABASE_URL to a real Postgres to run it (the PGlite variant runs without)');
  });
}
