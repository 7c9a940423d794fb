import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../paths.js';
import type { Database } from './database.js';

/** Arbitrary but fixed: every node asks for the same lock, so only one migrates at a time. */
const MIGRATION_LOCK = 0x6761_7465; // "gate"

export interface Migration {
  version: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = projectPath('migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return { version: file.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that
 * nodes starting together do not race. A landed migration whose file changed is refused: edits go
 * in a new file.
 */
export async function migrate(db: Database, migrations = readMigrations()): Promise<string[]> {
  return db.withAdvisoryLock(MIGRATION_LOCK, async (q) => {
    await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await q.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
    const applied = new Map(rows.map((r) => [r.version, r.checksum]));
    const done: string[] = [];
    for (const m of migrations) {
      const seen = applied.get(m.version);
      if (seen !== undefined) {
        if (seen !== m.checksum) {
          throw new Error(`migration ${m.version} was edited after it was applied; add a new migration instead`);
        }
        continue;
      }
      await q.query('BEGIN');
      try {
        await q.exec(m.sql);
        await q.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [m.version, m.checksum]);
        await q.query('COMMIT');
      } catch (err) {
        await q.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${m.version} failed: ${(err as Error).message}`, { cause: err });
      }
      done.push(m.version);
    }
    return done;
  });
}

/** Versions known to this build that the database has not applied (all of them on an empty one). */
export async function pendingMigrations(db: Database, migrations = readMigrations()): Promise<string[]> {
  let applied = new Set<string>();
  try {
    applied = new Set((await db.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
  } catch {
    /* no table yet: nothing applied */
  }
  return migrations.map((m) => m.version).filter((v) => !applied.has(v));
}
