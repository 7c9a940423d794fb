import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { UnstorableValueError } from '../../server/db/errors.js';
import { createPostgresDatabase } from '../../server/db/postgres.js';
import { MAX_NAMED } from '../../server/db/statement-names.js';
import type { Database } from '../../server/db/database.js';
import { createTestDatabase, dropTestDatabase } from '../support/server.js';

/**
 * server/db/postgres.ts prepares each parameterised statement once per connection. A node that keeps
 * running while another node's migration changes a table (a rolling upgrade) must not fail its next
 * query with "cached plan must not change result type": it prepares the statement again.
 */
(process.env.DATABASE_URL ? describe : describe.skip)('prepared statements across a migration made by another node', () => {
  let url: string;
  let db: Database;

  before(async () => {
    url = (await createTestDatabase())!;
    db = createPostgresDatabase(url, { max: 1 });
    await db.exec('CREATE TABLE widgets (id int PRIMARY KEY, name text)');
    await db.query('INSERT INTO widgets VALUES ($1, $2)', [1, 'one']);
  });
  after(async () => {
    await db?.close();
    if (url) await dropTestDatabase(url);
  });

  it('keeps answering the same statement after a column is added elsewhere', async () => {
    const read = () => db.query<Record<string, unknown>>('SELECT * FROM widgets WHERE id = $1', [1]);
    // Executed enough times that Postgres would use its cached (generic) plan.
    for (let i = 0; i < 6; i++) expect((await read()).rows[0]).to.deep.equal({ id: 1, name: 'one' });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query("ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'blue'");
    await other.end();
    expect((await read()).rows[0]).to.deep.equal({ id: 1, name: 'one', colour: 'blue' });
    expect((await read()).rows[0]).to.deep.equal({ id: 1, name: 'one', colour: 'blue' });
  });
});

/**
 * server/db/pglite-statements.ts runs every embedded query as a named prepared statement, with Bind,
 * Describe, Execute and Sync sent together. What PGlite's own query() guaranteed must still hold.
 */
describe('prepared statements on the embedded database', () => {
  let dir: string;
  let db: Database;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-prepared-'));
    db = await createEmbeddedDatabase(dir);
    await db.exec('CREATE TABLE widgets (id int PRIMARY KEY, name text, tags text[], data jsonb, made timestamptz, big bigint, ok boolean)');
  });
  after(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends and reads back each type the store layer uses, and counts affected rows', async () => {
    const made = new Date('2026-01-02T03:04:05.678Z');
    const insert = await db.query('INSERT INTO widgets VALUES ($1, $2, $3, $4, $5, $6, $7)', [1, 'one', ['a', 'b c'], { nested: { n: 1 }, list: [1, 'x'] }, made, 9007199254740991, true]);
    expect(insert.rowCount).to.equal(1);
    const { rows } = await db.query('SELECT * FROM widgets WHERE id = $1', [1]);
    // int8 comes back as a number, as the pg pool gives it (server/db/postgres.ts).
    expect(rows).to.deep.equal([{ id: 1, name: 'one', tags: ['a', 'b c'], data: { nested: { n: 1 }, list: [1, 'x'] }, made, big: 9007199254740991, ok: true }]);
    await db.query('INSERT INTO widgets (id, name) VALUES ($1, $2)', [2, null]);
    expect((await db.query('SELECT name, tags FROM widgets WHERE id = $1', [2])).rows).to.deep.equal([{ name: null, tags: null }]);
    expect((await db.query('UPDATE widgets SET ok = $1 WHERE id = ANY($2)', [false, [1, 2, 3]])).rowCount).to.equal(2);
    expect((await db.query('SELECT count(*)::int AS n FROM widgets')).rows).to.deep.equal([{ n: 2 }]);
  });

  it('answers the next query after a failed one, and a NUL as unstorable', async () => {
    const failed = await db.query('INSERT INTO widgets (id) VALUES ($1)', [1]).catch((err: unknown) => err);
    expect((failed as { code?: string }).code).to.equal('23505');
    expect(await db.query('SELECT nope FROM widgets').catch((err: unknown) => (err as { code?: string }).code)).to.equal('42703');
    expect(await db.query('SELECT id FROM widgets WHERE name = $1', ['a\u0000b']).catch((err: unknown) => err)).to.be.instanceOf(UnstorableValueError);
    expect((await db.query('SELECT id FROM widgets WHERE id = $1', [1])).rows).to.deep.equal([{ id: 1 }]);
  });

  it('keeps a query outside a transaction out of it, while the transaction is open and when it rolls back', async () => {
    let reached!: () => void;
    const inside = new Promise<void>((resolve) => (reached = resolve));
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const tx = db
      .transaction(async (q) => {
        await q.query('INSERT INTO widgets (id, name) VALUES ($1, $2)', [10, 'in the transaction']);
        reached();
        await held;
        throw new Error('roll back');
      })
      .catch((err: Error) => err.message);
    await inside;
    // Waits for the transaction instead of running inside it, so its write survives the rollback.
    const outside = db.query('INSERT INTO widgets (id, name) VALUES ($1, $2)', [11, 'outside']);
    let settled = false;
    void outside.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).to.equal(false);
    finish();
    expect(await tx).to.equal('roll back');
    await outside;
    expect((await db.query('SELECT id FROM widgets WHERE id = ANY($1) ORDER BY id', [[10, 11]])).rows).to.deep.equal([{ id: 11 }]);
  });

  it('prepares a statement again when a migration changes what it returns', async () => {
    const read = () => db.query<Record<string, unknown>>('SELECT id, name FROM widgets WHERE id = $1', [1]);
    const all = () => db.query<Record<string, unknown>>('SELECT * FROM widgets WHERE id = $1', [2]);
    for (let i = 0; i < 6; i++) await Promise.all([read(), all()]);
    await db.exec("ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'blue'");
    expect((await all()).rows[0]).to.include({ id: 2, colour: 'blue' });
    expect((await read()).rows[0]).to.deep.equal({ id: 1, name: 'one' });
  });

  it('runs statements past the named ones unnamed, with the same answers', async () => {
    // Texts that differ only in a comment: each its own statement.
    for (let i = 0; i <= MAX_NAMED + 5; i++) {
      const { rows } = await db.query<{ id: number }>(`SELECT id FROM widgets WHERE id = $1 -- ${i}`, [1]);
      expect(rows).to.deep.equal([{ id: 1 }]);
    }
    expect((await db.query('SELECT name FROM widgets WHERE id = $1', [1])).rows).to.deep.equal([{ name: 'one' }]);
  });
});
