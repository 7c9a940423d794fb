import { expect } from 'chai';
import pg from 'pg';
import { createPostgresDatabase } from '../../server/db/postgres.js';
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
