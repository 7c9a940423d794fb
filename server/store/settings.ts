import type { Queryable } from '../db/database.js';

/** Run-time settings (migration 017), one row each; absent means "not set". */
export async function findSetting<T>(db: Queryable, name: string): Promise<T | undefined> {
  const { rows } = await db.query<{ value: T }>('SELECT value FROM settings WHERE name = $1', [name]);
  return rows[0]?.value;
}

export async function saveSetting(db: Queryable, name: string, value: unknown): Promise<void> {
  await db.query(
    `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    [name, JSON.stringify(value)],
  );
}

export async function deleteSetting(db: Queryable, name: string): Promise<void> {
  await db.query('DELETE FROM settings WHERE name = $1', [name]);
}
